"""Where a round stands, department by department (for /status and the daily digest).

Departments come overdue first (the deadline has passed and something is not submitted), then
the unfinished ones from the least advanced, then the finished ones. Staff who blocked the bot
are listed with their department: they get no reminders, so the supervisor has to call them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot.progress import DONE_STATUSES, FormProgress, form_progress
from dialogs.checks.indicators import QualityFigure
from dialogs.definition import TableKind
from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.loader import get_layout
from dialogs.quality import department_quality
from dialogs.state import FormStatus
from storage.records import Department, Role, Round
from storage.repos import DepartmentRepository, FormRepository, UserRepository


@dataclass(frozen=True)
class DepartmentReport:
    department: Department
    forms: tuple[FormProgress, ...]
    blocked: tuple[str, ...]  # display names of staff who blocked the bot
    deadline_passed: bool
    quality: QualityFigure = field(default_factory=lambda: QualityFigure(0, 0, 0, 0, 0))

    @property
    def measurable_percent(self) -> int:
        """Share of applicable indicators a reviewer can check (定量 with a unit)."""
        applicable = self.quality.total - self.quality.not_applicable
        return 100 * self.quality.measurable // applicable if applicable else 0

    @property
    def name(self) -> str:
        return self.department.name

    @property
    def complete(self) -> bool:
        """Table A exists and every form is submitted or approved."""
        has_a = any(form.kind is TableKind.A for form in self.forms)
        return has_a and all(form.status in DONE_STATUSES for form in self.forms)

    @property
    def overdue(self) -> bool:
        return self.deadline_passed and not self.complete

    @property
    def percent(self) -> int:
        if not self.forms:
            return 0
        return sum(form.percent for form in self.forms) // len(self.forms)

    @property
    def awaiting_review(self) -> tuple[FormProgress, ...]:
        return tuple(f for f in self.forms if f.status is FormStatus.SUBMITTED)


@dataclass(frozen=True)
class RoundReport:
    round: Round
    departments: tuple[DepartmentReport, ...]
    deadline_passed: bool

    @property
    def complete_count(self) -> int:
        return sum(1 for d in self.departments if d.complete)

    @property
    def overdue_count(self) -> int:
        return sum(1 for d in self.departments if d.overdue)

    @property
    def unfinished(self) -> tuple[DepartmentReport, ...]:
        return tuple(d for d in self.departments if not d.complete)

    @property
    def status_counts(self) -> dict[str, int]:
        """Forms per status label, plus departments that have not started."""
        counts = Counter(f.status for d in self.departments for f in d.forms)
        found = {status.label: counts[status] for status in FormStatus if counts[status]}
        not_started = sum(1 for d in self.departments if not d.forms)
        if not_started:
            found["未开始"] = not_started
        return found

    @property
    def awaiting_review(self) -> tuple[tuple[DepartmentReport, FormProgress], ...]:
        return tuple((d, f) for d in self.departments for f in d.awaiting_review)

    @property
    def blocked_count(self) -> int:
        return sum(len(d.blocked) for d in self.departments)

    def by_quality(self) -> RoundReport:
        """Departments with the weakest indicators first (fewest checkable, most advice)."""
        ordered = sorted(
            self.departments,
            key=lambda d: (d.measurable_percent, -d.quality.warnings, d.name),
        )
        return RoundReport(self.round, tuple(ordered), self.deadline_passed)

    def only(self, department_ids: Collection[int] | None) -> RoundReport:
        """The same report limited to some departments (None: all)."""
        if department_ids is None:
            return self
        kept = tuple(d for d in self.departments if d.department.id in department_ids)
        return RoundReport(self.round, kept, self.deadline_passed)


def round_report(
    session: Session, round_: Round, now: datetime, department_ids: Collection[int] | None = None
) -> RoundReport:
    """The report for the departments in `department_ids` (None: all of them)."""
    layout = get_layout(round_.layout)
    departments = [
        d
        for d in DepartmentRepository(session).list_all()
        if department_ids is None or d.id in department_ids
    ]
    forms = FormRepository(session).list_for_round(round_.id)
    users = UserRepository(session)
    deadline_passed = now >= round_.deadline
    reports = []
    for department in departments:
        progress = tuple(
            form_progress(layout, f) for f in forms if f.department_id == department.id
        )
        blocked = tuple(
            u.display_name or str(u.telegram_id)
            for u in users.list_for_department(department.id)
            if u.role is Role.STAFF and u.bot_blocked_at is not None
        )
        mine = sorted((f for f in forms if f.department_id == department.id), key=lambda f: f.id)
        filing = DepartmentFiling(
            department=department.name,
            year=round_.year,
            layout=layout,
            table_a=next((FiledForm(f.id, f.state) for f in mine if f.kind is TableKind.A), None),
            directions=tuple(FiledForm(f.id, f.state) for f in mine if f.kind is TableKind.C),
        )
        reports.append(
            DepartmentReport(
                department, progress, blocked, deadline_passed, department_quality(filing)
            )
        )
    reports.sort(key=lambda r: (not r.overdue, r.complete, r.percent, r.name))
    return RoundReport(round_, tuple(reports), deadline_passed)
