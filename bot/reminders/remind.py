"""/remind: what a reminder asked for now did, told honestly.

The command plans the reminder (Planner.plan_manual), sends it at once unless the quiet hours
hold it, and then reads the reminder log to say what happened to each person: reminded now (how
many, in which departments), held until the quiet hours end, reminded already this minute (the
log's unique key makes a repeated /remind a no-op), not delivered (blocked the bot), or nobody to
remind (every form submitted, or no staff the bot can reach).
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.reminders.planner import Planned
from bot.reminders.schedule import MANUAL
from bot.texts import local_text, render
from storage.db import Database
from storage.records import Department, ReminderStatus, Round, User
from storage.repos import DepartmentRepository, ReminderLogRepository, UserRepository


@dataclass(frozen=True)
class Group:
    """Some people of one department."""

    department: str
    people: tuple[str, ...]


@dataclass(frozen=True)
class RemindOutcome:
    due_at: datetime
    held: bool  # the quiet hours hold the reminder until due_at
    sent: tuple[Group, ...]  # reminded by this /remind
    waiting: tuple[Group, ...]  # planned by this /remind, not sent yet
    already: tuple[Group, ...]  # had this minute's reminder (or the morning's) already
    undelivered: tuple[str, ...]  # blocked the bot or could not be reached
    unreachable: tuple[str, ...]  # departments with open forms and nobody to message
    forms: int

    @property
    def nothing_to_remind(self) -> bool:
        return not (self.sent or self.waiting or self.already)


def outcome(
    database: Database, round_: Round, planned: Planned, due_at: datetime, now: datetime
) -> RemindOutcome:
    """What became of the reminder planned by /remind (read after sending it)."""
    with database.reading() as session:
        log = ReminderLogRepository(session)
        statuses = log.statuses_at(round_.id, MANUAL, due_at, planned.users)
        departments = DepartmentRepository(session)
        users = UserRepository(session)
        names = {user_id: _name(users.get(user_id)) for user_id in planned.users}
        department_names = {
            department_id: _department(departments.get(department_id))
            for department_id in (*planned.by_department, *planned.unreachable)
        }

    def groups(wanted: Set[int]) -> tuple[Group, ...]:
        return tuple(
            Group(department_names[department_id], tuple(names[u] for u in sorted(people & wanted)))
            for department_id, people in planned.by_department.items()
            if people & wanted
        )

    new: set[int] = set()
    delivered: set[int] = set()
    undelivered: set[int] = set()
    pending: set[int] = set()
    for user_id in planned.users:
        found = statuses.get(user_id, set())
        if user_id in planned.new_users:
            new.add(user_id)
        if ReminderStatus.SENT in found:
            delivered.add(user_id)
        elif found & {ReminderStatus.BLOCKED, ReminderStatus.FAILED}:
            undelivered.add(user_id)
        else:
            pending.add(user_id)
    return RemindOutcome(
        due_at=due_at,
        held=due_at > now,
        sent=groups(new & delivered),
        waiting=groups(new & pending),
        already=groups((planned.users - new) - undelivered),
        undelivered=tuple(names[u] for u in sorted(undelivered)),
        unreachable=tuple(sorted(department_names[d] for d in planned.unreachable)),
        forms=len(planned.forms),
    )


def _name(user: User | None) -> str:
    return (user.display_name if user is not None else "") or "（未命名）"


def _department(department: Department | None) -> str:
    return department.name if department is not None else "（未知部门）"


def reply(found: RemindOutcome, round_: Round, zone: ZoneInfo) -> str:
    policy = round_.policy
    return render(
        "remind",
        found=found,
        when=local_text(found.due_at, zone),
        quiet=f"{policy.quiet_start:%H:%M}–{policy.quiet_end:%H:%M}",
        people=_people,
    )


def _people(groups: Iterable[Group]) -> str:
    """宣传部 2 人（张三、李四）；财政局 1 人（王五）"""
    return "；".join(f"{g.department} {len(g.people)} 人（{'、'.join(g.people)}）" for g in groups)


