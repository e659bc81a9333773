"""Test helpers of the reminder tests: an in-memory transport and a small world of people.

`World` is two departments with staff, a supervisor and an open 2021 round (in the 2021 layout
unless told) whose deadline is 2021-03-31 17:00 Shanghai time (the seed's), built directly in the
database.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.clock import Timer
from bot.reminders.transport import ChatBlocked, DeliveryError, OutgoingMessage
from dialogs.definition import TableKind
from dialogs.state import FormStatus
from storage.db import Database
from storage.records import Department, ReminderEntry, ReminderPolicy, Role, Round, User
from storage.repos import (
    DepartmentRepository,
    FormRepository,
    ReminderLogRepository,
    RoundRepository,
    UserRepository,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINE = datetime(2021, 3, 31, 17, 0, tzinfo=SHANGHAI)
_TELEGRAM_IDS = itertools.count(50_001)


async def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll for a condition nothing notifies about (the database, another process)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"condition not met within {timeout:g}s"
        await asyncio.sleep(0.01)


def shanghai(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2021, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


class RecordingTransport:
    """Delivers into a list. `failures[chat]` are raised (in order) before a chat's next
    deliveries succeed; `blocked` chats raise ChatBlocked; `before_send` runs first."""

    def __init__(self, timer: Timer | None = None) -> None:
        self.timer = timer
        self.sent: list[tuple[float, OutgoingMessage]] = []
        self.attempts: list[tuple[float, int]] = []
        self.failures: dict[int, list[DeliveryError]] = {}
        self.blocked: set[int] = set()
        self.before_send: Callable[[OutgoingMessage], Awaitable[None]] | None = None

    async def send(self, message: OutgoingMessage) -> None:
        now = self.timer.monotonic() if self.timer is not None else 0.0
        self.attempts.append((now, message.chat_id))
        if self.before_send is not None:
            await self.before_send(message)
        if message.chat_id in self.blocked:
            raise ChatBlocked("Forbidden: bot was blocked by the user")
        pending = self.failures.get(message.chat_id)
        if pending:
            raise pending.pop(0)
        self.sent.append((now, message))

    def to(self, chat_id: int) -> list[OutgoingMessage]:
        return [message for _, message in self.sent if message.chat_id == chat_id]

    def chats(self) -> list[int]:
        return [message.chat_id for _, message in self.sent]


@dataclass
class World:
    database: Database
    round: Round
    departments: dict[str, Department]
    people: dict[str, User] = field(default_factory=dict)

    def user(self, name: str) -> User:
        return self.people[name]

    def chat(self, name: str) -> int:
        return self.people[name].telegram_id

    def table_a(self, department: str) -> int:
        with self.database.transaction() as session:
            form = FormRepository(session).get_or_create(
                self.departments[department].id, self.round.id, TableKind.A
            )
            return form.id

    def set_status(self, form_id: int, status: FormStatus, comment: str | None = None) -> None:
        with self.database.transaction() as session:
            forms = FormRepository(session)
            form = forms.load(form_id)
            forms.set_status(
                form_id, status, expected_version=form.version, actor_user_id=None, comment=comment
            )

    def log(self) -> list[ReminderEntry]:
        with self.database.transaction() as session:
            log = ReminderLogRepository(session)
            forms = FormRepository(session).list_for_round(self.round.id)
            return sorted(
                (entry for form in forms for entry in log.list_for_form(form.id)),
                key=lambda e: e.id,
            )

    def add_person(
        self,
        name: str,
        role: Role,
        department: str | None = None,
        telegram_id: int | None = None,
    ) -> User:
        with self.database.transaction() as session:
            department_id = self.departments[department].id if department else None
            number = next(_TELEGRAM_IDS) if telegram_id is None else telegram_id
            user = UserRepository(session).create(number, name, role, department_id)
        self.people[name] = user
        return user

    def oversee(self, name: str, departments: Iterable[str]) -> None:
        with self.database.transaction() as session:
            users = UserRepository(session)
            for department in departments:
                users.oversee(self.people[name].id, self.departments[department].id)

    def block(self, name: str) -> None:
        with self.database.transaction() as session:
            UserRepository(session).mark_blocked(self.people[name].id)


def build_world(
    database: Database,
    *,
    staff: dict[str, list[str]] | None = None,
    policy: ReminderPolicy | None = None,
    deadline: datetime = DEADLINE,
    telegram_id: Callable[[str], int] | None = None,
    layout: str = "2021",
) -> World:
    """Departments with their staff (default: 宣传部 张三 李四, 财政局 王五), a supervisor 审核人
    of 宣传部 only, a district supervisor 区审核人, and the round. `telegram_id(name)` gives
    people the ids of fake Telegram users."""
    staff = staff if staff is not None else {"宣传部": ["张三", "李四"], "财政局": ["王五"]}
    with database.transaction() as session:
        departments = {name: DepartmentRepository(session).create(name) for name in staff}
        round_ = RoundRepository(session).create(
            2021, layout, deadline, "2021年预算绩效目标填报", policy=policy
        )
    world = World(database, round_, departments)
    number = telegram_id or (lambda _name: next(_TELEGRAM_IDS))
    for department, names in staff.items():
        for name in names:
            world.add_person(name, Role.STAFF, department, number(name))
    world.add_person("审核人", Role.SUPERVISOR, telegram_id=number("审核人"))
    world.oversee("审核人", ["宣传部"])
    world.add_person("区审核人", Role.DISTRICT_SUPERVISOR, telegram_id=number("区审核人"))
    return world
