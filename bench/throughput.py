"""`python -m bench throughput`: N staff members filling table A at once, through the real bot.

Each simulated user has their own department and fills its table A in chat as a person would:
/fill, the table button, then the seed department's answers (typed text and button presses,
the first empty 指标值 refused as in the seed). A user sends one update, waits for the reply
that carries the next prompt, and sends the next one at once (no think time), so the bot is
saturated for the whole run: `updates/s` is its capacity.

Everything above the network is real: `bot.startup.build_application` (handlers, the per-user
ordering, the retrying rate limiter), PTB's update queue and dispatch, and a real database
(SQLite in a temporary directory; PostgreSQL too when DATABASE_URL names one: a throw-away
database is created there and dropped). The Bot API is answered in process
(bench/inprocess.py), and updates are put straight into `application.update_queue`.

In the same run a bare PTB echo bot, built with the same request class, gets the same updates
(the same texts and callback data, user by user): the ceiling that PTB and Python set.

Latency of an update: from just before it is parsed and put into the queue until the bot makes
the request that carries its reply (the message with the next prompt's keyboard; for the echo
bot its one message). With all users saturating the bot, latency is mostly queueing
(users / rate, Little's law); the `one user alone` rows are: the time one update costs.

`--profile` adds a profiled run of our bot (SQLite): cProfile on the event-loop thread and a
stack sampler over the database threads, summarised as the functions where the time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import os
import pstats
import random
import secrets
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bench.inprocess import JSON, Call, InProcessBotApi
from bench.report import print_or_publish
from bot import messages
from bot.ratelimit import Pacing, RetryingRateLimiter
from bot.service import FilingService
from bot.settings import Settings
from bot.startup import build_application
from dialogs.actions import ActionKind, FilingContext
from dialogs.engine import Engine
from dialogs.loader import get_layout
from dialogs.state import FormState
from storage.db import Database, normalise_url, upgrade
from storage.records import Role
from storage.repos import DepartmentRepository, FormRepository, RoundRepository, UserRepository

YEAR = 2021
LAYOUT = "2021"
TABLE_A_BUTTON = "部门整体支出绩效目标表"
FIRST_TELEGRAM_ID = 7_000_001
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
MAX_RETRIES = 3  # a user sends an update again after the bot's error message, this often


class BenchError(RuntimeError):
    pass


# --- what the users type and press ---------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    """One thing a person does: type `text`, or press the first button whose label equals
    (exact) or contains one of `labels`."""

    text: str = ""
    labels: tuple[str, ...] = ()
    exact: bool = False

    @property
    def is_text(self) -> bool:
        return not self.labels


def chat_script() -> list[Input]:
    """The inputs that fill the seed department's table A from /fill to the review step.

    The seed's answers (tests/support/seed.py, the reference department's real table) are
    replayed through the engine once here, offline, to learn the order of the steps; each
    engine action becomes what a person does in chat for it (tests/support/bot.py `perform`).
    """
    from tests.support.scripted import SeedScript
    from tests.support.seed import KEY_TASKS, TABLE_A_ANSWERS, TABLE_A_INDICATORS

    engine = Engine(get_layout(LAYOUT).table_a)
    context = FilingContext(year=YEAR, department_name="部门")
    script = SeedScript(TABLE_A_ANSWERS, {"key_tasks": KEY_TASKS}, TABLE_A_INDICATORS)
    state = engine.resume(FormState())
    inputs = [Input(text="/fill"), Input(labels=(TABLE_A_BUTTON,))]
    for _ in range(1000):
        scripted = script.next_action(state.cursor, state)
        if scripted is None:
            return inputs
        action = scripted.action
        match action.kind:
            case ActionKind.ANSWER:
                # Telegram cannot send an empty message: a blank one is the closest a user gets.
                inputs.append(Input(text=action.text if action.text.strip() else " "))
            case ActionKind.SKIP:
                inputs.append(Input(labels=("跳过",), exact=True))
            case ActionKind.ADD_ROW:
                inputs.append(Input(labels=("再加一条",)))
            case ActionKind.NEXT:
                inputs.append(Input(labels=("下一项", "下一部分")))
            case ActionKind.NOT_APPLICABLE:
                inputs.append(Input(labels=("本项不适用",)))
            case ActionKind.CONFIRM:
                inputs.append(Input(labels=("✅ 对",)))
            case _:
                raise BenchError(f"the seed script uses {action.kind}, not mapped to chat")
        state = engine.handle(state, action, context).state
    raise BenchError("the seed script did not reach the review step")


def find_button(message: JSON, wanted: Input) -> str:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    buttons = [(b.get("text", ""), b.get("callback_data")) for row in rows for b in row]
    for label in wanted.labels:
        for text_, data in buttons:
            if text_ == label and data:
                return str(data)
        if not wanted.exact:
            for text_, data in buttons:
                if label in text_ and data:
                    return str(data)
    raise BenchError(f"no button {wanted.labels} in {[t for t, _ in buttons]}")


# --- measuring -----------------------------------------------------------------------------------


@dataclass
class Run:
    bot: str
    database: str
    users: int
    updates: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    fill_latencies: list[float] = field(default_factory=list)  # of /fill alone (the menu)
    errors: int = 0  # updates answered with the error message (each retried by its user)
    cpu: float = 0.0  # seconds of CPU of the whole process (every thread) meanwhile
    statements: int = 0  # SQL statements executed meanwhile
    transactions: int = 0  # commits meanwhile

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    def percentile(self, share: float, of: list[float] | None = None) -> float:
        ordered = sorted(self.latencies if of is None else of)
        if not ordered:
            return 0.0
        index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
        return ordered[index] * 1000


@dataclass
class ChatUser:
    telegram_id: int
    name: str
    last_keyboard: JSON | None = None  # the bot message that carries the current buttons
    last_message: JSON | None = None
    waiter: asyncio.Future[tuple[float, bool]] | None = None  # (when, answered normally)
    sent: list[tuple[str, str]] = field(default_factory=list)  # ("text"|"press", value)


class Conversations:
    """The simulated users of one bot: puts their updates in, and learns from the Bot API
    calls (via the in-process API's listener) when each got its reply."""

    def __init__(
        self,
        api: InProcessBotApi,
        app: Application[Any, Any, Any, Any, Any, Any],
        run: Run,
        *,
        reply_needs_keyboard: bool,
        timeout: float,
    ) -> None:
        self.api = api
        self.app = app
        self.run = run
        self.reply_needs_keyboard = reply_needs_keyboard
        self.timeout = timeout
        self.users: dict[int, ChatUser] = {}
        self.recording = True
        api.subscribe(self._on_call)

    def _on_call(self, call: Call, result: JSON | bool | list[JSON]) -> None:
        if call.method not in ("sendMessage", "editMessageText") or not isinstance(result, dict):
            return
        user = self.users.get(call.chat_id or 0)
        if user is None:
            return
        user.last_message = result
        failed = call.params.get("text") == messages.ERROR_TEXT
        if self.reply_needs_keyboard and call.keyboard is None and not failed:
            return  # a first part of a long reply: the prompt with its buttons comes last
        if call.keyboard is not None:
            user.last_keyboard = result
        if user.waiter is not None and not user.waiter.done():
            user.waiter.set_result((call.time, not failed))

    def user(self, telegram_id: int, name: str) -> ChatUser:
        found = self.users.get(telegram_id)
        if found is None:
            found = self.users[telegram_id] = ChatUser(telegram_id, name)
        return found

    async def exchange(self, user: ChatUser, make: Callable[[], JSON], what: str) -> None:
        """Put one update in and wait for its reply; record the latency. An update answered
        with the bot's error message counts as an error and is sent again, as a person would
        ("出错了…请重试")."""
        for _ in range(MAX_RETRIES + 1):
            user.waiter = asyncio.get_running_loop().create_future()
            start = time.perf_counter()
            await self.app.update_queue.put(Update.de_json(make(), self.app.bot))
            try:
                replied, answered = await asyncio.wait_for(user.waiter, self.timeout)
            except TimeoutError:
                raise BenchError(
                    f"{self.run.bot}: no reply to {what!r} from user {user.telegram_id} "
                    f"within {self.timeout:g}s"
                ) from None
            if self.recording:
                self.run.updates += 1
                if not answered:
                    self.run.errors += 1
                else:
                    self.run.latencies.append(replied - start)
                    if what == "/fill":
                        self.run.fill_latencies.append(replied - start)
            if answered:
                return
        raise BenchError(f"{self.run.bot}: {what!r} failed {MAX_RETRIES + 1} times")

    async def say(self, user: ChatUser, text_: str) -> None:
        user.sent.append(("text", text_))
        await self.exchange(
            user, lambda: self.api.text_update(user.telegram_id, text_, user.name), text_
        )

    async def press(self, user: ChatUser, data: str, under: JSON | None) -> None:
        if under is None:
            raise BenchError(f"user {user.telegram_id}: no bot message to press {data!r} under")
        user.sent.append(("press", data))
        await self.exchange(
            user, lambda: self.api.callback_update(user.telegram_id, under, data, user.name), data
        )

    async def perform(self, user: ChatUser, step: Input) -> None:
        if step.is_text:
            await self.say(user, step.text)
            return
        if user.last_keyboard is None:
            raise BenchError(f"user {user.telegram_id}: no keyboard for {step.labels}")
        await self.press(user, find_button(user.last_keyboard, step), user.last_keyboard)

    async def replay(self, user: ChatUser, inputs: Sequence[tuple[str, str]]) -> None:
        """Send what another bot's user sent, in order (the echo bot gets the same updates)."""
        for kind, value in inputs:
            if kind == "text":
                await self.say(user, value)
            else:
                await self.press(user, value, user.last_message)


# --- the two bots --------------------------------------------------------------------------------


def bench_settings(database: Database, api: InProcessBotApi) -> Settings:
    values: dict[str, Any] = {
        "TELEGRAM_BOT_TOKEN": api.token,
        "DATABASE_URL": database.url.render_as_string(hide_password=False),
        "ADMIN_TELEGRAM_IDS": "",
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def our_application(
    database: Database, api: InProcessBotApi
) -> Application[Any, Any, Any, Any, Any, Any]:
    # Pacing off: in production replies are spaced to stay under Telegram's flood limits
    # (25 messages/s overall), which would measure Telegram's limit instead of the bot. The
    # limiter itself stays in the path (it wraps every request).
    limiter = RetryingRateLimiter(pacing=Pacing.off())
    # Reminders off: their ticks would message the same users (bench/reminders.py
    # measures them); this measures answering updates.
    return build_application(
        bench_settings(database, api),
        database,
        rate_limiter=limiter,
        reminders=False,
        request=api.request(),
        get_updates_request=api.request(),
    )


async def _echo_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await context.bot.send_message(update.message.chat_id, update.message.text)


async def _echo_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer()
    await context.bot.send_message(query.message.chat.id, query.data or "")


def echo_application(api: InProcessBotApi) -> Application[Any, Any, Any, Any, Any, Any]:
    """PTB's defaults, a text handler and a button handler: nothing of ours."""
    app = api.builder().build()
    app.add_handler(MessageHandler(filters.TEXT, _echo_text))
    app.add_handler(CallbackQueryHandler(_echo_press))
    return app


@contextlib.asynccontextmanager
async def running(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    """initialize + start (the update fetcher reads `update_queue`); no polling, no webhook."""
    async with app:
        if app.post_init is not None:
            await app.post_init(app)  # what run_polling does first (the command menus)
        await app.start()
        try:
            yield
        finally:
            await app.stop()


# --- databases -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Population:
    users: list[tuple[int, str, int]]  # (telegram id, display name, department id)
    round_id: int


def populate(database: Database, count: int) -> Population:
    """`count` departments, each with one staff member, and an open round."""
    users: list[tuple[int, str, int]] = []
    with database.transaction() as session:
        departments, people = DepartmentRepository(session), UserRepository(session)
        deadline = datetime.now(UTC) + timedelta(days=60)
        round_ = RoundRepository(session).create(YEAR, LAYOUT, deadline, f"{YEAR}年绩效目标")
        for index in range(count):
            department = departments.create(f"基准部门{index:04d}")
            name = f"填报员{index:04d}"
            people.create(FIRST_TELEGRAM_ID + index, name, Role.STAFF, department.id)
            users.append((FIRST_TELEGRAM_ID + index, name, department.id))
    return Population(users, round_.id)


def form_cursors(database: Database, round_id: int) -> dict[int, str]:
    """Where each department's table A of the round stands (its cursor)."""
    with database.transaction() as session:
        forms = FormRepository(session).list_for_round(round_id)
    return {form.department_id: form.state.cursor for form in forms}


@contextlib.contextmanager
def migrated(url: str | URL) -> Iterator[Database]:
    """A Database on `url` migrated to the newest schema, disposed afterwards."""
    upgrade(url)
    database = Database(url)
    try:
        yield database
    finally:
        database.dispose()


@contextlib.contextmanager
def sqlite_database() -> Iterator[Database]:
    directory = Path(tempfile.mkdtemp(prefix="jixiao-bench-"))
    url = f"sqlite:///{directory / 'bench.sqlite3'}"
    try:
        with migrated(url) as database:
            yield database
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def postgres_database(given: str) -> Iterator[Database]:
    """A throw-away database on the server DATABASE_URL names (dropped afterwards)."""
    server: URL = normalise_url(given)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"jixiao_bench_{secrets.token_hex(4)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name)
        try:
            with migrated(url) as database:
                yield database
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def postgres_url() -> str | None:
    raw = os.environ.get("DATABASE_URL", "").strip()
    if raw and make_url(raw).get_backend_name() == "postgresql":
        return raw
    return None


def serialise_transactions(database: Database) -> None:
    """What-if (`--what-if-sqlite-lock`): this process's transactions on `database` queue on
    one lock. On SQLite every transaction starts with BEGIN IMMEDIATE, and a thread that finds
    the write lock taken sleeps in SQLite's busy handler (1, 2, 5 … up to 100 ms at a time)
    instead of being woken when the lock is free: waiting here instead measures what that
    costs. Only this Database object is changed, and only for the run."""
    lock = threading.Lock()
    inner = database.transaction

    @contextlib.contextmanager
    def transaction() -> Iterator[Session]:
        with lock, inner() as session:
            yield session

    database.transaction = transaction  # type: ignore[method-assign]


# --- the runs ------------------------------------------------------------------------------------


async def fill_concurrently(
    talk: Conversations, users: Sequence[ChatUser], script: Sequence[Input]
) -> None:
    async def one(user: ChatUser) -> None:
        for step in script:
            await talk.perform(user, step)

    await asyncio.gather(*(one(user) for user in users))


async def at_load(
    talk: Conversations,
    users: Sequence[ChatUser],
    script: Sequence[Input],
    rate: float,
    seconds: float,
) -> None:
    """The users fill in with think time between updates (exponential, the same mean for all)
    so that together they offer about `rate` updates a second, for `seconds`."""
    rng = random.Random(6)  # the same think times in every run
    mean_think = len(users) / rate
    deadline = time.perf_counter() + seconds

    async def one(user: ChatUser) -> None:
        await asyncio.sleep(min(rng.uniform(0, mean_think), seconds))  # arrivals spread out
        for step in script:
            if time.perf_counter() >= deadline:
                return
            await talk.perform(user, step)
            think = rng.expovariate(1 / mean_think)
            await asyncio.sleep(min(think, max(0.0, deadline - time.perf_counter())))

    await asyncio.gather(*(one(user) for user in users))


@dataclass
class Measured:
    saturated: Run
    alone: Run
    at_half: Run
    menu: Run  # one /fill without a form in progress, after the saturating users filled theirs
    sent: dict[int, list[tuple[str, str]]]  # what each saturating user sent, for the echo bot


async def run_ours(
    database: Database,
    label: str,
    count: int,
    script: Sequence[Input],
    *,
    timeout: float,
    load_seconds: float,
    profiler: Profiler | None = None,
) -> Measured:
    """Our bot on `database`: a warm-up user, one user alone, `count` users at once, one user's
    table menu once their forms are filled, then `count` other users at half the rate measured
    (not when profiling)."""
    population = await asyncio.to_thread(populate, database, 2 * count + 3)
    api = InProcessBotApi()
    app = our_application(database, api)
    saturated = Run("jixiao", label, count)
    talk = Conversations(api, app, saturated, reply_needs_keyboard=True, timeout=timeout)
    people = [talk.user(telegram_id, name) for telegram_id, name, _ in population.users]
    warm, alone_user, probe = people[0], people[1], people[2]
    users, later = people[3 : 3 + count], people[3 + count :]
    at_half = Run("jixiao, at half that rate", label, count)
    menu = Run("menu probe", label, 1)
    async with running(app):
        # Not measured: one user fills the whole table alone (caches, compiled SQL, pools).
        talk.recording = False
        await fill_concurrently(talk, [warm], script)
        talk.recording = True
        # One user alone: what an update costs without waiting for anybody else.
        alone = talk.run = Run("jixiao, one user alone", label, 1)
        await measure(alone, fill_concurrently(talk, [alone_user], script), database)
        talk.run = saturated
        if profiler is not None:
            profiler.start(asyncio.get_running_loop())
        await measure(saturated, fill_concurrently(talk, users, script), database)
        if profiler is not None:
            profiler.stop()
        else:
            # The table menu (/fill without a form in progress) alone, the round now filled.
            talk.run = menu
            await talk.perform(probe, script[0])
            # Half load: people in the middle of their session (a form in progress, so /fill
            # resumes it), answering with think time.
            talk.run = at_half
            await asyncio.to_thread(open_table_a, database, population, later)
            resumed = [script[0], *script[2:]]
            rate = saturated.rate / 2
            await measure(at_half, at_load(talk, later, resumed, rate, load_seconds), database)
    cursors = await asyncio.to_thread(form_cursors, database, population.round_id)
    missing = [
        telegram_id
        for telegram_id, _, department_id in population.users[: 3 + count]
        if telegram_id != probe.telegram_id and cursors.get(department_id) != "review"
    ]
    if missing:
        raise BenchError(f"{label}: {len(missing)} users' table A did not reach the review step")
    sent = {user.telegram_id: user.sent for user in users}
    return Measured(saturated, alone, at_half, menu, sent)


def open_table_a(database: Database, population: Population, users: Sequence[ChatUser]) -> None:
    """Each user's table A opened as their form in progress (set up, not measured)."""
    service = FilingService(database)
    wanted = {user.telegram_id for user in users}
    with database.transaction() as session:
        people = UserRepository(session)
        ids = {t: people.by_telegram_id(t) for t, _, _ in population.users if t in wanted}
    for telegram_id, user in ids.items():
        assert user is not None and user.department_id is not None, telegram_id
        service.open_table_a(user.department_id, population.round_id, user.id)


async def measure(run: Run, work: Awaitable[object], database: Database | None = None) -> None:
    """Wall time, process CPU time and (with a database) SQL statements and commits."""
    counts = Counter[str]()

    def statement(*_: object) -> None:
        counts["statements"] += 1

    def commit(*_: object) -> None:
        counts["transactions"] += 1

    if database is not None:
        event.listen(database.engine, "before_cursor_execute", statement)
        event.listen(database.engine, "commit", commit)
    cpu, start = time.process_time(), time.perf_counter()
    try:
        await work
    finally:
        run.seconds = time.perf_counter() - start
        run.cpu = time.process_time() - cpu
        if database is not None:
            event.remove(database.engine, "before_cursor_execute", statement)
            event.remove(database.engine, "commit", commit)
    run.statements, run.transactions = counts["statements"], counts["transactions"]


async def run_echo(sent: dict[int, list[tuple[str, str]]], timeout: float) -> Run:
    api = InProcessBotApi()
    app = echo_application(api)
    run = Run("PTB echo", "—", len(sent))
    talk = Conversations(api, app, run, reply_needs_keyboard=False, timeout=timeout)
    users = {telegram_id: talk.user(telegram_id, f"用户{telegram_id}") for telegram_id in sent}
    async with running(app):
        talk.recording = False
        warm = talk.user(1, "预热")
        await talk.replay(warm, next(iter(sent.values())))
        talk.recording = True
        await measure(
            run,
            asyncio.gather(
                *(talk.replay(users[telegram_id], inputs) for telegram_id, inputs in sent.items())
            ),
        )
    return run


# --- profiling -----------------------------------------------------------------------------------


class Profiler:
    """CPU time by function in every thread of the process while measuring.

    cProfile with a per-thread CPU clock (time.thread_time) on the event-loop thread, and on
    each database thread: asyncio.to_thread runs on the loop's default executor, which is
    replaced for the measured phase by one whose threads profile themselves. Waiting (for a
    lock, a socket, the GIL) costs no CPU, so what is left is where the work is.
    """

    def __init__(self) -> None:
        self.loop_profile = cProfile.Profile(time.thread_time)
        self.thread_profiles: list[cProfile.Profile] = []
        self._executor: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _profile_this_thread(self) -> None:
        profile = cProfile.Profile(time.thread_time)
        self.thread_profiles.append(profile)
        profile.enable()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        workers = min(32, (os.cpu_count() or 1) + 4)  # asyncio's default executor size
        self._executor = ThreadPoolExecutor(workers, initializer=self._profile_this_thread)
        self._loop.set_default_executor(self._executor)
        self.loop_profile.enable()

    def stop(self) -> None:
        self.loop_profile.disable()
        assert self._loop is not None and self._executor is not None
        self._loop.set_default_executor(ThreadPoolExecutor())
        self._executor.shutdown(wait=True)  # its threads end, their profiles are complete

    def stats(self) -> pstats.Stats:
        stats = pstats.Stats(self.loop_profile, stream=io.StringIO())
        for profile in self.thread_profiles:
            profile.create_stats()
            stats.add(profile)
        return stats

    def report(self, updates: int, top: int = 12) -> list[str]:
        stats = self.stats()
        table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
        rows = [
            (own, cumulative, calls, _short(filename), line, function)
            for (filename, line, function), (_, calls, own, cumulative, _) in table.items()
        ]
        total = sum(r[0] for r in rows)
        per_update = 1000 * total / updates if updates else 0.0
        areas: Counter[str] = Counter()
        for own, _, _, filename, _, function in rows:
            areas[_area(filename, function)] += own
        lines = [
            f"CPU in all threads: {total:.1f} s for {updates} updates, {per_update:.1f} ms an "
            "update (under the profiler, which slows calls down: compare shares, not times). "
            "By area (own time):",
            "",
            "| area | share |",
            "|---|---|",
        ]
        for area, seconds in areas.most_common():
            if seconds / total >= 0.005:
                lines.append(f"| {area} | {100 * seconds / total:.0f} % |")
        lines += ["", "Functions with the most own CPU time:", ""]
        for own, cumulative, calls, filename, line, function in sorted(rows, reverse=True)[:top]:
            lines.append(
                f"- `{filename}:{line} {function}`: {100 * own / total:.1f} % "
                f"({100 * cumulative / total:.0f} % with callees, {calls} calls)"
            )
        lines += ["", "Our functions, by CPU time including callees:", ""]
        ours = [r for r in rows if r[3].startswith(OUR_PACKAGES)]
        for _own, cumulative, calls, filename, line, function in sorted(ours, key=lambda r: -r[1])[
            :top
        ]:
            lines.append(
                f"- `{filename}:{line} {function}`: {100 * cumulative / total:.0f} % "
                f"({calls / updates:.1f} calls an update)"
            )
        return lines


OUR_PACKAGES = ("bot/", "storage/", "dialogs/", "exports/")
AREAS = (
    ("sqlalchemy/", "SQLAlchemy (ORM, Core, compiling, result rows)"),
    ("psycopg", "psycopg (PostgreSQL driver)"),
    ("sqlite3", "sqlite3 (SQLite driver and engine)"),
    ("telegram/", "python-telegram-bot"),
    ("dialogs/", "dialogs/ (engine, checks, prompts)"),
    ("storage/", "storage/ (repositories, state codec)"),
    ("bot/", "bot/ (handlers, service, rendering)"),
    ("json/", "json"),
    ("asyncio/", "asyncio"),
)


def _area(filename: str, function: str) -> str:
    where = f"{filename} {function}"
    for marker, area in AREAS:
        if marker in where:
            return area
    return "other (Python runtime, builtins, bench)"


ROOT = Path(__file__).resolve().parent.parent


def _short(filename: str) -> str:
    path = Path(filename)
    with contextlib.suppress(ValueError):
        return str(path.relative_to(ROOT))
    parts = path.parts
    for marker in ("site-packages", "lib"):
        if marker in parts:
            index = len(parts) - 1 - parts[::-1].index(marker)
            return "/".join(parts[index + 1 :])
    return path.name


def _where(frame: Any) -> str:
    code = frame.f_code
    return f"{_short(code.co_filename)}:{code.co_name}"


# --- the report ----------------------------------------------------------------------------------


def row(run: Run, echo: Run | None, *, saturated: bool = True) -> str:
    ratio = "1×" if echo is None else f"{run.rate / echo.rate:.3f}×" if saturated else "–"
    cpu = f"{1000 * run.cpu / run.updates:.2f}" if run.updates else "–"
    return (
        f"| {run.bot} | {run.database} | {run.users} | {run.updates} | {run.errors} "
        f"| {run.seconds:.1f} | {run.rate:.0f} | {run.percentile(0.5):.1f} "
        f"| {run.percentile(0.99):.1f} | {cpu} | {ratio} |"
    )


def verdict(measured: list[Measured], echo: Run) -> list[str]:
    lines = []
    for found in measured:
        run = found.saturated
        ratio = run.rate / echo.rate if echo.rate else 0.0
        lines.append(
            f"- {run.database}: {ratio:.3f}× the echo bot's rate: "
            f"{'met' if ratio >= TARGET_RATIO else 'missed'} (target ≥ {TARGET_RATIO}×). "
            f"p99 {run.percentile(0.99):.0f} ms with {run.users} users saturating the bot, "
            f"{found.at_half.percentile(0.99):.0f} ms at half that load, "
            f"{found.alone.percentile(0.99):.1f} ms for one user alone: "
            + ", ".join(
                f"{'met' if r.percentile(0.99) < TARGET_P99_MS else 'missed'}"
                for r in (run, found.at_half, found.alone)
            )
            + f" (target < {TARGET_P99_MS:.0f} ms)."
        )
    return lines


def gap(measured: list[Measured], echo: Run) -> list[str]:
    """Why the rate target is missed, in this run's numbers."""
    echo_cpu = 1000 * echo.cpu / echo.updates
    lines = []
    for found in measured:
        run = found.saturated
        cpu = 1000 * run.cpu / run.updates
        lines.append(
            f"- {run.database}: {cpu:.1f} ms of CPU an update against the echo bot's "
            f"{echo_cpu:.2f} ms ({cpu / echo_cpu:.0f}×), in {run.transactions / run.updates:.1f} "
            f"database transactions and {run.statements / run.updates:.0f} SQL statements an "
            f"update; the process used {100 * run.cpu / run.seconds:.0f} % of a core "
            f"(saturated: the rate is 1 / CPU an update, more users only queue)."
        )
    return lines


EXPLANATION = (
    "Why: the echo bot parses an update and serialises one reply; ours identifies the user, "
    "loads the form, lets the engine check the answer, commits it with its audit row before "
    "replying (the answer must be on disk when the user sees ✓), and renders the next step "
    "from what is stored. That is milliseconds of Python (SQLAlchemy above all, see the "
    "profile) where the echo bot needs a fraction of one, and the GIL keeps it on one core, so "
    "neither the thread pool nor more users add throughput. Half the echo bot's rate would "
    "need well under a millisecond an update: no ORM round trip per update at all. The p99 "
    "target is about latency: one update alone costs the figure in the *one user alone* row; "
    "at half load queueing adds to it; with every user sending at once the p99 is the queue "
    "itself (users / rate), whatever the bot. For scale: people answer a step in tens of "
    "seconds, so 200 people filling at once offer a few updates a second, and replies are "
    "paced at 25 messages/s overall (1/s per chat after a burst of 3) in production anyway."
)


def menu_cost(measured: list[Measured]) -> list[str]:
    """What one /fill costs a user without a form in progress (the table menu), alone, before
    and after the saturating users filled their forms: whether it grows with the round."""
    lines = []
    grows = False
    for found in measured:
        if not found.alone.fill_latencies or not found.menu.fill_latencies:
            continue
        before = found.alone.percentile(1.0, found.alone.fill_latencies)
        after = found.menu.percentile(1.0, found.menu.fill_latencies)
        grows = grows or after > 3 * before
        failed = found.saturated.errors + found.at_half.errors
        lines.append(
            f"- {found.saturated.database}: {before:.0f} ms with the round's forms empty, "
            f"{after:.0f} ms once {found.saturated.users} of them were filled"
            + (f"; {failed} updates failed with the error message in this run" if failed else "")
            + "."
        )
    if not lines:
        return []
    verdict = (
        "it grows with the round: `Directory.status` (bot/roles.py) reads forms beyond the "
        "user's own department (every form with all its rows, the engine run over each), on "
        "SQLite inside a write transaction the others wait for."
        if grows
        else "it does not grow with the round (only the user's department's forms are read)."
    )
    heading = f"The table menu (/fill without a form in progress), one user alone: {verdict}"
    return ["", heading, *lines]


def what_if(measured: list[Measured]) -> list[str]:
    """The SQLite tail, with and without the what-if lock, when both were run."""
    plain = next((m for m in measured if m.saturated.database == "SQLite"), None)
    locked = next((m for m in measured if "what-if" in m.saturated.database), None)
    if plain is None or locked is None:
        return []
    return [
        "",
        "The SQLite tail: every transaction (reads too) begins with BEGIN IMMEDIATE, and a "
        "thread that finds the write lock taken sleeps in SQLite's busy handler (1 … 100 ms at "
        "a time) instead of being woken when it is free, so some updates wait far longer than "
        "others. With the same transactions queued on one lock in the process (what-if, "
        f"bench only): p99 {plain.saturated.percentile(0.99):.0f} → "
        f"{locked.saturated.percentile(0.99):.0f} ms saturated, "
        f"{plain.at_half.percentile(0.99):.0f} → {locked.at_half.percentile(0.99):.0f} ms at "
        f"half load, at the same rate ({plain.saturated.rate:.0f} → "
        f"{locked.saturated.rate:.0f} updates/s).",
    ]


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def main_async(args: argparse.Namespace) -> list[str]:
    script = chat_script()
    measured: list[Measured] = []
    options = {"timeout": args.timeout, "load_seconds": args.load_seconds}
    with sqlite_database() as database:
        measured.append(await run_ours(database, "SQLite", args.users, script, **options))
    if args.what_if_sqlite_lock:
        with sqlite_database() as database:
            serialise_transactions(database)
            label = "SQLite, one lock (what-if)"
            measured.append(await run_ours(database, label, args.users, script, **options))
    pg = postgres_url()
    if pg is not None:
        with postgres_database(pg) as database:
            measured.append(await run_ours(database, "PostgreSQL", args.users, script, **options))
    echo = await run_echo(measured[0].sent, args.timeout)
    lines = [
        "| bot | database | users | updates | errors | seconds | updates/s | p50 (ms) "
        "| p99 (ms) | CPU ms an update | rate vs echo |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        row(echo, None),
    ]
    for found in measured:
        lines += [
            row(found.saturated, echo),
            row(found.at_half, echo, saturated=False),
            row(found.alone, echo, saturated=False),
        ]
    lines += [
        "",
        f"{args.users} users at once, each filling table A of their own department "
        f"({len(script)} updates each: /fill, the table button, the seed's answers and button "
        "presses), sending each update as soon as the previous one is answered; the echo bot "
        "gets the same updates. *At half that rate*: other users with think time offering half "
        f"the saturated rate, for {args.load_seconds:g} s. *One user alone*: a whole table A "
        "with nobody else. Bot API answered in process (bench/inprocess.py), updates put into "
        "`application.update_queue`, replies not paced. Latency: update put in → its reply "
        "request made. CPU: the process's CPU time (all threads) / updates. Afterwards every "
        "saturating user's table A is checked to be at the review step."
        + ("" if pg else " PostgreSQL: not run (set DATABASE_URL to a PostgreSQL server)."),
        "",
        "Targets:",
        *verdict(measured, echo),
        "",
        "The rate gap, measured:",
        *gap(measured, echo),
        "",
        EXPLANATION,
        *menu_cost(measured),
        *what_if(measured),
        "",
        "Command: `"
        + " ".join(["python -m bench throughput", *args.argv])
        + "`"
        + (f", DATABASE_URL={safe_url(pg)}" if pg else "")
        + ".",
    ]
    if args.profile:
        profiler = Profiler()
        with sqlite_database() as database:
            profiled = await run_ours(
                database, "SQLite", args.profile_users, script, profiler=profiler, **options
            )
        lines += [
            "",
            f"### Where the time goes (profiled run: SQLite, {args.profile_users} users at once)",
            "",
            *profiler.report(profiled.saturated.updates),
        ]
    return lines


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench throughput")
    parser.add_argument("--users", type=int, default=200, help="simulated users (default 200)")
    parser.add_argument(
        "--load-seconds", type=float, default=20.0, help="length of the half-load phase"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per reply at most")
    parser.add_argument("--profile", action="store_true", help="add a profiled run (SQLite)")
    parser.add_argument("--profile-users", type=int, default=20, help="users in that run")
    parser.add_argument(
        "--what-if-sqlite-lock",
        action="store_true",
        help="add a SQLite run with the transactions behind one in-process lock",
    )
    parser.add_argument(
        "--no-publish", action="store_true", help="print only; leave BENCHMARKS.md alone"
    )
    args = parser.parse_args(argv)
    args.argv = [arg for arg in argv if arg != "--no-publish"]
    lines = asyncio.run(main_async(args))
    print_or_publish(
        "throughput",
        "N users filling table A at once, against a bare PTB echo bot",
        lines,
        dry_run=args.no_publish,
    )
