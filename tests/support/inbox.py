"""Staff filling table A in chat with a bot process that may be killed at any moment.

Each person acts in lockstep, as a person does: one update (a typed answer or a button press)
at a time, the next once the bot has answered it. "Answered" is read where it is certain: the
inbox row of the update is marked replied (the bot marks it after its handlers returned) and a
prompt (a message with buttons) was sent to the chat since the update. The step to act on is the
one the database holds, and what to do there comes from the seed script.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dialogs.actions import Action, ActionKind, FilingContext
from dialogs.definition import TableKind
from dialogs.engine import Engine
from dialogs.loader import get_layout
from dialogs.state import FormState
from storage.db import Database
from storage.records import Role, StoredForm
from storage.repos import (
    DepartmentRepository,
    FormRepository,
    InboxEntry,
    InboxRepository,
    RoundRepository,
    UserRepository,
)
from tests.support.fake_bot_api import BotMessage, FakeBotApi, TgUser
from tests.support.scripted import SeedScript
from tests.support.seed import KEY_TASKS, TABLE_A_ANSWERS, TABLE_A_INDICATORS

TABLE_A = "部门整体支出绩效目标表"
ENGINE = Engine(get_layout("2021").table_a)
YEAR = 2021


def seed_script() -> SeedScript:
    return SeedScript(TABLE_A_ANSWERS, {"key_tasks": KEY_TASKS}, TABLE_A_INDICATORS)


def offline(steps: int, department: str) -> FormState:
    """The script's first `steps` actions through the bare engine: what chat must have stored
    after applying each of them exactly once."""
    script, state = seed_script(), ENGINE.resume(FormState())
    context = FilingContext(year=YEAR, department_name=department)
    for _ in range(steps):
        scripted = script.next_action(state.cursor, state)
        assert scripted is not None, "the script ended"
        state = ENGINE.handle(state, scripted.action, context).state
    return state


def comparable(state: FormState) -> tuple[object, ...]:
    rows = tuple((r.level2, r.name, r.value, r.not_applicable) for r in state.indicators)
    values = {k: v for k, v in state.values.items() if not k.startswith("_")}
    return values, state.groups, rows


def is_prompt(message: BotMessage) -> bool:
    return bool(message.reply_markup)


def prompts_sent(fake: FakeBotApi, chat_id: int, after: int = 0) -> int:
    """How many prompts the bot sent to a chat after a mark (edits are not new replies)."""
    return sum(
        1
        for event in fake.events[after:]
        if event.kind == "sent" and event.chat_id == chat_id and is_prompt(event.message)
    )


def inbox_rows(database: Database) -> dict[int, InboxEntry]:
    with database.transaction() as session:
        return {entry.update_id: entry for entry in InboxRepository(session).list_all()}


def all_replied(database: Database) -> bool:
    """Every stored update handled to the end (the bot is idle as far as the inbox knows)."""
    return all(entry.replied_at is not None for entry in inbox_rows(database).values())


async def until(condition: object, what: str, timeout: float) -> None:
    """Poll a condition (a callable returning bool, run in a thread) until it holds."""
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)  # polling the database, not timing a result


@dataclass
class Staff:
    """One person of their own department, filling its table A."""

    fake: FakeBotApi
    database: Database
    user: TgUser
    department: str
    department_id: int
    round_id: int
    timeout: float = 90.0
    sent: dict[int, int] = field(default_factory=dict)  # update_id -> fake.mark() before it
    repeated: int = 0  # replies the bot may legitimately send twice (see the kill test)
    steps: int = 0  # script actions applied

    @property
    def chat_id(self) -> int:
        return self.user.id

    def keyboard_message(self) -> BotMessage | None:
        for message in reversed(self.fake.sent(self.chat_id, include_deleted=False)):
            if message.reply_markup:
                return message
        return None

    def form(self) -> StoredForm:
        with self.database.transaction() as session:
            found = FormRepository(session).find(self.department_id, self.round_id, TableKind.A)
            assert found is not None, "table A was never opened"
            return found

    def _replied(self, update_id: int) -> bool:
        with self.database.transaction() as session:
            entry = InboxRepository(session).get(update_id)
        return entry is not None and entry.replied_at is not None

    async def send(self, what: str | tuple[str, bool]) -> int:
        """Type a text, or press the button (label, exact) of the newest prompt; wait until the
        bot answered it; the update's id."""
        mark = self.fake.mark()
        if isinstance(what, str):
            update_id = int(self.fake.send_text(self.user, None, what)["update_id"])
        else:
            label, exact = what
            target = self.keyboard_message()
            assert target is not None, f"no prompt to press {label} on"
            data = target.button(label, exact=exact).callback_data
            assert data is not None
            query = self.fake.press(self.user, target, data)
            update_id = self.fake.callback_queries[query].update_id
        self.sent[update_id] = mark
        await until(lambda: self._replied(update_id), f"the reply to {what!r}", self.timeout)
        await self.fake.wait_for_message(self.chat_id, is_prompt, after=mark, timeout=self.timeout)
        return update_id

    async def open_table_a(self) -> None:
        await self.send("/fill")
        await self.send((TABLE_A, False))

    async def fill(self, steps: int) -> None:
        script = seed_script()
        for _ in range(steps):
            form = await asyncio.to_thread(self.form)
            state = ENGINE.resume(form.state)
            scripted = script.next_action(state.cursor, state)
            assert scripted is not None
            await self.send(as_chat(scripted.action, self.keyboard_message()))
            self.steps += 1


def as_chat(action: Action, target: BotMessage | None) -> str | tuple[str, bool]:
    """What a person does in chat for an engine action: a text, or a button (label, exact)."""
    match action.kind:
        case ActionKind.ANSWER:
            return action.text if action.text.strip() else " "
        case ActionKind.SKIP:
            return ("跳过", True)
        case ActionKind.ADD_ROW:
            return ("再加一条", False)
        case ActionKind.NEXT:
            labels = target.button_labels if target is not None else []
            return ("下一项" if any("下一项" in b for b in labels) else "下一部分", False)
        case ActionKind.NOT_APPLICABLE:
            return ("本项不适用", False)
        case ActionKind.CONFIRM:
            return ("✅ 对", False)
    raise AssertionError(f"the script does not use {action.kind}")


def build_staff(
    fake: FakeBotApi, database: Database, count: int, *, timeout: float = 90.0
) -> list[Staff]:
    """`count` departments of our own making, one staff member each, and an open round whose
    deadline is weeks away (so the bot's reminder ticks have nothing to send)."""
    people: list[Staff] = []
    with database.transaction() as session:
        deadline = datetime.now(UTC) + timedelta(days=60)
        round_ = RoundRepository(session).create(YEAR, "2021", deadline, "2021年预算绩效目标")
        for n in range(count):
            name = f"测试第{n + 1}局"
            department = DepartmentRepository(session).create(name)
            user = fake.user(f"填报员{n + 1}")
            UserRepository(session).create(user.id, f"填报员{n + 1}", Role.STAFF, department.id)
            people.append(
                Staff(fake, database, user, name, department.id, round_.id, timeout=timeout)
            )
    return people
