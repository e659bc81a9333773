"""`python -m bench cpu`: our CPU per update, in process, on SQLite and PostgreSQL.

N staff members (one department each) fill a whole table A in chat, through the real PTB
Application that `bot.startup.build_application` makes (gate, durable inbox, handlers, service,
storage, replies), with the Bot API answered in process (bench/inprocess.py) and replies not
paced. Each user sends one update, waits for the reply that carries the next prompt, and sends
the next. What they type and press is made here from the layout's definitions (a plausible
value of each field's kind, one indicator row under every 二级指标), replayed offline through the
engine once to learn the order of the steps: nothing of tests/ and no seed values.

Figures: CPU ms per update = `time.process_time()` over the measured run (every thread of the
process: the event loop and the database threads) / updates; transactions (commits) and SQL
statements per update, counted with SQLAlchemy's engine events. Against the targets of issue 13:
3 ms on SQLite, 4 ms on PostgreSQL. PostgreSQL runs when DATABASE_URL names a server
(postgresql+psycopg://…): a throw-away database is created there and dropped.

`--profile` runs the SQLite measurement again under cProfile (every thread: `threading.setprofile`
for the database threads) and prints the time by area (own time of the functions of each
package) and the functions with the most own and cumulative time. Caveat: cProfile with a
per-thread clock on Python 3.11 sometimes charges a C call of a database thread (seen on
`sqlite3.Connection.commit`) far more time than the run lasted; such a row is an artifact, the
unprofiled CPU figures are the measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import pstats
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from telegram import Update
from telegram.ext import Application

from bench.bot_api_json import JSON
from bench.databases import LAYOUT, YEAR, populate, postgres_database, postgres_url, sqlite_database
from bench.inprocess import Call, InProcessBotApi, our_application, running
from bench.report import print_or_publish
from bot import messages
from dialogs.actions import Action, ActionKind, FilingContext
from dialogs.definition import FieldKind, FormDefinition
from dialogs.engine import Engine
from dialogs.loader import get_layout
from dialogs.state import FormState
from dialogs.steps import CONFIRM, StepKind, parse_address
from storage.db import Database
from storage.repos import DepartmentRepository, FormRepository

TABLE_A_BUTTON = "部门整体支出绩效目标表"
TARGET_MS = {"SQLite": 3.0, "PostgreSQL": 4.0}
GROUP_ROWS = 2
TIMEOUT = 30.0


class BenchError(RuntimeError):
    pass


# --- what the users do ----------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    """Type `text`, or press the first button whose label equals (exact) or contains one of
    `labels`."""

    text: str = ""
    labels: tuple[str, ...] = ()
    exact: bool = False


_PRESSES: dict[ActionKind, Input] = {
    ActionKind.SKIP: Input(labels=("跳过",), exact=True),
    ActionKind.ADD_ROW: Input(labels=("再加一条",)),
    ActionKind.NEXT: Input(labels=("下一项", "下一部分")),
    ActionKind.CONFIRM: Input(labels=("✅ 对",)),
}


def _amounts(definition: FormDefinition) -> dict[str, str | None]:
    """Amounts that satisfy table A's arithmetic: the total from the general budget, the other
    sources skipped, the total split into basic and project expenditure."""
    keys = [f.key for f in definition.fields() if f.asked and f.kind is FieldKind.AMOUNT]
    answers: dict[str, str | None] = dict.fromkeys(keys)
    if len(keys) >= 6:
        total, general, *_others, basic, project = keys
        answers.update({total: "480.25", general: "480.25", basic: "400.25", project: "80"})
    else:
        answers.update(dict.fromkeys(keys, "0"))
    return answers


def _action(definition: FormDefinition, state: FormState, amounts: dict[str, str | None]) -> Action:
    """What a person does at the state's step (a synthetic answer of the step's kind)."""
    step = parse_address(state.cursor)
    assert step is not None, state.cursor
    match step.kind:
        case StepKind.FIELD:
            spec = definition.field(step.key)
            if spec.kind is FieldKind.AMOUNT:
                value = amounts[step.key]
                return (
                    Action(ActionKind.SKIP)
                    if value is None
                    else Action(ActionKind.ANSWER, text=value)
                )
            return Action(ActionKind.ANSWER, text=f"{spec.label}的说明文字，共三项工作内容。")
        case StepKind.GROUP_CELL:
            column = next(c for c in definition.field(step.key).columns if c.key == step.column)
            return Action(ActionKind.ANSWER, text=f"{column.label}第{step.row + 1}项")
        case StepKind.GROUP_MORE:
            more = len(state.groups.get(step.key, ())) < GROUP_ROWS
            return Action(ActionKind.ADD_ROW if more else ActionKind.NEXT)
        case StepKind.INDICATOR_MORE:
            return Action(ActionKind.NEXT)
        case StepKind.INDICATOR_CELL:
            if step.column == "name":
                label = next(
                    level2.label
                    for _, level2 in definition.indicators.level2s()
                    if level2.key == step.key
                )
                return Action(ActionKind.ANSWER, text=f"{label}完成年度工作任务数")
            if step.column == "value":
                return Action(ActionKind.ANSWER, text=f"≥{step.row + 3}项")
            if step.column == CONFIRM:
                return Action(ActionKind.CONFIRM)
            return Action(ActionKind.SKIP)
    raise BenchError(f"no synthetic action for {state.cursor}")


def chat_script() -> list[Input]:
    """/fill, the table A button, then one input per step until the review step."""
    definition = get_layout(LAYOUT).table_a
    engine = Engine(definition)
    context = FilingContext(year=YEAR, department_name="部门")
    amounts = _amounts(definition)
    state = engine.resume(FormState())
    inputs = [Input(text="/fill"), Input(labels=(TABLE_A_BUTTON,))]
    for _ in range(1000):
        if state.cursor == "review":
            return inputs
        action = _action(definition, state, amounts)
        outcome = engine.handle(state, action, context)
        if not outcome.accepted:
            codes = [p.code for p in outcome.problems]
            raise BenchError(f"the synthetic answer at {state.cursor} is refused: {codes}")
        inputs.append(
            Input(text=action.text) if action.kind is ActionKind.ANSWER else _PRESSES[action.kind]
        )
        state = outcome.state
    raise BenchError("the synthetic script did not reach the review step")


def find_button(message: JSON, wanted: Input) -> str:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    buttons = [(b.get("text", ""), b.get("callback_data")) for row in rows for b in row]
    for label in wanted.labels:
        for text_, data in buttons:
            if (text_ == label or (not wanted.exact and label in text_)) and data:
                return str(data)
    raise BenchError(f"no button {wanted.labels} in {[t for t, _ in buttons]}")


# --- the chat ---------------------------------------------------------------------------------


@dataclass
class ChatUser:
    telegram_id: int
    name: str
    keyboard: JSON | None = None  # the bot message that carries the current buttons
    waiter: asyncio.Future[bool] | None = None


@dataclass
class Talk:
    api: InProcessBotApi
    app: Application[Any, Any, Any, Any, Any, Any]
    users: dict[int, ChatUser] = field(default_factory=dict)
    updates: int = 0
    errors: int = 0

    def __post_init__(self) -> None:
        self.api.subscribe(self._on_call)

    def _on_call(self, call: Call, result: JSON | bool | list[JSON]) -> None:
        if call.method not in ("sendMessage", "editMessageText") or not isinstance(result, dict):
            return
        user = self.users.get(call.chat_id or 0)
        if user is None:
            return
        failed = call.params.get("text") == messages.ERROR_TEXT
        if call.keyboard is None and not failed:
            return  # a first part of a long reply: the prompt with its buttons comes last
        user.keyboard = result
        if user.waiter is not None and not user.waiter.done():
            user.waiter.set_result(not failed)

    async def perform(self, user: ChatUser, step: Input) -> None:
        if step.labels:
            if user.keyboard is None:
                raise BenchError(f"user {user.telegram_id}: no keyboard for {step.labels}")
            under, data = user.keyboard, find_button(user.keyboard, step)
            payload = self.api.callback_update(user.telegram_id, under, data, user.name)
        else:
            payload = self.api.text_update(user.telegram_id, step.text, user.name)
        user.waiter = asyncio.get_running_loop().create_future()
        await self.app.update_queue.put(Update.de_json(payload, self.app.bot))
        try:
            answered = await asyncio.wait_for(user.waiter, TIMEOUT)
        except TimeoutError:
            raise BenchError(f"no reply to {step} for user {user.telegram_id}") from None
        self.updates += 1
        if not answered:
            self.errors += 1
            raise BenchError(f"user {user.telegram_id}: {step} was answered with the error text")

    async def fill(self, users: Sequence[ChatUser], script: Sequence[Input]) -> None:
        async def one(user: ChatUser) -> None:
            for step in script:
                await self.perform(user, step)

        await asyncio.gather(*(one(user) for user in users))


# --- the bot and its database -----------------------------------------------------------------


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Figures:
    database: str
    users: int
    updates: int = 0
    cpu: float = 0.0  # seconds of process CPU (every thread)
    seconds: float = 0.0
    statements: int = 0
    transactions: int = 0
    profile: pstats.Stats | None = None

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.updates if self.updates else 0.0

    def per_update(self, count: int) -> float:
        return count / self.updates if self.updates else 0.0


class ThreadProfiles:
    """cProfile on the event loop's thread and on every thread started meanwhile (the database
    threads of `asyncio.to_thread`), merged into one Stats. Timed with each thread's own CPU
    time (`time.thread_time`), so waiting (for the loop's poll, SQLite's lock, a queue) costs
    nothing and the figures add up to CPU, as the benchmark's main figure does."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def _thread_hook(self, *_: object) -> None:
        profile = cProfile.Profile(time.thread_time)
        with self._lock:
            self.profiles.append(profile)
        sys.setprofile(None)
        profile.enable()

    def start(self) -> None:
        # Fresh database threads, so that each starts under the hook.
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor())
        main = cProfile.Profile(time.thread_time)
        self.profiles.append(main)
        threading.setprofile(self._thread_hook)
        main.enable()

    def stop(self) -> pstats.Stats:
        threading.setprofile(None)
        for profile in self.profiles:
            profile.disable()  # only the main thread's stops here; the others stop below
        stats = pstats.Stats(self.profiles[0])
        for profile in self.profiles[1:]:
            stats.add(profile)
        return stats


