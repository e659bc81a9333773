"""`python -m bench inbox`: what the durable inbox (bot/inbox.py) costs an update.

The real application in process (bench/inprocess.py: real handlers, real database, Bot API
answered in process, updates put into `application.update_queue`), built with
and without the inbox, on SQLite and on PostgreSQL (when DATABASE_URL names a server). Two
measurements per database and variant, the variants alternating so that drift of a shared
machine spreads over both:

- one user alone filling table A (several users one after the other): the CPU, transactions,
  SQL statements and latency one update costs;
- N users at once, each sending the next update as soon as the previous one is answered: the
  rate the bot reaches (the inbox adds writes, and on SQLite every write takes the one lock).

With the inbox each update is first stored (a transaction: INSERT … ON CONFLICT DO NOTHING), its
answer's transaction gains one UPDATE (the done mark), and a last transaction records the reply.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import Update

from bench.chat import Conversations, Run, fill_concurrently
from bench.chat_script import Input, table_a_script
from bench.databases import (
    LAYOUT,
    YEAR,
    populate,
    postgres_database,
    postgres_url,
    safe_url,
    sqlite_database,
)
from bench.inprocess import InProcessBotApi, bench_settings, deliver_to, measure, running
from bench.report import print_or_publish
from bot.inbox import CURRENT_CLAIM, Claim, Inbox
from bot.ratelimit import Pacing, RetryingRateLimiter
from bot.startup import build_application
from storage.db import Database
from storage.repos import ChatSessionRepository, UserRepository


@dataclass(frozen=True)
class Steps:
    """The inbox's own work for one update, timed alone (CPU ms and wall ms an update)."""

    database: str
    updates: int
    store: tuple[float, float]  # receive: INSERT … ON CONFLICT DO NOTHING, in a transaction
    mark: tuple[float, float]  # the done mark's UPDATE inside the answer's transaction
    reply: tuple[float, float]  # the transaction recording that the handling returned


def timed(work: Callable[[], object], count: int) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    return (
        1000 * (time.process_time() - cpu) / count,
        1000 * (time.perf_counter() - wall) / count,
    )


def inbox_steps(database: Database, label: str, count: int) -> Steps:
    """`count` updates through the inbox's three steps, each step for all updates in turn; the
    done mark timed as the difference between an answer-like transaction (one chat_sessions
    upsert, as every answer makes) with and without the update's claim."""
    population = populate(database, 1)
    telegram_id = population.users[0][0]
    with database.transaction() as session:
        user = UserRepository(session).by_telegram_id(telegram_id)
    assert user is not None
    api = InProcessBotApi()
    updates = [Update.de_json(api.text_update(telegram_id, f"{n}"), None) for n in range(count)]
    inbox = Inbox(database)
    inbox.open()
    try:
        claims: list[Claim] = []

        def store() -> None:
            for update in updates:
                inbox.receive(update)
                claim = inbox.take(update)
                assert claim is not None
                claims.append(claim)

        def answer(with_claim: bool) -> None:
            for claim in claims:
                token = CURRENT_CLAIM.set(claim if with_claim else None)
                try:
                    with database.transaction() as session:
                        ChatSessionRepository(session).set(user.id, None, claim.update_id)
                finally:
                    CURRENT_CLAIM.reset(token)

        def reply() -> None:
            for claim in claims:
                inbox.finish(claim)

        stored = timed(store, count)
        plain = timed(lambda: answer(False), count)
        marked = timed(lambda: answer(True), count)
        assert all(claim.done for claim in claims)
        replied = timed(reply, count)
    finally:
        inbox.close()
    mark = (marked[0] - plain[0], marked[1] - plain[1])
    return Steps(label, count, stored, mark, replied)


def steps_lines(found: list[Steps]) -> list[str]:
    lines = [
        "| database | updates | store (CPU / wall ms) | done mark (CPU / wall ms) "
        "| reply recorded (CPU / wall ms) | total (CPU / wall ms) |",
        "|---|---|---|---|---|---|",
    ]
    for s in found:
        total = tuple(a + b + c for a, b, c in zip(s.store, s.mark, s.reply, strict=True))
        cells = [f"{cpu:.2f} / {wall:.2f}" for cpu, wall in (s.store, s.mark, s.reply, total)]
        lines.append(f"| {s.database} | {s.updates} | " + " | ".join(cells) + " |")
    return lines


