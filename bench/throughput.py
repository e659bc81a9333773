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
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bench.inprocess import JSON, Call, InProcessBotApi
from bench.report import publish
from bot.ratelimit import Pacing, RetryingRateLimiter
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


# --- measuring -------------------------------------------------------------------------------------


@dataclass
class Run:
    bot: str
    database: str
    users: int
    updates: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    alone: Run | None = None  # the same bot with one user alone (our bot only)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
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
    waiter: asyncio.Future[float] | None = None
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
        if self.reply_needs_keyboard and call.keyboard is None:
            return
        if call.keyboard is not None:
            user.last_keyboard = result
        if user.waiter is not None and not user.waiter.done():
            user.waiter.set_result(call.time)

    def user(self, telegram_id: int, name: str) -> ChatUser:
        found = self.users.get(telegram_id)
        if found is None:
            found = self.users[telegram_id] = ChatUser(telegram_id, name)
        return found

    async def exchange(self, user: ChatUser, data: JSON, what: str) -> None:
        """Put one update in and wait for its reply; record the latency."""
        user.waiter = asyncio.get_running_loop().create_future()
        start = time.perf_counter()
        await self.app.update_queue.put(Update.de_json(data, self.app.bot))
        try:
            replied = await asyncio.wait_for(user.waiter, self.timeout)
        except TimeoutError:
            raise BenchError(
                f"{self.run.bot}: no reply to {what!r} from user {user.telegram_id} "
                f"within {self.timeout:g}s"
            ) from None
        if self.recording:
            self.run.latencies.append(replied - start)
            self.run.updates += 1

    async def say(self, user: ChatUser, text_: str) -> None:
        user.sent.append(("text", text_))
        await self.exchange(user, self.api.text_update(user.telegram_id, text_, user.name), text_)

    async def press(self, user: ChatUser, data: str, under: JSON | None) -> None:
        if under is None:
            raise BenchError(f"user {user.telegram_id}: no bot message to press {data!r} under")
        user.sent.append(("press", data))
        update = self.api.callback_update(user.telegram_id, under, data, user.name)
        await self.exchange(user, update, data)

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


# --- the two bots ----------------------------------------------------------------------------------