async def run_bot(database: Database, label: str, count: int, *, profile: bool) -> Figures:
    population = await asyncio.to_thread(populate, database, count + 1)
    script = chat_script()
    api = InProcessBotApi()
    app = our_application(database, api, renderer=None)
    talk = Talk(api, app)
    people = [ChatUser(t, n) for t, n, _ in population.users]
    talk.users = {u.telegram_id: u for u in people}
    figures = Figures(label, count)
    counts: Counter[str] = Counter()

    def statement(*_: object) -> None:
        counts["statements"] += 1

    def commit(*_: object) -> None:
        counts["transactions"] += 1

    async with running(app):
        await talk.fill(people[:1], script)  # warm: caches, compiled SQL, pools
        talk.updates = 0
        event.listen(database.engine, "before_cursor_execute", statement)
        event.listen(database.engine, "commit", commit)
        profiler = ThreadProfiles() if profile else None
        cpu, start = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.start()
        try:
            await talk.fill(people[1:], script)
        finally:
            if profiler is not None:
                figures.profile = profiler.stop()
            figures.cpu = time.process_time() - cpu
            figures.seconds = time.perf_counter() - start
            event.remove(database.engine, "before_cursor_execute", statement)
            event.remove(database.engine, "commit", commit)
    figures.updates = talk.updates
    figures.statements, figures.transactions = counts["statements"], counts["transactions"]
    await asyncio.to_thread(_check_filled, database, count + 1)
    return figures


