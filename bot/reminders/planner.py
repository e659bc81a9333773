"""From the database to reminder-log rows: who must be reminded of which form, and when.

For every open round whose latest reminder moment has passed (schedule.latest_due), each staff
member of a department gets one row per form of the department that is still open for them
(draft or returned), unless they blocked the bot. Rows are inserted with
ReminderLogRepository.schedule (INSERT … ON CONFLICT DO NOTHING on user, form, due_at, kind), and
(due_at, kind) is a pure function of the round, so planning is idempotent: every tick of every
process may plan the same moment again, before or after a restart, and at most one row results.

A department that has not opened its table A yet gets an empty draft of it here: the log needs a
form to point at, and "has not started" is exactly who a reminder is for.

Nothing is planned for a round while it is in its quiet hours: the moment is planned when they
end (the dispatcher also refuses to send in quiet hours, for rows planned before an outage).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.reminders.schedule import (
    DEFAULT_CATCH_UP,
    MANUAL,
    Due,
    in_quiet_hours,
    latest_due,
    manual_due,
)
from dialogs.definition import TableKind
from storage.db import Database
from storage.records import Role, Round, StoredForm, User
from storage.repos import (
    DepartmentRepository,
    FormRepository,
    ReminderLogRepository,
    RoundRepository,
    UserRepository,
)

_LOGGER = logging.getLogger(__name__)


def reachable_staff(session: Session, department_id: int) -> list[User]:
    """Staff of a department the bot can message (not blocked)."""
    users = UserRepository(session).list_for_department(department_id)
    return [u for u in users if u.role is Role.STAFF and u.bot_blocked_at is None]


def open_forms(
    session: Session, department_id: int, round_id: int, now: datetime
) -> list[StoredForm]:
    """The department's forms still to be filled; an empty table A is created if missing."""
    forms = FormRepository(session)
    found = forms.list_for_department(department_id, round_id)
    if not any(form.kind is TableKind.A for form in found):
        found.append(forms.get_or_create(department_id, round_id, TableKind.A, now=now))
    return [form for form in found if form.status.editable]


@dataclass(frozen=True)
class Planned:
    added: int  # new rows (the others were planned before)
    users: frozenset[int]  # who is reminded
    forms: frozenset[int]  # of which forms
    # For /remind's reply: the users with a row added now (the others had this moment's
    # reminder planned already), the reminded users by department, and the departments with
    # unfinished forms but nobody the bot can message.
    new_users: frozenset[int] = frozenset()
    by_department: Mapping[int, frozenset[int]] = field(default_factory=dict)
    unreachable: frozenset[int] = frozenset()


def schedule_for_departments(
    session: Session,
    round_: Round,
    department_ids: Iterable[int] | None,
    due_at: datetime,
    kind: str,
    now: datetime,
) -> Planned:
    """Log one reminder per (reachable staff member, open form) of the departments (None: of
    every department)."""
    if department_ids is None:
        department_ids = [d.id for d in DepartmentRepository(session).list_all()]
    log = ReminderLogRepository(session)
    added = 0
    users: set[int] = set()
    forms: set[int] = set()
    new_users: set[int] = set()
    by_department: dict[int, frozenset[int]] = {}
    unreachable: set[int] = set()
    for department_id in department_ids:
        staff = reachable_staff(session, department_id)
        if not staff:
            if has_open_work(session, department_id, round_.id):
                unreachable.add(department_id)
            continue
        reminded: set[int] = set()
        for form in open_forms(session, department_id, round_.id, now):
            forms.add(form.id)
            for user in staff:
                reminded.add(user.id)
                if log.schedule(user.id, form.id, round_.id, due_at, kind, now=now):
                    added += 1
                    new_users.add(user.id)
        users |= reminded
        if reminded:
            by_department[department_id] = frozenset(reminded)
    return Planned(
        added,
        frozenset(users),
        frozenset(forms),
        frozenset(new_users),
        by_department,
        frozenset(unreachable),
    )


def has_open_work(session: Session, department_id: int, round_id: int) -> bool:
    """Whether the department has a form to fill (or has not started), without creating one."""
    found = FormRepository(session).list_for_department(department_id, round_id)
    has_a = any(form.kind is TableKind.A for form in found)
    return not has_a or any(form.status.editable for form in found)


class Planner:
    """Plans the policy's reminders (`plan`, every tick) and on-demand ones (`plan_manual`)."""

    def __init__(
        self, database: Database, zone: ZoneInfo, *, catch_up: timedelta = DEFAULT_CATCH_UP
    ) -> None:
        self.database = database
        self.zone = zone
        self.catch_up = catch_up
        # Moments this process has planned: only a shortcut (so a tick does not walk every
        # department each minute); the database's unique key is what makes planning safe.
        self._planned: set[tuple[int, str, datetime]] = set()

    def plan(self, now: datetime) -> int:
        """Plan every open round's latest due reminder; returns the number of new rows."""
        with self.database.transaction() as session:
            rounds = RoundRepository(session).list_open()
        added = 0
        for round_ in rounds:
            due = self.due(round_, now)
            if due is None:
                continue
            key = (round_.id, due.kind, due.due_at)
            if key in self._planned:
                continue
            with self.database.transaction() as session:
                planned = schedule_for_departments(session, round_, None, due.due_at, due.kind, now)
            added += planned.added
            self._planned.add(key)
            _LOGGER.info("round %s: planned %s (%s)", round_.id, due.kind, due.due_at.isoformat())
        return added

    def due(self, round_: Round, now: datetime) -> Due | None:
        """The moment to plan for a round now, or None (nothing due, or quiet hours)."""
        if in_quiet_hours(now, round_.policy, self.zone):
            return None
        return latest_due(round_.deadline, round_.policy, self.zone, now, catch_up=self.catch_up)

    def plan_manual(
        self, round_: Round, department_ids: Iterable[int] | None, now: datetime
    ) -> tuple[datetime, Planned]:
        """Plan a reminder asked for now (/remind) for the departments' open forms (None: all);
        returns when it goes out (now, or when the quiet hours end) and whom it reaches.
        Repeating it within the same minute plans nothing more."""
        due_at = manual_due(now, round_.policy, self.zone)
        with self.database.transaction() as session:
            planned = schedule_for_departments(session, round_, department_ids, due_at, MANUAL, now)
        return due_at, planned
