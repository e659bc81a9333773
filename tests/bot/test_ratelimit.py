"""The application's one rate limiter (bot/ratelimit.py) on a virtual timer: nothing really
waits. The rates hold, a 429 holds back only its chat, failures are retried a bounded number of
times, and what is not sent to a chat is not paced."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.ratelimit import Pacing, Retries, RetryingRateLimiter
from tests.support.clock import VirtualTimer

Send = Callable[[], Coroutine[Any, Any, bool]]


class Recorder:
    """The Bot API behind the limiter: when each chat got what; `failures[chat]` are raised
    (in order) before the chat's next sends succeed."""

    def __init__(self, timer: VirtualTimer) -> None:
        self.timer = timer
        self.sent: list[tuple[float, int, str]] = []
        self.attempts: list[int] = []
        self.failures: dict[int, list[Exception]] = {}

    def send(self, chat: int, text: str) -> Send:
        async def call() -> bool:
            self.attempts.append(chat)
            pending = self.failures.get(chat)
            if pending:
                raise pending.pop(0)
            self.sent.append((self.timer.monotonic(), chat, text))
            return True

        return call

    def times(self, chat: int) -> list[float]:
        return [t for t, c, _ in self.sent if c == chat]


def limiter(
    timer: VirtualTimer, pacing: Pacing | None = None, **options: Any
) -> RetryingRateLimiter:
    return RetryingRateLimiter(pacing=pacing or Pacing(), timer=timer, **options)


async def send(
    rate_limiter: RetryingRateLimiter,
    call: Send,
    chat: int | None,
    retries: Retries | None = None,
    endpoint: str = "sendMessage",
) -> Any:
    data = {} if chat is None else {"chat_id": chat}
    return await rate_limiter.process_request(call, (), {}, endpoint, data, retries)


async def send_all(rate_limiter: RetryingRateLimiter, api: Recorder, chats: list[int]) -> list[Any]:
    return await asyncio.gather(
        *(send(rate_limiter, api.send(chat, f"#{n}"), chat) for n, chat in enumerate(chats)),
        return_exceptions=True,
    )


def most_in_a_second(times: list[float]) -> int:
    """The most sends in any one-second window (a microsecond less, for float rounding)."""
    times = sorted(times)
    return max(sum(1 for t in times if start <= t < start + 0.999_999) for start in times)


async def test_the_global_rate_holds() -> None:
    timer = VirtualTimer()
    api = Recorder(timer)
    start = timer.monotonic()
    await send_all(limiter(timer, Pacing(global_per_second=25)), api, list(range(1, 201)))
    assert len(api.sent) == 200
    assert most_in_a_second([t for t, _, _ in api.sent]) <= 25
    # And it does not dawdle: 200 messages at 25/s take 8 seconds.
    assert timer.monotonic() - start < 8.1


async def test_one_chat_is_spaced_in_order_and_others_are_not_held_up() -> None:
    timer = VirtualTimer()
    api = Recorder(timer)
    pacing = Pacing(chat_interval=1.0, chat_burst=1, global_per_second=25)
    await send_all(limiter(timer, pacing), api, [7, 8, 7, 9, 7, 7])
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(api.times(7)))
    assert [text for _, chat, text in api.sent if chat == 7] == ["#0", "#2", "#4", "#5"]
    others = api.times(8) + api.times(9)
    assert max(others) - min(t for t, _, _ in api.sent) < 0.2


async def test_a_short_burst_then_one_a_second_in_a_private_chat_slower_in_a_group() -> None:
    timer = VirtualTimer()
    api = Recorder(timer)
    pacing = Pacing(chat_interval=1.0, chat_burst=3, group_interval=3.0, global_per_second=0)
    await send_all(limiter(timer, pacing), api, [5] * 5 + [-100] * 3)
    private, group = api.times(5), api.times(-100)
    assert private[2] - private[0] < 0.01  # the burst
    assert private[4] - private[2] >= 2.0
    assert all(b - a >= 3.0 for a, b in itertools.pairwise(group))