@dataclass
class Variant:
    label: str  # "without the inbox" / "with the inbox"
    alone: Run
    saturated: Run


def application(database: Database, api: InProcessBotApi, *, inbox: bool) -> Any:
    limiter = RetryingRateLimiter(pacing=Pacing.off())  # as bench/inprocess.py
    return build_application(
        bench_settings(database, api),
        database,
        rate_limiter=limiter,
        reminders=False,
        inbox=inbox,
        request=api.request(),
        get_updates_request=api.request(),
    )


async def one_variant(
    database: Database,
    label: str,
    *,
    inbox: bool,
    alone_users: int,
    users: int,
    script: Sequence[Input],
    timeout: float,
) -> Variant:
    population = await asyncio.to_thread(populate, database, 1 + alone_users + users)
    api = InProcessBotApi()
    app = application(database, api, inbox=inbox)
    name = "with the inbox" if inbox else "without the inbox"
    alone = Run(f"jixiao {name}, one user alone", label, 1)
    talk = Conversations(api, deliver_to(app), alone, reply_needs_keyboard=True, timeout=timeout)
    people = [talk.user(telegram_id, who) for telegram_id, who, _ in population.users]
    warm, lonely, crowd = people[0], people[1 : 1 + alone_users], people[1 + alone_users :]
    async with running(app):
        talk.recording = False
        await fill_concurrently(talk, [warm], script)  # caches, compiled SQL, pools
        talk.recording = True

        async def one_after_the_other() -> None:
            for user in lonely:
                await fill_concurrently(talk, [user], script)

        await measure(alone, one_after_the_other(), database)
        saturated = talk.run = Run(f"jixiao {name}, {users} users at once", label, users)
        await measure(saturated, fill_concurrently(talk, crowd, script), database)
    return Variant(name, alone, saturated)


def per_update(run: Run, value: float) -> float:
    return value / run.updates if run.updates else 0.0


