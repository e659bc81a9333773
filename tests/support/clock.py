"""Controllable time for the reminder tests: nothing really waits.

`FakeClock` is the wall clock the scheduler decides against: tests
`set` or `advance` it and then run a tick. `VirtualTimer` replaces monotonic time and sleeping
for the pacer: a sleeping task is woken when every other task has had its turn (the event loop
was given `settle` rounds), and time jumps straight to the earliest sleeper's deadline, so
a 30-second flood wait costs nothing and sleepers still wake in the order of their deadlines.
With `autojump=False` time stands still until the test calls `advance` (to look at the world
while a sleeper waits).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

__all__ = ["FakeClock", "VirtualTimer", "fake_clock", "virtual_timer"]


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


class VirtualTimer:
    def __init__(self, start: float = 1_000.0, *, settle: int = 20, autojump: bool = True) -> None:
        self._now = start
        self.settle = settle
        self.autojump = autojump
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._driver: asyncio.Task[None] | None = None
        self.total_slept = 0.0

    def monotonic(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        if self.autojump and (self._driver is None or self._driver.done()):
            self._driver = loop.create_task(self._drive())
        await future

    @property
    def sleeping(self) -> int:
        return sum(1 for _, _, future in self._sleepers if not future.done())

    async def _drive(self) -> None:
        while self._sleepers:
            for _ in range(self.settle):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            deadline, _, future = heapq.heappop(self._sleepers)
            if future.done():  # the sleeper was cancelled
                continue
            if deadline > self._now:
                self.total_slept += deadline - self._now
                self._now = deadline
            future.set_result(None)

    def advance(self, seconds: float) -> None:
        """Move time on by hand and wake the sleepers whose time has come."""
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)


@pytest.fixture
def fake_clock() -> Iterator[FakeClock]:
    """Midnight starting 2021-03-20, Shanghai time: eleven days before the seed's deadline."""
    yield FakeClock(datetime(2021, 3, 19, 16, 0, tzinfo=UTC))


@pytest.fixture
def virtual_timer() -> Iterator[VirtualTimer]:
    yield VirtualTimer()