def bench_settings(database: Database, api: InProcessBotApi) -> Settings:
    values = {
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
    with api.serving_builders():
        return build_application(bench_settings(database, api), database, rate_limiter=limiter)


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


# --- databases -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Population:
    users: list[tuple[int, str]]  # (telegram id, display name)
    round_id: int


def populate(database: Database, count: int, warmups: int) -> Population:
    """`count + warmups` departments, each with one staff member, and an open round."""
    users: list[tuple[int, str]] = []
    with database.transaction() as session:
        departments, people = DepartmentRepository(session), UserRepository(session)
        deadline = datetime(YEAR, 3, 31, 9, 0, tzinfo=UTC)
        round_ = RoundRepository(session).create(YEAR, LAYOUT, deadline, f"{YEAR}年绩效目标")
        for index in range(count + warmups):
            department = departments.create(f"基准部门{index:04d}")
            name = f"填报员{index:04d}"
            people.create(FIRST_TELEGRAM_ID + index, name, Role.STAFF, department.id)
            users.append((FIRST_TELEGRAM_ID + index, name))
    return Population(users, round_.id)


def forms_at_review(database: Database, round_id: int) -> tuple[int, int]:
    """How many table A forms of the round reached the review step, and how many exist."""
    with database.transaction() as session:
        forms = FormRepository(session).list_for_round(round_id)
    return sum(1 for f in forms if f.state.cursor == "review"), len(forms)


@contextlib.contextmanager
def sqlite_database() -> Iterator[Database]:
    directory = Path(tempfile.mkdtemp(prefix="jixiao-bench-"))
    url = f"sqlite:///{directory / 'bench.sqlite3'}"
    try:
        upgrade(url)
        database = Database(url)
        try:
            yield database
        finally:
            database.dispose()
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
            upgrade(url)
            database = Database(url)
            try:
                yield database
            finally:
                database.dispose()
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


# --- the runs --------------------------------------------------------------------------------------


async def fill_concurrently(
    talk: Conversations, users: Sequence[ChatUser], script: Sequence[Input]
) -> None:
    async def one(user: ChatUser) -> None:
        for step in script:
            await talk.perform(user, step)

    await asyncio.gather(*(one(user) for user in users))


async def run_ours(
    database: Database,
    label: str,
    count: int,
    script: Sequence[Input],
    timeout: float,
    profiler: Profiler | None = None,
) -> tuple[Run, dict[int, list[tuple[str, str]]]]:
    """Our bot on `database`; returns the run and what each user sent (for the echo bot)."""
    population = await asyncio.to_thread(populate, database, count, 2)
    api = InProcessBotApi()
    app = our_application(database, api)
    run = Run("jixiao", label, count)
    talk = Conversations(api, app, run, reply_needs_keyboard=True, timeout=timeout)
    people = [talk.user(telegram_id, name) for telegram_id, name in population.users]
    warm, users = people[:2], people[2:]
    async with running(app):
        # Warm-up, not measured: one user fills the whole table alone (caches, compiled SQL),
        # and the second is timed alone: what one update costs without contention.
        talk.recording = False
        await fill_concurrently(talk, warm[:1], script)
        talk.recording = True
        alone = Run("jixiao, one user alone", label, 1)
        talk.run = alone
        start = time.perf_counter()
        await fill_concurrently(talk, warm[1:], script)
        alone.seconds = time.perf_counter() - start
        talk.run = run
        if profiler is not None:
            profiler.start()
        start = time.perf_counter()
        await fill_concurrently(talk, users, script)
        run.seconds = time.perf_counter() - start
        if profiler is not None:
            profiler.stop()
    done, total = await asyncio.to_thread(forms_at_review, database, population.round_id)
    if done != total or total != count + 2:
        raise BenchError(f"{label}: {done} of {total} forms at review, expected {count + 2}")
    run.alone = alone
    return run, {user.telegram_id: user.sent for user in users}


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
        start = time.perf_counter()
        await asyncio.gather(
            *(talk.replay(users[telegram_id], inputs) for telegram_id, inputs in sent.items())
        )
        run.seconds = time.perf_counter() - start
    return run


# --- profiling -------------------------------------------------------------------------------------


class Profiler:
    """cProfile on the event-loop thread (handlers, PTB, rendering) and a stack sampler over
    the other threads (asyncio.to_thread: the database work), which cProfile does not see."""

    IDLE = ("threading.py:wait", "queue.py:get", "thread.py:_worker", "selectors.py:select")

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.loop_profile = cProfile.Profile()
        self.samples = 0
        self.leaves: Counter[str] = Counter()
        self.ours: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.loop_profile.enable()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.loop_profile.disable()
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _sample(self) -> None:
        own = threading.get_ident()
        main = threading.main_thread().ident
        while not self._stop.wait(self.interval):
            for ident, frame in sys._current_frames().items():
                if ident in (own, main):
                    continue
                leaf = _where(frame)
                if leaf.startswith(self.IDLE):
                    continue
                self.samples += 1
                self.leaves[leaf] += 1
                seen: set[str] = set()
                current: Any = frame
                while current is not None:
                    name = _where(current)
                    if name.startswith(("bot/", "storage/", "dialogs/")) and name not in seen:
                        seen.add(name)
                        self.ours[name] += 1
                    current = current.f_back

    def report(self, top: int = 12) -> list[str]:
        buffer = io.StringIO()
        stats = pstats.Stats(self.loop_profile, stream=buffer)
        total = stats.total_tt  # type: ignore[attr-defined]
        rows = []
        for (filename, line, function), entry in stats.stats.items():  # type: ignore[attr-defined]
            _, calls, own_time, cumulative, _ = entry
            rows.append((cumulative, own_time, calls, _short(filename), line, function))
        lines = [
            f"Event-loop thread, cProfile: {total:.2f} s of CPU in profiled calls; "
            "top by own time (cumulative in brackets):",
            "",
        ]
        for cumulative, own_time, calls, filename, line, function in sorted(
            rows, key=lambda r: -r[1]
        )[:top]:
            lines.append(
                f"- `{filename}:{line} {function}` {own_time:.2f} s own "
                f"({cumulative:.2f} s cumulative, {calls} calls)"
            )
        lines += [
            "",
            "Our code on the stack of that thread, by cumulative time:",
            "",
        ]
        ours = [r for r in rows if r[3].startswith(("bot/", "storage/", "dialogs/"))]
        for cumulative, _own, calls, filename, line, function in sorted(ours, key=lambda r: -r[0])[
            :top
        ]:
            lines.append(f"- `{filename}:{line} {function}` {cumulative:.2f} s ({calls} calls)")
        if self.samples:
            lines += [
                "",
                f"Database threads, sampled every {self.interval * 1000:g} ms "
                f"({self.samples} busy samples): where the threads were",
                "",
            ]
            for name, count in self.leaves.most_common(8):
                lines.append(f"- `{name}` {100 * count / self.samples:.0f} %")
            lines += ["", "and which of our functions were on their stacks:", ""]
            for name, count in self.ours.most_common(top):
                lines.append(f"- `{name}` {100 * count / self.samples:.0f} %")
        return lines


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


# --- the report ------------------------------------------------------------------------------------


def row(run: Run, echo: Run | None) -> str:
    ratio = f"{run.rate / echo.rate:.2f}×" if echo is not None and echo.rate else "1×"
    return (
        f"| {run.bot} | {run.database} | {run.users} | {run.updates} | {run.seconds:.1f} "
        f"| {run.rate:.0f} | {run.percentile(0.5):.1f} | {run.percentile(0.99):.1f} | {ratio} |"
    )


def verdict(ours: list[Run], echo: Run) -> list[str]:
    lines = []
    for run in ours:
        ratio = run.rate / echo.rate if echo.rate else 0.0
        alone = run.alone if run.alone is not None else Run(run.bot, run.database, 1)
        met_rate = ratio >= TARGET_RATIO
        met_p99 = run.percentile(0.99) < TARGET_P99_MS
        lines.append(
            f"- {run.database}: rate {ratio:.2f}× the echo bot "
            f"({'met' if met_rate else 'missed'}, target ≥ {TARGET_RATIO}×); p99 "
            f"{run.percentile(0.99):.0f} ms saturated ({'met' if met_p99 else 'missed'}, "
            f"target < {TARGET_P99_MS:.0f} ms), {alone.percentile(0.99):.1f} ms for one user "
            f"alone (p50 {alone.percentile(0.5):.1f} ms)."
        )
    return lines


async def main_async(args: argparse.Namespace) -> list[str]:
    script = chat_script()
    runs: list[Run] = []
    sent: dict[int, list[tuple[str, str]]] = {}
    with sqlite_database() as database:
        run, sent = await run_ours(database, "SQLite", args.users, script, args.timeout)
        runs.append(run)
    pg = postgres_url()
    if pg is not None:
        with postgres_database(pg) as database:
            run, _ = await run_ours(database, "PostgreSQL", args.users, script, args.timeout)
            runs.append(run)
    echo = await run_echo(sent, args.timeout)
    lines = [
        "| bot | database | users | updates | seconds | updates/s | p50 (ms) | p99 (ms) "
        "| rate vs echo |",
        "|---|---|---|---|---|---|---|---|---|",
        row(echo, None),
        *(row(run, echo) for run in runs),
        *(row(run.alone, echo) for run in runs if run.alone is not None),
    ]
    lines += [
        "",
        f"{args.users} users at once, each filling table A of their own department "
        f"({len(script)} updates each: /fill, the table button, the seed's answers and button "
        "presses), without think time; the echo bot gets the same updates. Bot API answered in "
        "process (bench/inprocess.py), updates put into `application.update_queue`; replies "
        "unpaced (production spaces them at 25 messages/s overall). Latency: update put in → "
        "its reply request made. Every form is checked to be at the review step afterwards."
        + ("" if pg else " PostgreSQL: not run (set DATABASE_URL to a PostgreSQL server)."),
        "",
        "Targets:",
        *verdict(runs, echo),
    ]
    if args.profile:
        profiler = Profiler()
        with sqlite_database() as database:
            await run_ours(database, "SQLite", args.users, script, args.timeout, profiler)
        lines += ["", "### Where the time goes (profiled run, SQLite)", "", *profiler.report()]
    if args.notes:
        lines += ["", *Path(args.notes).read_text(encoding="utf-8").splitlines()]
    return lines


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench throughput")
    parser.add_argument("--users", type=int, default=200, help="simulated users (default 200)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per reply at most")
    parser.add_argument("--profile", action="store_true", help="add a profiled run (SQLite)")
    parser.add_argument("--notes", help="a Markdown file appended to the published section")
    parser.add_argument(
        "--no-publish", action="store_true", help="print only; leave BENCHMARKS.md alone"
    )
    args = parser.parse_args(argv)
    lines = asyncio.run(main_async(args))
    if args.no_publish:
        print("\n".join(lines))
        return
    publish("throughput", "N users filling table A at once, against a bare PTB echo bot", lines)

