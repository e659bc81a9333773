"""Time as the bot sees it: a wall clock for "what is due" and a timer for pacing what is sent.

Both are injected so that tests drive the scheduler with a fake wall clock and the pacer with a
virtual timer (both in tests/support/clock.py): nothing really waits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

CLOCK_KEY = "jixiao.clock"  # bot_data: the application's wall clock (install_reminders sets it)


class Clock(Protocol):
    """The wall clock: what is due is decided against `now()` (timezone-aware, UTC)."""

    def now(self) -> datetime: ...


class Timer(Protocol):
    """Monotonic seconds and sleeping, for spacing messages (never for deciding what is due)."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SystemTimer:
    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


def clock_of(bot_data: Mapping[Any, Any]) -> Clock:
    """The application's wall clock: the one the reminders were installed with (so that /status
    and review agree with them on what is due), else the system's."""
    clock = bot_data.get(CLOCK_KEY)
    return clock if clock is not None else SystemClock()