def _check_filled(database: Database, count: int) -> None:
    with database.transaction() as session:
        forms = [
            f
            for department in DepartmentRepository(session).list_all()
            for f in FormRepository(session).list_for_department(department.id, 1)
        ]
    at_review = sum(1 for f in forms if f.state.cursor == "review")
    if at_review != count:
        raise BenchError(f"{at_review} of {count} tables A reached the review step")


# --- the profile by area ----------------------------------------------------------------------

_AREAS = (
    ("sqlalchemy", "SQLAlchemy"),
    ("/telegram/", "PTB"),
    ("/dialogs/", "dialogs"),
    ("/storage/", "storage"),
    ("/bot/", "bot"),
    ("/bench/", "bench"),
    ("/json/", "json"),
    ("sqlite3", "sqlite3"),
    ("psycopg", "psycopg"),
    ("/jinja2/", "jinja2"),
    ("/asyncio/", "asyncio"),
    ("/pydantic", "pydantic"),
)


# Where an idle thread blocks: the pool's workers waiting for work (cProfile charges them
# time even on the thread's CPU clock), the loop's poll. Not work: left out of the figures.
_WAITING = frozenset(
    {
        "<method 'get' of '_queue.SimpleQueue' objects>",
        "<method 'poll' of 'select.epoll' objects>",
        "<method 'acquire' of '_thread.lock' objects>",
    }
)


def _area(filename: str, function: str) -> str:
    if filename == "~":
        if "sqlite3" in function:
            return "sqlite3"
        if "json" in function:
            return "json"
        if "psycopg" in function:
            return "psycopg"
        return "builtins"
    for needle, name in _AREAS:
        if needle in filename:
            return name
    return "other (stdlib)"


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/jixiao/", "/wt-cpu/", "/main/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename.rsplit("/", 2)[-1] if "/" in filename else filename


