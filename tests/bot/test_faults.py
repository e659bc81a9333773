"""Faults, each on SQLite and on PostgreSQL: the bot process killed mid-conversation, two
processes on one database, a failing Bot API. What must hold whatever happens:

- an answer the bot confirmed with ✓ is in the database, and stays there across any crash;
- after a crash the user resumes exactly where the database says they are (the step they last
  saw, or the next one when their last answer was committed but its reply never left);
- two staff answering the same form through two processes never overwrite each other
  silently: one answer is saved, the other person is told theirs was not (and should see the
  value that was kept);
- 429s, 5xx and dropped connections from the Bot API cost retries, never an answer.

Kill points and faults are drawn from a seeded random generator (JIXIAO_FAULT_SEED to explore
others), and every assertion accepts each outcome a kill can legitimately have, so the tests
do not depend on timing. Test-side sleeps only choose a moment to kill.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.service import FilingService
from dialogs.actions import Action, ActionKind, FilingContext
from dialogs.definition import TableKind
from dialogs.engine import Engine
from dialogs.loader import get_layout
from dialogs.state import FormState
from storage.db import Database
from storage.records import Role, StoredForm
from storage.repos import DepartmentRepository, FormRepository, RoundRepository, UserRepository
from tests.support.bot import BotEnv, perform
from tests.support.fake_bot_api import ApiError, BotMessage, FakeBotApi, TgUser
from tests.support.processes import BotProcess, BotProcesses, bot_environment
from tests.support.scripted import SeedScript
from tests.support.seed import KEY_TASKS, TABLE_A_ANSWERS, TABLE_A_INDICATORS, table_a_state
from tests.support.telegram_client import ChatDriver, post_update_to_webhook

# PTB 22 warns about its own RetryAfter int/timedelta migration when one is raised.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
SEED = int(os.environ.get("JIXIAO_FAULT_SEED", "20210331"))
DEPARTMENT = "区委宣传部"
TABLE_A = "部门整体支出绩效目标表"
SECRET = "fault-test-secret_1"
ENGINE = Engine(get_layout("2021").table_a)
# The kill test fills table A up to here (15 steps: amounts typed and skipped, the duties, two
# rows of key tasks with the "add another" button): the bot process paces its replies to one
# chat at one a second after a burst of three, as for Telegram, so every step costs a second.
STOP_AT = "g:key_tasks:2:item"


# --- the world and reading it (never for input) --------------------------------------------------


@dataclass(frozen=True)
class World:
    department_id: int
    round_id: int
    users: dict[int, int]  # Telegram id -> user id


def build_world(database: Database, telegram_ids: list[int]) -> World:
    """One department with its staff and an open round whose deadline is weeks away (so the
    bot processes' reminder ticks have nothing to send)."""
    with database.transaction() as session:
        department = DepartmentRepository(session).create(DEPARTMENT)
        deadline = datetime.now(UTC) + timedelta(days=60)
        round_ = RoundRepository(session).create(2021, "2021", deadline, "2021年预算绩效目标")
        people = UserRepository(session)
        users = {
            telegram_id: people.create(telegram_id, f"填报员{n}", Role.STAFF, department.id).id
            for n, telegram_id in enumerate(telegram_ids)
        }
    return World(department.id, round_.id, users)


async def table_a(database: Database, world: World) -> StoredForm:
    """The department's table A as stored, its cursor resolved as the bot resolves it (a form
    just opened has none yet)."""

    def read() -> StoredForm:
        with database.transaction() as session:
            found = FormRepository(session).find(world.department_id, world.round_id, TableKind.A)
            assert found is not None, "table A was never opened"
            return found

    form = await asyncio.to_thread(read)
    return replace(form, state=ENGINE.resume(form.state))


async def heading_at(database: Database, form_id: int) -> str:
    view = await asyncio.to_thread(FilingService(database).view, form_id)
    return view.prompt.heading


def seed_script() -> SeedScript:
    return SeedScript(TABLE_A_ANSWERS, {"key_tasks": KEY_TASKS}, TABLE_A_INDICATORS)


def offline_until(cursor: str) -> FormState:
    """The seed's answers through the bare engine up to `cursor`: what chat must have stored."""
    script, state = seed_script(), ENGINE.resume(FormState())
    context = FilingContext(year=2021, department_name=DEPARTMENT)
    while state.cursor != cursor:
        scripted = script.next_action(state.cursor, state)
        assert scripted is not None, f"the script never reaches {cursor}"
        state = ENGINE.handle(state, scripted.action, context).state
    return state


def comparable(state: FormState) -> tuple[object, ...]:
    rows = tuple((r.level2, r.name, r.value, r.not_applicable) for r in state.indicators)
    values = {k: v for k, v in state.values.items() if not k.startswith("_")}
    return values, state.groups, rows


def includes(stored: FormState, confirmed: FormState) -> bool:
    """Every answer in `confirmed` is in `stored`, cell by cell (the script only ever adds
    answers; a row in progress gains cells)."""
    if any(stored.values.get(key) != value for key, value in confirmed.values.items()):
        return False
    for key, rows in confirmed.groups.items():
        kept = stored.groups.get(key, ())
        if len(kept) < len(rows):
            return False
        for old, new in zip(rows, kept, strict=False):
            if not set(old.cells) <= set(new.cells):
                return False
    for row in confirmed.indicators:
        same = [r for r in stored.indicators if r.level2 == row.level2]
        index = [r for r in confirmed.indicators if r.level2 == row.level2].index(row)
        if index >= len(same):
            return False
        for name in ("name", "value", "reading", "remark", "explanation", "scoring", "weight"):
            answered = getattr(row, name)
            if answered and getattr(same[index], name) != answered:
                return False
    return True


def texts(messages: list[BotMessage]) -> str:
    return "\n".join(m.visible_text or "" for m in messages)


def keyboard(message: BotMessage | None) -> list[tuple[str, str | None]]:
    return [] if message is None else [(b.text, b.callback_data) for b in message.buttons]


def versions_in(message: BotMessage | None) -> set[int]:
    """The form versions the step buttons of a prompt carry (s:<form>:<version>:<i>)."""
    found = set()
    for _, data in keyboard(message):
        if data and data.startswith("s:"):
            found.add(int(data.split(":")[2]))
    return found


@dataclass(frozen=True)
class Tap:
    """Press the button of the latest keyboard whose label contains (or is) `label`."""

    label: str
    exact: bool = False


def as_chat(action: Action, target: BotMessage | None) -> str | Tap:
    """What a person does in chat for an engine action (tests/support/bot.py `perform`)."""
    match action.kind:
        case ActionKind.ANSWER:
            # Telegram cannot send an empty message: a blank one is the closest a user gets.
            return action.text if action.text.strip() else " "
        case ActionKind.SKIP:
            return Tap("跳过", exact=True)
        case ActionKind.ADD_ROW:
            return Tap("再加一条")
        case ActionKind.NEXT:
            labels = target.button_labels if target is not None else []
            return Tap("下一项" if any("下一项" in b for b in labels) else "下一部分")
        case ActionKind.NOT_APPLICABLE:
            return Tap("本项不适用")
        case ActionKind.CONFIRM:
            return Tap("✅ 对")
    raise AssertionError(f"the script does not use {action.kind}")


def enqueue(fake: FakeBotApi, driver: ChatDriver, what: Action | str | Tap) -> int:
    """Queue the update for the bot without waiting for it; its update_id."""
    target = driver.keyboard_message
    if isinstance(what, Action):
        what = as_chat(what, target)
    if isinstance(what, str):
        return int(fake.send_text(driver.user, None, what)["update_id"])
    assert target is not None, driver.transcript()
    data = target.button(what.label, exact=what.exact).callback_data
    assert data is not None
    query = fake.press(driver.user, target, data)
    return fake.callback_queries[query].update_id


async def act(fake: FakeBotApi, driver: ChatDriver, what: Action | str | Tap) -> list[BotMessage]:
    """Do `what` in chat and return the reply, which ends with the next prompt (a message with
    buttons): the bot commits before it replies, so the database is up to date by then. (For a
    bot in another process: PTB's queue cannot be joined from here.)"""
    mark = fake.mark()
    enqueue(fake, driver, what)
    await fake.wait_for_message(driver.chat_id, lambda m: bool(m.reply_markup), after=mark)
    fake.mark_read(driver.chat_id)
    return fake.messages_since(driver.chat_id, mark)


async def perform_and_read(driver: ChatDriver, action: Action) -> list[BotMessage]:
    """Do `action` through a driver joined to an in-process application (deterministic)."""
    await perform(driver, action)
    return driver.last_replies


# --- 1. SIGKILL at random points, restart, resume ------------------------------------------------


class HeldReplies:
    """Holds the bot's next sendMessage at the fake until released, then fails it unprocessed:
    the reply is "in flight" when the process is killed, and never delivered."""

    def __init__(self, fake: FakeBotApi) -> None:
        self.fake = fake
        self.release = asyncio.Event()
        self.held = 0

    def arm(self) -> None:
        self.release.clear()
        self.fake.set_handler("sendMessage", self._hold)

    async def _hold(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self.held += 1
        await self.release.wait()
        raise ApiError(502, "Bad Gateway")

    def disarm(self) -> None:
        self.fake.set_handler("sendMessage", None)
        self.release.set()


async def restart_and_resume(
    bot: BotProcess, fake: FakeBotApi, staff: ChatDriver
) -> list[BotMessage]:
    await bot.wait_killed()
    await bot.start(fake)
    replies = await act(fake, staff, "/fill")
    assert "已完成" in texts(replies), staff.transcript()
    return replies


async def test_sigkill_at_random_points_loses_no_confirmed_answer_and_resumes_at_the_same_step(
    tmp_path: Path, db: Database
) -> None:
    rng = random.Random(SEED)
    database = db
    url = database.url.render_as_string(hide_password=False)
    async with FakeBotApi(default_timeout=30.0) as fake, BotProcesses(tmp_path) as processes:
        user = fake.user("张三")
        world = await asyncio.to_thread(build_world, database, [user.id])
        bot = processes.polling("bot", bot_environment(fake, url, tmp_path))
        try:
            await bot.start(fake)
            staff = ChatDriver(fake, user, timeout=30.0)
            await act(fake, staff, "/fill")
            await act(fake, staff, Tap(TABLE_A))
            form = await table_a(database, world)
            script = seed_script()
            # Five kills at distinct random steps, each kind at least once.
            modes = ["idle", "processing", "reply in flight", "processing", "idle"]
            rng.shuffle(modes)
            kills = dict(zip(sorted(rng.sample(range(1, 14), len(modes))), modes, strict=True))
            held = HeldReplies(fake)
            confirmed = form  # the stored form as of the last reply the user saw
            step = 0
            while form.state.cursor != STOP_AT:
                scripted = script.next_action(form.state.cursor, form.state)
                assert scripted is not None
                mode = kills.pop(step, None)
                step += 1
                if mode is None:
                    replies = await act(fake, staff, scripted.action)
                    form = await table_a(database, world)
                    assert form.version == confirmed.version + 1, staff.transcript()
                    if scripted.action.kind is ActionKind.ANSWER:
                        assert "✓" in texts(replies), staff.transcript()
                    assert includes(form.state, confirmed.state)
                    confirmed = form
                    continue
                seen = keyboard(staff.keyboard_message)
                if mode == "idle":
                    bot.kill()
                elif mode == "processing":
                    update_id = enqueue(fake, staff, scripted.action)
                    await fake.wait_confirmed(update_id)  # fetched: the process has it
                    await asyncio.sleep(rng.uniform(0.0, 0.03))  # somewhere in its handling
                    bot.kill()
                else:
                    held.arm()
                    mark = len(fake.requests)
                    update_id = enqueue(fake, staff, scripted.action)
                    await fake.wait_confirmed(update_id)
                    await fake.wait_for_call("sendMessage", after=mark, completed=False)
                    bot.kill()
                    await bot.wait_killed()
                    held.disarm()
                replies = await restart_and_resume(bot, fake, staff)
                form = await table_a(database, world)
                # No confirmed answer lost, whatever the kill interrupted.
                assert includes(form.state, confirmed.state), (mode, staff.transcript())
                if mode == "idle":
                    assert form.version == confirmed.version  # nothing was in progress
                elif mode == "reply in flight":
                    # The answer was committed before its reply was sent: it is stored, and the
                    # user continues at the next step although they never saw the ✓.
                    assert form.version == confirmed.version + 1, staff.transcript()
                else:  # killed before or after the commit: either is fine, nothing in between
                    assert form.version in (confirmed.version, confirmed.version + 1)
                if form.version == confirmed.version:
                    # Nothing new stored: the very prompt the user last saw, same buttons.
                    assert keyboard(staff.keyboard_message) == seen
                # Resumed exactly where the database says: its step, buttons of its version.
                assert await heading_at(database, form.id) in texts(replies)
                assert versions_in(staff.keyboard_message) <= {form.version}
                confirmed = form
            assert not kills, f"kills not reached: {kills}"
            assert held.held == 1
            assert comparable(form.state) == comparable(offline_until(STOP_AT))
        except BaseException:
            print(processes.tails())
            raise
        finally:
            await bot.stop()
            database.dispose()


# --- 2. two processes, one database (SQLite or PostgreSQL), one form ----------------------------


class Router:
    """The test's own load balancer in front of two webhook processes: every update the fake
    queues is posted to one of them (alternating unless told), with the secret token."""

    def __init__(self, fake: FakeBotApi, processes: list[BotProcess]) -> None:
        self.fake = fake
        self.processes = processes
        self.turn = 0

    async def post(self, update: dict[str, Any], to: BotProcess | None = None) -> None:
        if to is None:
            to = self.processes[self.turn % len(self.processes)]
            self.turn += 1
        response = await post_update_to_webhook(to.webhook_url, update, SECRET)
        assert response.status_code == 200, (to.name, response.status_code)

    async def reply(self, user: TgUser, mark: int) -> list[BotMessage]:
        """The bot messages of this update's handling, up to the one with the next buttons."""
        await self.fake.wait_for_message(user.id, lambda m: bool(m.reply_markup), after=mark)
        return self.fake.messages_since(user.id, mark)

    async def say(self, user: TgUser, text: str, to: BotProcess | None = None) -> str:
        mark = self.fake.mark()
        await self.post(self.fake.send_text(user, None, text), to)
        return texts(await self.reply(user, mark))

    async def tap(self, user: TgUser, label: str) -> str:
        target = next(m for m in reversed(self.fake.sent(user.id)) if m.reply_markup)
        data = target.button(label).callback_data
        assert data is not None
        mark = self.fake.mark()
        query = self.fake.press(user, target, data)
        update_id = self.fake.callback_queries[query].update_id
        update = next(u for u in self.fake.pending_updates if u["update_id"] == update_id)
        await self.post(update)
        return texts(await self.reply(user, mark))


@dataclass(frozen=True)
class Conflict:
    """Two answers to one step of one form, through the two processes."""

    how: str  # "one after the other" or "at the same moment"
    step: str  # the field both answered
    answers: dict[str, str]  # who answered what
    replies: dict[str, str]  # what each was shown
    stored: object  # the field's value afterwards
    versions: int  # how many saves the two answers caused


async def conflicting_answers(tmp_path: Path, db: Database) -> list[Conflict]:
    """Two staff of one department fill the same table A, each through their own process (the
    setup updates alternate between the processes): first one answers a step the other has just
    answered, then twice both answer the same step at the same moment."""
    url = db.url.render_as_string(hide_password=False)
    # The fake does not deliver to the webhooks itself: the test's router does.
    async with (
        FakeBotApi(default_timeout=30.0, deliver_webhooks=False) as fake,
        BotProcesses(tmp_path) as processes,
    ):
        people = {"甲": fake.user("甲"), "乙": fake.user("乙")}
        a, b = people["甲"], people["乙"]
        world = await asyncio.to_thread(build_world, db, [a.id, b.id])
        environment = bot_environment(fake, url, tmp_path)
        one = processes.webhook("one", environment, SECRET)
        two = processes.webhook("two", environment, SECRET)
        found: list[Conflict] = []
        try:
            await asyncio.gather(one.start(fake), two.start(fake))
            router = Router(fake, [one, two])
            for person in (a, b):
                await router.say(person, "/fill")
                await router.tap(person, TABLE_A)
            before = await table_a(db, world)
            # 乙 last saw the form before 甲's answer, and answers the same step after it.
            replies = {"甲": await router.say(a, "100", to=one)}
            replies["乙"] = await router.say(b, "200", to=two)
            after = await table_a(db, world)
            step = before.state.cursor.removeprefix("f:")
            found.append(
                Conflict(
                    "one after the other",
                    step,
                    {"甲": "100", "乙": "200"},
                    replies,
                    after.state.values.get(step),
                    after.version - before.version,
                )
            )
            # 一般公共预算拨款 and 政府性基金拨款 (values that keep the sum under 资金总额).
            for first, second in (("60", "70"), ("10", "20")):
                before = await table_a(db, world)
                mark = fake.mark()
                await asyncio.gather(
                    router.post(fake.send_text(a, None, first), to=one),
                    router.post(fake.send_text(b, None, second), to=two),
                )
                replies = {name: texts(await router.reply(people[name], mark)) for name in people}
                after = await table_a(db, world)
                step = before.state.cursor.removeprefix("f:")
                found.append(
                    Conflict(
                        "at the same moment",
                        step,
                        {"甲": first, "乙": second},
                        replies,
                        after.state.values.get(step),
                        after.version - before.version,
                    )
                )
            # Whoever was refused last goes on normally (the refusal showed them the form): 其他资金
            # as the rest of 资金总额.
            last = found[-1]
            loser = next(name for name, text in last.replies.items() if "✓" not in text)
            values = (await table_a(db, world)).state.values
            amounts = [values[key] for key in ("total", "general_budget", "government_fund")]
            assert all(isinstance(amount, Decimal) for amount in amounts), values
            total, general, fund = (Decimal(str(amount)) for amount in amounts)
            rest = total - general - fund
            shown = await router.say(people[loser], str(rest), to=one if loser == "甲" else two)
            assert "✓ 其他资金" in shown, shown
        except BaseException:
            print(processes.tails())
            raise
        finally:
            await asyncio.gather(one.stop(), two.stop())
    return found


async def test_two_processes_never_silently_overwrite_each_other(
    tmp_path: Path, db: Database
) -> None:
    for conflict in await conflicting_answers(tmp_path, db):
        saved = [name for name, text in conflict.replies.items() if "✓" in text]
        refused = [name for name, text in conflict.replies.items() if "未保存" in text]
        # Exactly one of the two answers was saved, once, and it is what the form holds …
        assert len(saved) == 1 and conflict.versions == 1, conflict
        assert conflict.stored == Decimal(conflict.answers[saved[0]]), conflict
        # … and the other person was told that theirs was not.
        assert refused == [name for name in conflict.replies if name not in saved], conflict
        assert "✓" not in conflict.replies[refused[0]], conflict


async def test_the_refused_person_sees_the_value_that_was_kept(
    tmp_path: Path, db: Database
) -> None:
    for conflict in await conflicting_answers(tmp_path, db):
        saved = next(name for name, text in conflict.replies.items() if "✓" in text)
        refused = next(name for name in conflict.replies if name != saved)
        assert conflict.answers[saved] in conflict.replies[refused], conflict


# --- 3. the Bot API failing ----------------------------------------------------------------------


Inject = Callable[[FakeBotApi], Any]
# Each costs a retry; those marked slow also cost PTB's or Telegram's back-off of a second.
FAULTS: list[tuple[str, Inject, bool]] = [
    ("429 on the reply", lambda f: f.fail_next("sendMessage", status=429, retry_after=1), True),
    ("getUpdates dropped", lambda f: f.fail_next("getUpdates", drop=True), True),
    ("getUpdates 500", lambda f: f.fail_next("getUpdates", status=500), True),
    ("500 on the reply", lambda f: f.fail_next("sendMessage", status=500), False),
    ("two 502s on the reply", lambda f: f.fail_next("sendMessage", n=2, status=502), False),
    ("reply's connection dropped", lambda f: f.fail_next("sendMessage", drop=True), False),
    # Telegram delivered the reply but the answer to the bot was lost: sent again (a duplicate,
    # accepted), the answer itself stored once.
    (
        "reply delivered, 500 seen",
        lambda f: f.fail_next("sendMessage", status=500, processed=True),
        False,
    ),
    ("button answer 500", lambda f: f.fail_next("answerCallbackQuery", status=500), False),
    ("keyboard removal dropped", lambda f: f.fail_next("editMessageReplyMarkup", drop=True), False),
]


async def test_a_failing_bot_api_loses_nothing(tmp_path: Path, db: Database) -> None:
    rng = random.Random(SEED + 1)
    async with BotEnv.running(tmp_path, database=db, reminders=False) as env:
        driver = env.person("张三")
        world = await asyncio.to_thread(build_world, env.database, [driver.user.id])
        await driver.say("/fill")
        await driver.tap(TABLE_A)
        form = await table_a(env.database, world)
        script = seed_script()
        # Every kind of fault once, in a random order, then the quick ones on a third of steps.
        pending = rng.sample(FAULTS, len(FAULTS))
        quick = [fault for fault in FAULTS if not fault[2]]
        injected: dict[str, list[Any]] = {}
        while (scripted := script.next_action(form.state.cursor, form.state)) is not None:
            if pending or rng.random() < 0.33:
                name, inject, _ = pending.pop() if pending else rng.choice(quick)
                injected.setdefault(name, []).append(inject(env.fake))
            replies = await perform_and_read(driver, scripted.action)
            after = await table_a(env.database, world)
            # Applied exactly once (a repeated request never applies an answer twice) …
            assert after.version == form.version + 1, driver.transcript()
            # … and confirmed: the reply came through the failures.
            if scripted.action.kind is ActionKind.ANSWER:
                assert "✓" in texts(replies), driver.transcript()
            form = after
        assert comparable(form.state) == comparable(table_a_state())
        assert not env.fake.pending_updates  # every update was fetched …
        assert not env.fake.errors
        fired = {name for name, faults in injected.items() if any(f.fired for f in faults)}
        assert fired == {name for name, _, _ in FAULTS}, injected  # … through every kind of fault
