"""`python -m bench throughput`: N staff members filling table A at once, over the real path.

The way the bot is deployed: our bot runs in its own process (`python -m bench.bot_main`, that
is `jixiao run` with the reply pacing off, see there), configured through the environment
(TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL, DATABASE_URL, JIXIAO_DATA_DIR), and long polls a Bot
API over HTTP on 127.0.0.1 that this process serves (bench/loopback.py). The database is real:
SQLite in a temporary directory, and PostgreSQL too when DATABASE_URL names a server (a
throw-away database is created there and dropped).

Each simulated user has their own department and fills its table A as a person would: /fill,
the table button, then answers and button presses made from the layout (bench/chat_script.py).
A user sends an update when the reply to the previous one has arrived. Latency of an update:
from when it is offered to getUpdates until the loopback API receives the request carrying its
reply (the message with the next prompt's buttons; for the echo bot its one message).

Phases, each measured apart, after a warm-up user (not measured): one user alone; N users at
once, no think time (saturated: `updates/s` is the capacity); one /fill by a user without a
form once the round is filled (the table menu); N other users with think time offering half
the saturated rate for `--seconds`. Afterwards every saturating user's table A must be at the
review step. A bare PTB echo bot in its own process, long polling a loopback API the same way,
gets the same updates: the ceiling PTB, HTTP and Python set. CPU per update is the bot
process's user + system time (all threads, /proc) over the phase's updates; the bench process's
own CPU (loopback API and users) is shown too, to tell whether it could have been the limit.

`--profile` adds a run of our bot on SQLite (`--profile-users`, saturated) sampled by py-spy
from outside, or under cProfile when py-spy is not installed (bench/profiles.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bot_api_json import JSON
from bench.chat import BenchError, Conversations, Run, at_load, fill_concurrently
from bench.chat_script import Input, table_a_script
from bench.databases import (
    LAYOUT,
    YEAR,
    form_cursors,
    populate,
    postgres_database,
    postgres_url,
    safe_url,
    sqlite_database,
)
from bench.loopback import LoopbackBotApi
from bench.processes import BotProcess, bot_environment
from bench.profiles import PySpy, cprofile_rows, cprofile_wrapper, py_spy, summary
from bench.report import print_or_publish
from storage.db import Database

TARGET_RATIO = 0.5  # saturated rate against the echo bot's, at least
TARGET_HALF_P99_MS = 100.0  # p99 at half the saturated rate, under
TARGET_ALONE_P99_MS = 30.0  # p99 of one user alone, under


@dataclass
class Measured:
    saturated: Run
    alone: Run
    at_half: Run
    menu: Run  # one /fill without a form in progress, after the saturating users filled theirs
    sent: dict[int, list[tuple[str, str]]]  # what each saturating user sent, for the echo bot
    unknown: dict[str, int]  # Bot API methods the loopback API does not model
    cursors: dict[int, str]  # where each saturating user's table A stood afterwards


def delivering(api: LoopbackBotApi) -> Any:
    async def deliver(update: JSON) -> None:
        api.deliver(update)

    return deliver


async def measure(run: Run, work: Awaitable[object], process: BotProcess) -> None:
    """Wall time, the bot process's CPU time and this process's CPU time into `run`."""
    cpu, own, start = process.cpu_seconds(), time.process_time(), time.perf_counter()
    await work
    run.seconds = time.perf_counter() - start
    run.cpu = process.cpu_seconds() - cpu
    run.driver_cpu = time.process_time() - own
    print(
        f"  {run.bot} ({run.database}): {run.updates} updates in {run.seconds:.1f} s",
        file=sys.stderr,
        flush=True,
    )


@contextlib.asynccontextmanager
async def bot_running(
    api: LoopbackBotApi,
    name: str,
    module: str,
    database_url: str,
    workdir: Path,
    wrapper: list[str] | None = None,
) -> AsyncIterator[BotProcess]:
    data_dir = workdir / name
    data_dir.mkdir(parents=True, exist_ok=True)
    environment = bot_environment(api, database_url, data_dir)
    process = BotProcess(name, module, environment, data_dir / "bot.log", wrapper or [])
    await process.start(api)
    try:
        yield process
    finally:
        code = await process.stop()
        if code not in (0, None):
            print(f"{name} exited with {code}:\n{process.tail()}")


async def run_ours(
    database: Database,
    label: str,
    count: int,
    script: Sequence[Input],
    args: argparse.Namespace,
    workdir: Path,
    *,
    profile: Path | None = None,
) -> tuple[Measured, list[str]]:
    """Our bot on `database`: a warm-up user, one user alone, `count` users at once, one
    user's table menu once theirs are filled, then `count` others at half the saturated rate
    (not when profiling, which measures the saturated phase only)."""
    population = await asyncio.to_thread(populate, database, 2 * count + 3)
    url = database.url.render_as_string(hide_password=False)
    saturated = Run("jixiao", label, count)
    at_half = Run("jixiao, at half that rate", label, count)
    alone = Run("jixiao, one user alone", label, 1)
    menu = Run("menu probe", label, 1)
    spy = py_spy() if profile is not None else None
    wrapper = cprofile_wrapper(profile) if profile is not None and spy is None else None
    profiled: list[str] = []
    async with (
        LoopbackBotApi() as api,
        bot_running(api, "jixiao", "bench.bot_main", url, workdir, wrapper) as process,
    ):
        api.record = False
        talk = Conversations(
            api, delivering(api), saturated, reply_needs_keyboard=True, timeout=args.timeout
        )
        people = [talk.user(telegram_id, name) for telegram_id, name, _ in population.users]
        warm, alone_user, probe = people[0], people[1], people[2]
        users, later = people[3 : 3 + count], people[3 + count :]
        # Not measured: one user fills the whole table alone (caches, compiled SQL, pools).
        talk.recording = False
        await fill_concurrently(talk, [warm], script)
        talk.recording = True
        talk.run = alone
        await measure(alone, fill_concurrently(talk, [alone_user], script), process)
        talk.run = saturated
        sampler = None
        if profile is not None and spy is not None:
            sampler = PySpy(spy, process.pid, profile)
            await sampler.start()
        await measure(saturated, fill_concurrently(talk, users, script), process)
        if sampler is not None:
            await sampler.stop()
            profiled = profile_lines("py-spy", sampler.rows(), saturated, count)
        if profile is None:
            talk.run = menu
            await measure(menu, talk.perform(probe, script[0]), process)
            talk.run = at_half
            rate = saturated.rate / 2
            work = at_load(talk, later, script, rate, args.seconds)
            await measure(at_half, work, process)
        unknown = dict(api.unknown)
    if profile is not None and spy is None:
        profiled = profile_lines("cProfile", cprofile_rows(profile), saturated, count)
    cursors = await asyncio.to_thread(form_cursors, database, population.round_id)
    reached = {t: cursors.get(d, "") for t, _, d in population.users[3 : 3 + count]}
    missing = [telegram_id for telegram_id, cursor in reached.items() if cursor != "review"]
    if missing:
        raise BenchError(f"{label}: {len(missing)} users' table A did not reach the review step")
    sent = {user.telegram_id: user.sent for user in users}
    return Measured(saturated, alone, at_half, menu, sent, unknown, reached), profiled


async def run_echo(
    sent: dict[int, list[tuple[str, str]]], args: argparse.Namespace, workdir: Path
) -> tuple[Run, Run]:
    """The echo bot gets the same updates: one user alone, then all users at once."""
    saturated = Run("PTB echo", "—", len(sent))
    alone = Run("PTB echo, one user alone", "—", 1)
    async with (
        LoopbackBotApi() as api,
        bot_running(api, "echo", "bench.echo_bot", "", workdir) as process,
    ):
        api.record = False
        talk = Conversations(
            api, delivering(api), alone, reply_needs_keyboard=False, timeout=args.timeout
        )
        inputs = list(sent.values())
        users = {telegram_id: talk.user(telegram_id, f"用户{telegram_id}") for telegram_id in sent}
        talk.recording = False
        await talk.replay(talk.user(1, "预热"), inputs[0])
        talk.recording = True
        await measure(alone, talk.replay(talk.user(2, "独自"), inputs[0]), process)
        talk.run = saturated
        work = asyncio.gather(*(talk.replay(users[t], sent[t]) for t in sent))
        await measure(saturated, work, process)
    for telegram_id, user in users.items():
        if user.replies != len(sent[telegram_id]):
            raise BenchError(f"echo: user {telegram_id} got {user.replies} replies")
    return saturated, alone


# --- the report ----------------------------------------------------------------------------------


def per_update(run: Run, seconds: float) -> str:
    # /proc counts CPU in clock ticks (10 ms): a figure over a handful of updates says nothing.
    return f"{1000 * seconds / run.updates:.2f}" if run.updates >= 20 else "–"


def row(run: Run, echo: Run | None, *, saturated: bool = True) -> str:
    ratio = "–" if not saturated else "1×" if echo is None else f"{run.rate / echo.rate:.3f}×"
    return (
        f"| {run.bot} | {run.database} | {run.users} | {run.updates} | {run.errors} "
        f"| {run.seconds:.1f} | {run.rate:.0f} | {run.percentile(0.5):.1f} "
        f"| {run.percentile(0.99):.1f} | {per_update(run, run.cpu)} "
        f"| {per_update(run, run.driver_cpu)} | {ratio} |"
    )


def phase_rows(found: Measured, echo: Run | None = None) -> list[str]:
    return [
        row(found.saturated, echo, saturated=echo is not None),
        row(found.at_half, echo, saturated=False),
        row(found.alone, echo, saturated=False),
        row(found.menu, echo, saturated=False),
    ]


def mark(met: bool) -> str:
    return "met" if met else "missed"


def verdict(measured: list[Measured], echo: Run) -> list[str]:
    lines = []
    for found in measured:
        run, half, alone = found.saturated, found.at_half, found.alone
        ratio = run.rate / echo.rate if echo.rate else 0.0
        half_p99, alone_p99 = half.percentile(0.99), alone.percentile(0.99)
        cpu = 1000 * run.cpu / run.updates if run.updates else 0.0
        lines += [
            f"- {run.database}: saturated rate {run.rate:.0f} updates/s = {ratio:.3f}× the "
            f"echo bot's {echo.rate:.0f}: {mark(ratio >= TARGET_RATIO)} "
            f"(target ≥ {TARGET_RATIO}×).",
            f"- {run.database}: p99 at half that rate ({half.rate:.0f} updates/s offered, "
            f"{half.updates} updates): {half_p99:.1f} ms: "
            f"{mark(half.updates > 0 and half_p99 < TARGET_HALF_P99_MS)} "
            f"(target < {TARGET_HALF_P99_MS:.0f} ms).",
            f"- {run.database}: p99 of one user alone: {alone_p99:.1f} ms: "
            f"{mark(alone_p99 < TARGET_ALONE_P99_MS)} (target < {TARGET_ALONE_P99_MS:.0f} ms).",
            f"- {run.database}: CPU of the bot process an update (saturated): {cpu:.2f} ms, "
            f"against the echo bot's {per_update(echo, echo.cpu)} ms "
            f"({cpu / (1000 * echo.cpu / echo.updates):.0f}×); the process used "
            f"{100 * run.cpu / run.seconds:.0f} % of a core.",
        ]
    return lines


def report(
    args: argparse.Namespace,
    script: Sequence[Input],
    measured: list[Measured],
    echo: Run,
    echo_alone: Run,
    pg: str | None,
) -> list[str]:
    lines = [
        "| bot | database | users | updates | errors | seconds | updates/s | p50 (ms) "
        "| p99 (ms) | bot CPU ms an update | bench CPU ms an update | rate vs echo |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        row(echo, None),
        row(echo_alone, echo, saturated=False),
    ]
    for found in measured:
        lines += phase_rows(found, echo)
    unknown = sorted({m for found in measured for m in found.unknown})
    lines += [
        "",
        f"{args.users} users at once, each filling table A of their own department "
        f"({len(script)} updates each: /fill, the table button, answers and button presses made "
        "from the layout by bench/chat_script.py), each sending the next update as soon as "
        "the reply to the previous one arrived; the echo bot gets the same updates. *At half "
        "that rate*: other users with think time offering half the saturated rate, for "
        f"{args.seconds:g} s. *One user alone*: a whole table A with nobody else. *Menu probe*: "
        "one /fill of a user without a form once the round is filled. Each bot in its own "
        "process long polling a loopback Bot API over HTTP on 127.0.0.1 (bench/loopback.py); "
        "ours is `jixiao run` with reply pacing off (bench/bot_main.py), the echo bot PTB's "
        "defaults (bench/echo_bot.py). Latency: update offered to getUpdates → its reply "
        "request received. *Bot CPU*: the bot process's user + system time (all threads) / "
        "updates; *bench CPU*: this process's (loopback API and users). Every saturating "
        "user's table A was at the review step afterwards."
        + (" PostgreSQL: not run (set DATABASE_URL to a PostgreSQL server)." if not pg else "")
        + (
            f" Bot API methods not modelled (answered true): {', '.join(unknown)}."
            if unknown
            else ""
        ),
        "",
        "Against the targets:",
        *verdict(measured, echo),
        "",
        "Command: `"
        + " ".join(["python -m bench throughput", *args.argv])
        + "`"
        + (f", DATABASE_URL={safe_url(pg)}" if pg else "")
        + f"; load average before the run {args.load_before:.1f} (2 CPUs shared).",
    ]
    return lines


def profile_lines(tool: str, rows: list[Any], run: Run, users: int) -> list[str]:
    how = (
        "sampled by py-spy from outside, every thread, during the saturated phase only"
        if tool == "py-spy"
        else "cProfile on the main thread only (not the database threads), from start to stop"
    )
    return [
        "",
        f"### Where the bot process's CPU goes (SQLite, {users} users at once, {how})",
        "",
        f"{run.updates} updates at {run.rate:.0f}/s, {per_update(run, run.cpu)} ms of CPU an "
        "update.",
        "",
        *summary(rows, run.updates),
    ]


async def main_async(args: argparse.Namespace) -> list[str]:
    script = table_a_script(LAYOUT, YEAR)
    workdir = Path(tempfile.mkdtemp(prefix="jixiao-httpbench-"))
    try:
        measured: list[Measured] = []
        if "sqlite" in args.databases:
            with sqlite_database() as database:
                found, _ = await run_ours(database, "SQLite", args.users, script, args, workdir)
                measured.append(found)
                print("\n".join(phase_rows(found)), file=sys.stderr, flush=True)
        pg = postgres_url() if "postgresql" in args.databases else None
        if pg is not None:
            with postgres_database(pg) as database:
                found, _ = await run_ours(database, "PostgreSQL", args.users, script, args, workdir)
                measured.append(found)
                print("\n".join(phase_rows(found)), file=sys.stderr, flush=True)
        if not measured:
            raise SystemExit("nothing to measure: --databases postgresql needs DATABASE_URL")
        echo, echo_alone = await run_echo(measured[0].sent, args, workdir)
        lines = report(args, script, measured, echo, echo_alone, pg)
        if args.profile:
            with sqlite_database() as database:
                _, profiled = await run_ours(
                    database,
                    "SQLite",
                    args.profile_users,
                    script,
                    args,
                    workdir,
                    profile=workdir / "profile.out",
                )
            lines += profiled
        return lines
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench throughput")
    parser.add_argument("--users", type=int, default=200, help="simulated users (200)")
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="length of the half-load phase (20)"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per reply at most")
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="comma-separated, of sqlite and postgresql (PostgreSQL: on the server DATABASE_URL "
        "names, when it names one); default both",
    )
    parser.add_argument(
        "--profile", action="store_true", help="add a profiled run (py-spy, else cProfile)"
    )
    parser.add_argument("--profile-users", type=int, default=20, help="users in that run (20)")
    parser.add_argument(
        "--no-publish", action="store_true", help="print only; leave BENCHMARKS.md alone"
    )
    args = parser.parse_args(argv)
    args.argv = [arg for arg in argv if arg != "--no-publish"]
    args.databases = {name.strip().lower() for name in args.databases.split(",")}
    args.load_before = os.getloadavg()[0]
    return args


def run(argv: list[str]) -> None:
    args = parse(argv)
    lines = asyncio.run(main_async(args))
    print_or_publish(
        "throughput",
        "N users filling table A at once over HTTP, against a bare PTB echo bot",
        lines,
        dry_run=args.no_publish,
    )
