"""Wiring the reminders into a PTB Application: the minute tick and the digest tick.

The JobQueue holds no knowledge of what is due: it runs two fixed repeating jobs, and every run
recomputes from the database (rounds, policies, form status, the reminder log). Rebuilding the
schedule at start is therefore just starting: the first tick, a second after the application
starts, plans what became due while the bot was down and takes over the claims whose lease
expired. APScheduler keeps one run of a job at a time (max_instances=1) and merges missed runs
(coalesce), so a slow tick delays the next instead of stacking them.

    runtime = install_reminders(application, database, settings)   # before application.start

Their commands (/remind, /policy) are in the one table of bot/handlers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from telegram.ext import Application, CallbackContext

from bot.clock import CLOCK_KEY, Clock, SystemClock
from bot.reminders.digest import DigestSender
from bot.reminders.dispatcher import Dispatcher, DispatchReport
from bot.reminders.planner import Planner
from bot.reminders.schedule import DEFAULT_CATCH_UP
from bot.reminders.transport import TelegramTransport, Transport
from bot.settings import Settings
from storage.db import Database
from storage.repos.reminders import DEFAULT_LEASE, DEFAULT_MAX_ATTEMPTS

_LOGGER = logging.getLogger(__name__)
RUNTIME_KEY = "jixiao.reminders"
TICK_JOB = "jixiao:reminders"
DIGEST_JOB = "jixiao:digest"
_JOB_KWARGS = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}


@dataclass(frozen=True)
class ReminderConfig:
    tick_seconds: float = 60.0
    digest_seconds: float = 60.0
    first_tick: float = 1.0  # seconds after start: the "rebuild" run
    batch_size: int = 50
    lease: timedelta = DEFAULT_LEASE
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    max_in_flight: int = 8
    catch_up: timedelta = DEFAULT_CATCH_UP
    worker: str | None = None  # default: host:pid:random, new for every process


def default_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class TickReport:
    planned: int
    dispatch: DispatchReport


def _always() -> bool:
    return True


class ReminderRuntime:
    """Planner, dispatcher and digest of one process; tests call `tick` with a fake clock."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        transport: Transport,
        *,
        clock: Clock | None = None,
        config: ReminderConfig | None = None,
    ) -> None:
        self.config = config or ReminderConfig()
        self.database = database
        self.zone = settings.zone
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.transport = transport
        self.worker = self.config.worker or default_worker()
        self.planner = Planner(database, self.zone, catch_up=self.config.catch_up)
        self.dispatcher = Dispatcher(
            database,
            transport,
            self.zone,
            self.clock,
            worker=self.worker,
            batch_size=self.config.batch_size,
            lease=self.config.lease,
            max_attempts=self.config.max_attempts,
            max_in_flight=self.config.max_in_flight,
        )
        self.digest = DigestSender(database, transport, self.zone, self.clock)
        # One tick at a time in this process (the job, /remind and a review's notices).
        self._lock = asyncio.Lock()

    async def tick(self, *, keep_going: Callable[[], bool] = _always) -> TickReport:
        """Plan what is due now and send it."""
        async with self._lock:
            planned = await asyncio.to_thread(self.planner.plan, self.clock.now())
            dispatch = await self.dispatcher.run(keep_going=keep_going)
        if planned or dispatch.claimed:
            _LOGGER.info("reminders: planned %d, %s", planned, dispatch)
        return TickReport(planned, dispatch)

    async def dispatch_now(self) -> DispatchReport:
        """Send what is due without planning (after /remind or a review)."""
        async with self._lock:
            return await self.dispatcher.run()

    async def send_digests(self) -> int:
        return await self.digest.run()

    def dispatch_when_due(
        self, application: Application[Any, Any, Any, Any, Any, Any], due_at: datetime
    ) -> None:
        """Send what is due now, or at `due_at` (a coalesced approval notice) instead of at the
        next tick. Only a shortcut: the log row is what makes the notice go out, after a
        restart too."""
        delay = (due_at - self.clock.now()).total_seconds()
        if delay <= 0:
            application.create_task(self.dispatch_now(), name="reminders:review")
            return
        if application.job_queue is not None:
            application.job_queue.run_once(
                _dispatch_job, when=delay + 1.0, data=self, name="reminders:due"
            )


def install_reminders(
    application: Application[Any, Any, Any, Any, Any, Any],
    database: Database,
    settings: Settings,
    *,
    clock: Clock | None = None,
    transport: Transport | None = None,
    config: ReminderConfig | None = None,
) -> ReminderRuntime:
    """Create the runtime, keep it in `bot_data[RUNTIME_KEY]` (and its clock as the
    application's, bot/clock.py) and add the two repeating jobs.

    `transport` defaults to the application's bot, paced by the application's rate limiter
    (bot/ratelimit.py) like every other message; `clock` decides what is due (tests pass a
    FakeClock).
    """
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError('reminders need the JobQueue: install "python-telegram-bot[job-queue]"')
    config = config or ReminderConfig()
    if transport is None:
        transport = TelegramTransport(application.bot)
    runtime = ReminderRuntime(database, settings, transport, clock=clock, config=config)
    application.bot_data[RUNTIME_KEY] = runtime
    application.bot_data[CLOCK_KEY] = runtime.clock
    job_queue.run_repeating(
        _tick_job,
        interval=config.tick_seconds,
        first=config.first_tick,
        name=TICK_JOB,
        data=runtime,
        job_kwargs=_JOB_KWARGS,
    )
    job_queue.run_repeating(
        _digest_job,
        interval=config.digest_seconds,
        first=config.first_tick + 1.0,
        name=DIGEST_JOB,
        data=runtime,
        job_kwargs=_JOB_KWARGS,
    )
    return runtime


def runtime_of(application: Application[Any, Any, Any, Any, Any, Any]) -> ReminderRuntime:
    runtime = application.bot_data.get(RUNTIME_KEY)
    if not isinstance(runtime, ReminderRuntime):
        raise RuntimeError("install_reminders(application, …) was not called")
    return runtime


def _job_runtime(context: CallbackContext[Any, Any, Any, Any]) -> ReminderRuntime:
    assert context.job is not None
    return cast(ReminderRuntime, context.job.data)


async def _tick_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    application = context.application
    # Application.stop clears `running` before it waits for this job: the tick then stops
    # taking new messages and gives back the claims it has not sent.
    await _job_runtime(context).tick(keep_going=lambda: application.running)


async def _dispatch_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    await _job_runtime(context).dispatch_now()


async def _digest_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    await _job_runtime(context).send_digests()
