"""Where a round stands for the one asking: `/status`, and the table menu of `/fill`.

The service takes the `Actor`; what they see is `Actor.scope` (the one visibility rule), and
whether they review (the round's picture and the review buttons) is `Actor.reviews`. Reads run
in one read-only transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.messages import Notice, Refused
from bot.progress import FormProgress, form_progress
from bot.roles import Actor
from bot.status.report import RoundReport, round_report
from dialogs.loader import get_layout
from storage.db import Database
from storage.records import Department, Round
from storage.repos import DepartmentRepository, FormRepository, RoundRepository


@dataclass(frozen=True)
class StatusView:
    report: RoundReport
    now: datetime
    by_quality: bool
    reviewer: bool  # the actor reviews: the round as a picture, and a button per form to review

    @property
    def round(self) -> Round:
        return self.report.round


@dataclass(frozen=True)
class DepartmentForms:
    """A staff member's department and its forms of the round (the /fill menu)."""

    department: Department
    forms: tuple[FormProgress, ...]


class StatusService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    def round_status(self, actor: Actor, year: int | None, by_quality: bool) -> StatusView:
        """The latest open round (or the open round of `year`), department by department, for
        the departments the actor may see; raises Refused (a Notice)."""
        scope = actor.scope
        now = self.clock.now()
        with self.database.reading() as session:
            rounds = RoundRepository(session)
            round_ = rounds.latest_open() if year is None else rounds.open_of_year(year)
            if round_ is None:
                raise Refused(Notice.NO_ROUND)
            if scope == frozenset():
                raise Refused(Notice.NO_DEPARTMENTS_IN_SCOPE)
            report = round_report(session, round_, now, scope)
        if by_quality:
            report = report.by_quality()
        return StatusView(report, now, by_quality, actor.reviews)

    def department_forms(self, actor: Actor, round_: Round) -> DepartmentForms | None:
        """The forms of the actor's own department (None: they fill for none)."""
        department_id = actor.user.department_id
        if not actor.fills or department_id is None:
            return None
        layout = get_layout(round_.layout)
        with self.database.reading() as session:
            department = DepartmentRepository(session).get(department_id)
            forms = FormRepository(session).list_for_department(department_id, round_.id)
        if department is None:
            return None
        return DepartmentForms(department, tuple(form_progress(layout, f) for f in forms))