def table(variants: list[Variant]) -> list[str]:
    lines = [
        "| bot | database | users | updates | updates/s | p50 (ms) | p99 (ms) "
        "| CPU ms an update | transactions an update | statements an update |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for variant in variants:
        for run in (variant.alone, variant.saturated):
            lines.append(
                f"| {run.bot} | {run.database} | {run.users} | {run.updates} | {run.rate:.0f} "
                f"| {run.percentile(0.5):.1f} | {run.percentile(0.99):.1f} "
                f"| {1000 * per_update(run, run.cpu):.2f} "
                f"| {per_update(run, run.transactions):.2f} "
                f"| {per_update(run, run.statements):.1f} |"
            )
    return lines


def cost(steps: Steps, without: Variant, with_: Variant) -> str:
    a, b = without.alone, with_.alone
    own_cpu = sum(part[0] for part in (steps.store, steps.mark, steps.reply))
    own_wall = sum(part[1] for part in (steps.store, steps.mark, steps.reply))
    share = own_cpu / (1000 * per_update(a, a.cpu)) if a.cpu else 0.0
    cpu = 1000 * (per_update(b, b.cpu) - per_update(a, a.cpu))
    s, t = without.saturated, with_.saturated
    return (
        f"- {steps.database}: {own_cpu:.2f} ms of CPU and {own_wall:.2f} ms of wall time an "
        f"update for its own steps ({share:.0%} of what an update costs the bot alone), in "
        f"{per_update(b, b.transactions) - per_update(a, a.transactions):+.2f} transactions and "
        f"{per_update(b, b.statements) - per_update(a, a.statements):+.1f} SQL statements an "
        f"update. Whole bot, with against without (noisy on a shared machine): {cpu:+.2f} ms of "
        f"CPU an update, one user alone p50 {a.percentile(0.5):.1f} → {b.percentile(0.5):.1f} "
        f"ms, {s.users} users at once {s.rate:.0f} → {t.rate:.0f} updates/s."
    )


async def main_async(args: argparse.Namespace) -> list[str]:
    load_before = os.getloadavg()[0]
    script = table_a_script(LAYOUT, YEAR)
    options = {
        "alone_users": args.alone_users,
        "users": args.users,
        "script": script,
        "timeout": args.timeout,
    }
    databases: list[tuple[str, Any]] = [("SQLite", sqlite_database)]
    pg = postgres_url()
    if pg is not None:
        databases.append(("PostgreSQL", lambda: postgres_database(pg)))
    lines: list[str] = []
    costs: list[str] = []
    steps: list[Steps] = []
    for label, make in databases:
        with make() as database:
            steps.append(await asyncio.to_thread(inbox_steps, database, label, args.steps))
        runs: dict[bool, list[Variant]] = {False: [], True: []}
        for _ in range(args.rounds):
            for inbox in (False, True):
                with make() as database:
                    runs[inbox].append(await one_variant(database, label, inbox=inbox, **options))
        without, with_ = merged(runs[False]), merged(runs[True])
        lines += table([without, with_])
        costs.append(cost(steps[-1], without, with_))
    return [
        "The inbox's own work, timed alone (one thread, nothing else running in the process):",
        "",
        *steps_lines(steps),
        "",
        "The whole bot with and without it:",
        "",
        *lines,
        "",
        f"*One user alone*: {args.alone_users * args.rounds} users one after the other, each "
        f"filling a whole table A ({len(script)} updates: /fill, the table button, answers "
        "and presses made from the layout, bench/chat_script.py). "
        f"*{args.users} users at once*: each sends the next update as soon as the previous one "
        f"is answered. Each variant {args.rounds}× on a fresh database, alternating. Bot API "
        "answered in process, replies not paced; latency: update put into the queue (stored, "
        "with the inbox) → its reply request made.",
        "",
        "What the inbox costs an update:",
        *costs,
        "",
        "With the inbox, an update is stored before it is acknowledged (one transaction), its "
        "answer's transaction also marks it done (one UPDATE), and a last transaction records "
        "that its handling returned (the reply sent): two transactions and a few statements "
        "an update, counted exactly above; the times come from a shared machine (see the load) "
        "and vary from run to run, the whole-bot comparison most.",
        "",
        f"Load average of the machine (1 min) at the start and end of the run: {load_before:.1f}, "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.",
        "",
        "Command: `"
        + " ".join(["python -m bench inbox", *args.argv])
        + "`"
        + (f", DATABASE_URL={safe_url(pg)}" if pg else "")
        + ".",
    ]


def merged(variants: list[Variant]) -> Variant:
    """The rounds of one variant as one (updates, times, CPU and counts added up)."""
    first = variants[0]
    alone = Run(first.alone.bot, first.alone.database, first.alone.users)
    saturated = Run(first.saturated.bot, first.saturated.database, first.saturated.users)
    for variant in variants:
        for total, run in ((alone, variant.alone), (saturated, variant.saturated)):
            total.updates += run.updates
            total.seconds += run.seconds
            total.cpu += run.cpu
            total.statements += run.statements
            total.transactions += run.transactions
            total.latencies += run.latencies
            total.errors += run.errors
    return Variant(first.label, alone, saturated)


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench inbox")
    parser.add_argument("--users", type=int, default=20, help="users at once (default 20)")
    parser.add_argument(
        "--alone-users", type=int, default=3, help="users alone, one after the other"
    )
    parser.add_argument("--rounds", type=int, default=2, help="runs of each variant")
    parser.add_argument(
        "--steps", type=int, default=1000, help="updates through the inbox's steps alone"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per reply at most")
    parser.add_argument(
        "--no-publish", action="store_true", help="print only; leave BENCHMARKS.md alone"
    )
    args = parser.parse_args(argv)
    args.argv = [arg for arg in argv if arg != "--no-publish"]
    lines = asyncio.run(main_async(args))
    print_or_publish(
        "inbox",
        "what the durable inbox costs an update",
        lines,
        dry_run=args.no_publish,
    )