async def test_a_flood_wait_holds_back_only_its_own_chat() -> None:
    timer = VirtualTimer()
    api = Recorder(timer)
    api.failures[1] = [RetryAfter(30)]
    rate_limiter = limiter(timer, Pacing(global_per_second=25))
    start = timer.monotonic()
    results = await send_all(rate_limiter, api, [1, 2, 3, 4, 5])
    assert results == [True] * 5
    assert sorted(c for _, c, _ in api.sent) == [1, 2, 3, 4, 5]  # each exactly once
    when = {chat: t - start for t, chat, _ in api.sent}
    assert when[1] >= 30
    assert all(when[chat] < 1 for chat in (2, 3, 4, 5))
    assert rate_limiter.flood_waits == 1


async def test_a_chat_in_a_flood_wait_gets_nothing_before_it_is_over() -> None:
    timer = VirtualTimer()
    api = Recorder(timer)
    api.failures[1] = [RetryAfter(30)]
    rate_limiter = limiter(timer, Pacing.off())
    start = timer.monotonic()
    first = asyncio.create_task(send(rate_limiter, api.send(1, "a"), 1))
    await asyncio.sleep(0)
    await send(rate_limiter, api.send(1, "b"), 1)  # asked while the first one waits
    await first
    assert all(t - start >= 30 for t in api.times(1))


async def test_too_long_or_too_many_flood_waits_reach_the_caller() -> None:
    timer = VirtualTimer()
    api = Recorder(timer)
    api.failures[1] = [RetryAfter(600)]
    api.failures[2] = [RetryAfter(1), RetryAfter(1), RetryAfter(1)]
    rate_limiter = limiter(timer, Pacing.off(), max_retries=2, max_retry_after=60)
    results = await send_all(rate_limiter, api, [1, 2, 3])
    assert isinstance(results[0], RetryAfter) and isinstance(results[1], RetryAfter)
    assert results[2] is True
    assert api.attempts.count(1) == 1 and api.attempts.count(2) == 3
    assert [c for _, c, _ in api.sent] == [3]


async def test_network_errors_are_retried_a_bounded_number_of_times_bad_requests_never() -> None:
    timer = VirtualTimer()
    api = Recorder(timer)
    rate_limiter = limiter(timer, Pacing.off(), max_retries=3)
    api.failures[1] = [TimedOut(), NetworkError("Bad Gateway")]
    assert await send(rate_limiter, api.send(1, "a"), 1) is True
    assert api.attempts.count(1) == 3

    api.failures[2] = [NetworkError("Bad Gateway")] * 10
    with pytest.raises(NetworkError):
        await send(rate_limiter, api.send(2, "b"), 2)
    assert api.attempts.count(2) == 4

    api.failures[3] = [BadRequest("Bad Request: message text is empty")]
    with pytest.raises(BadRequest):
        await send(rate_limiter, api.send(3, "c"), 3)
    assert api.attempts.count(3) == 1


async def test_a_call_can_refuse_network_retries_and_keep_flood_retries() -> None:
    """The reminders' sends: a timeout reaches the dispatcher at once (it retries after the
    claim lease), a 429 is still waited out for that chat."""
    timer = VirtualTimer()
    api = Recorder(timer)
    rate_limiter = limiter(timer, Pacing.off())
    api.failures[1] = [TimedOut()]
    with pytest.raises(TimedOut):
        await send(rate_limiter, api.send(1, "a"), 1, Retries(network=0))
    assert api.attempts == [1]
    api.failures[2] = [RetryAfter(5)]
    assert await send(rate_limiter, api.send(2, "b"), 2, Retries(network=0)) is True
    assert api.attempts.count(2) == 2


async def test_requests_that_send_nothing_to_a_chat_are_not_paced() -> None:
    timer = VirtualTimer()
    api = Recorder(timer)
    rate_limiter = limiter(timer, Pacing(chat_interval=10.0, chat_burst=1, global_per_second=1))
    start = timer.monotonic()
    await send(rate_limiter, api.send(7, "a"), 7)
    for _ in range(5):
        await send(rate_limiter, api.send(7, "answer"), 7, endpoint="answerCallbackQuery")
    assert timer.monotonic() == start
