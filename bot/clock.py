"""Time as the bot sees it: a wall clock for "what is due" and a timer for pacing what is sent.

Both are injected so that tests drive the scheduler with a fake wall clock and the pacer with a
virtual timer (both in tests/support/clock.py): nothing really waits.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


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
