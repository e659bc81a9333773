"""The paced send queue on a virtual timer: the rates hold and a 429 delays only its chat."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.reminders.pacing import PacedTransport
from bot.reminders.transport import OutgoingMessage, RetryLater
from tests.support.clock import VirtualTimer
from tests.support.reminder_world import RecordingTransport


def paced(timer: VirtualTimer, **options: float) -> tuple[PacedTransport, RecordingTransport]:
    inner = RecordingTransport(timer)
    return PacedTransport(inner, timer=timer, **options), inner  # type: ignore[arg-type]


async def send_all(paced_transport: PacedTransport, chats: list[int]) -> None:
    await asyncio.gather(
        *(paced_transport.send(OutgoingMessage(chat, f"#{n}")) for n, chat in enumerate(chats))
    )


def most_in_a_second(times: list[float]) -> int:
    """The most sends in any one-second window (a microsecond less, for float rounding)."""
    times = sorted(times)
    return max(sum(1 for t in times if start <= t < start + 0.999_999) for start in times)


async def test_the_global_rate_holds(virtual_timer: VirtualTimer) -> None:
    transport, inner = paced(virtual_timer, per_second=25)
    start = virtual_timer.monotonic()
    await send_all(transport, list(range(1, 101)))
    assert len(inner.sent) == 100
    assert most_in_a_second([t for t, _ in inner.sent]) <= 25
    # And it does not dawdle: 100 messages at 25/s take about 4 seconds.
    assert virtual_timer.monotonic() - start < 4.1


async def test_one_chat_gets_at_most_one_message_a_second_in_order(
    virtual_timer: VirtualTimer,
) -> None:
    transport, inner = paced(virtual_timer, per_second=25, chat_interval=1.0)
    await send_all(transport, [7, 8, 7, 9, 7, 7])
    times = [t for t, m in inner.sent if m.chat_id == 7]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(times))
    assert [m.text for m in inner.to(7)] == ["#0", "#2", "#4", "#5"]
    others = [t for t, m in inner.sent if m.chat_id != 7]
    assert max(others) - min(t for t, _ in inner.sent) < 0.2  # not held up by chat 7


async def test_a_flood_wait_delays_only_its_own_chat(virtual_timer: VirtualTimer) -> None:
    transport, inner = paced(virtual_timer, per_second=25)
    inner.failures[1] = [RetryLater(30)]
    start = virtual_timer.monotonic()
    await send_all(transport, [1, 2, 3, 4, 5])
    assert sorted(inner.chats()) == [1, 2, 3, 4, 5]  # each exactly once
    when = {m.chat_id: t - start for t, m in inner.sent}
    assert when[1] >= 30
    assert all(when[chat] < 1 for chat in (2, 3, 4, 5))
    assert transport.flood_waits == 1


async def test_too_long_or_too_many_flood_waits_reach_the_caller(
    virtual_timer: VirtualTimer,
) -> None:
    transport, inner = paced(virtual_timer, max_retries=2, max_retry_after=60)
    inner.failures[1] = [RetryLater(600)]
    inner.failures[2] = [RetryLater(1), RetryLater(1), RetryLater(1)]
    results = await asyncio.gather(
        transport.send(OutgoingMessage(1, "a")),
        transport.send(OutgoingMessage(2, "b")),
        transport.send(OutgoingMessage(3, "c")),
        return_exceptions=True,
    )
    assert isinstance(results[0], RetryLater) and isinstance(results[1], RetryLater)
    assert results[2] is None
    assert inner.chats() == [3]
    assert transport.worst_case_wait == 120


def test_negative_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        PacedTransport(RecordingTransport(), per_second=-1)
