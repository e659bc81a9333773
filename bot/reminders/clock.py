"""Time as the reminders see it: a wall clock for "what is due" and a timer for pacing.

Both are injected so that tests drive the scheduler with a `FakeClock` (set or advance the wall
time, nothing really waits) and the pacer with a virtual timer (tests/support/clock.py).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
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


class FakeClock:
    """A wall clock that moves only when told to (`set`, `advance`)."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        moment = _aware(moment)
        if moment < self._now:
            raise ValueError("a clock does not go backwards")
        self._now = moment

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move forward by `delta` or by timedelta keyword parts (minutes=5); returns now."""
        step = delta if delta is not None else timedelta(**parts)
        self.set(self._now + step)
        return self._now


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("pass a timezone-aware datetime")
    return moment.astimezone(UTC)