def profile_lines(stats: pstats.Stats, updates: int, users: int, top: int = 25) -> list[str]:
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    by_area: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        if function in _WAITING:
            continue
        by_area[_area(filename, function)] += tottime
        total += tottime
    lines = [
        "",
        f"Profile (SQLite, {users} user(s), cProfile with each thread's CPU time as its clock,"
        " on every thread;",
        "own time by area, ms per update; cProfile's overhead inflates every figure, the shares",
        "are what to read):",
        "",
        "| area | ms/update | share |",
        "| --- | ---: | ---: |",
    ]
    for area, seconds in sorted(by_area.items(), key=lambda item: -item[1]):
        lines.append(f"| {area} | {1000 * seconds / updates:.2f} | {100 * seconds / total:.0f} % |")
    for title, key in (("own", 2), ("cumulative", 3)):
        lines += [
            "",
            f"Top functions by {title} time (ms per update):",
            "",
            "| function | calls/update | ms/update |",
            "| --- | ---: | ---: |",
        ]
        ordered = sorted(
            (item for item in raw.items() if item[0][2] not in _WAITING),
            key=lambda item: -item[1][key],
        )
        if key == 3:  # cumulative: our code and the libraries' entry points, not the loop
            ordered = [
                item
                for item in ordered
                if any(p in item[0][0] for p in ("/bot/", "/storage/", "/dialogs/"))
            ]
        for (filename, line, function), values in ordered[:top]:
            where = f"{_short(filename)}:{line} {function}" if filename != "~" else function
            lines.append(
                f"| `{where}` | {values[1] / updates:.1f} | {1000 * values[key] / updates:.3f} |"
            )
    return lines


# --- the report -------------------------------------------------------------------------------


def row(figures: Figures) -> str:
    target = TARGET_MS[figures.database]
    verdict = "met" if figures.cpu_ms <= target else f"{figures.cpu_ms / target:.1f}× over"
    return (
        f"| {figures.database} | {figures.users} | {figures.updates} | {figures.cpu_ms:.2f} "
        f"| {target:g} ({verdict}) | {figures.per_update(figures.transactions):.2f} "
        f"| {figures.per_update(figures.statements):.2f} "
        f"| {figures.updates / figures.seconds:.0f} |"
    )


async def main_async(args: argparse.Namespace) -> list[str]:
    measured: list[Figures] = []
    pg = postgres_url()
    runs: list[tuple[str, Callable[[], contextlib.AbstractContextManager[Database]]]] = [
        ("SQLite", sqlite_database)
    ]
    if pg and not args.sqlite_only:
        runs.append(("PostgreSQL", lambda: postgres_database(pg)))
    for label, make in runs:
        best: Figures | None = None
        for _ in range(args.repeat):  # the least CPU of the runs: other load only adds
            with make() as database:
                figures = await run_bot(database, label, args.users, profile=False)
            best = figures if best is None or figures.cpu_ms < best.cpu_ms else best
        assert best is not None
        measured.append(best)
    profiled: Figures | None = None
    if args.profile:
        with sqlite_database() as database:
            profiled = await run_bot(database, "SQLite", args.profile_users, profile=True)
    script = chat_script()
    typed = sum(1 for step in script if not step.labels)
    lines = [
        f"`{' '.join(['python -m bench cpu', *args.argv])}`"
        + (f" (DATABASE_URL={_safe(pg)})" if pg and not args.sqlite_only else "")
        + f": {args.users} users fill a whole table A ({LAYOUT} layout, {len(script)} updates "
        f"each: {typed} typed, {len(script) - typed} button presses) at once through the real "
        "Application, the Bot API answered in process, replies not paced, after one warm-up "
        "user. CPU = process CPU time (all threads) over the run / updates; the least of "
        f"{args.repeat} runs (the machine is shared: other load only adds to it).",
        "",
        "| database | users | updates | CPU ms/update | target ms | transactions/update "
        "| statements/update | updates/s |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
        *(row(figures) for figures in measured),
    ]
    if pg is None:
        lines.append("")
        lines.append("PostgreSQL not measured: DATABASE_URL names no postgresql server.")
    if profiled is not None and profiled.profile is not None:
        lines += profile_lines(profiled.profile, profiled.updates, profiled.users, top=args.top)
    return lines


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench cpu", description=__doc__)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="add a cProfile summary")
    parser.add_argument("--top", type=int, default=20, help="functions listed in the profile")
    parser.add_argument(
        "--profile-users",
        type=int,
        default=1,
        help="users of the profiled run (with several, threads waiting for SQLite's write lock "
        "are charged CPU time inside sqlite3 that the process does not spend)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per database; the least CPU")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--no-publish", action="store_true", help="print, leave BENCHMARKS.md")
    args = parser.parse_args(argv)
    args.argv = [a for a in argv if a != "--no-publish"]
    lines = asyncio.run(main_async(args))
    print_or_publish("cpu", "our CPU per update, in process", lines, dry_run=args.no_publish)
