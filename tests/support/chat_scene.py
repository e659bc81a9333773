"""The bot of the chat tests: the real application (bot.startup) over the loopback fake Bot API,
with the reminders installed on a fake clock and a virtual pacing timer, and a small world of
people (tests/support/reminder_world.py) who are fake Telegram users."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from bot.ratelimit import Pacing, RetryingRateLimiter
from bot.reminders import ReminderConfig, ReminderRuntime, install_reminders
from storage.db import Database
from tests.support.bot import BotEnv
from tests.support.clock import FakeClock, VirtualTimer
from tests.support.fake_bot_api import TgUser
from tests.support.reminder_world import World, build_world, shanghai
from tests.support.telegram_client import ChatDriver

STAFF = {"宣传部": ["张三", "李四"], "财政局": ["王五"]}


@dataclass
class Scene:
    env: BotEnv
    runtime: ReminderRuntime
    world: World
    clock: FakeClock
    timer: VirtualTimer
    users: dict[str, TgUser]

    def person(self, name: str) -> ChatDriver:
        return self.env.driver_of(self.users[name])


@contextlib.asynccontextmanager
async def scene(
    tmp_path: Path,
    *,
    timer: VirtualTimer | None = None,
    pacing: Pacing | None = None,
    layout: str = "2021",
    staff: dict[str, list[str]] | None = None,
    database: Database | None = None,
    **config: object,
) -> AsyncIterator[Scene]:
    """The bot with reminders on a fake clock (03-24 17:00, when before_7d is due); everything it
    sends is paced by its limiter (production's `Pacing()` unless told) on the virtual timer."""
    timer = timer or VirtualTimer()

    def limiter() -> RetryingRateLimiter:
        return RetryingRateLimiter(
            base_delay=0.02, max_delay=0.1, pacing=pacing or Pacing(), timer=timer
        )

    async with BotEnv.running(
        tmp_path, reminders=False, database=database, limiter=limiter
    ) as env:
        users: dict[str, TgUser] = {}

        def telegram_id(name: str) -> int:
            users[name] = env.fake.user(name)
            return users[name].id

        world = build_world(
            env.database, staff=staff or STAFF, telegram_id=telegram_id, layout=layout
        )
        clock = FakeClock(shanghai(3, 24, 17))
        options = ReminderConfig(first_tick=3600, **config)  # type: ignore[arg-type]
        runtime = install_reminders(
            env.app, env.database, env.settings, clock=clock, config=options
        )
        yield Scene(env, runtime, world, clock, timer, users)
