"""Retries and pacing for every request to the Bot API: replies, reminders and digests alike.

`RetryingRateLimiter` is the one limiter of the application (PTB's `BaseRateLimiter`
interface, so every `bot.send_*` passes through it). It retries one request at a time: on 429
(RetryAfter) it holds back that chat for retry_after and sends that request again; on a timeout,
a dropped connection or a 5xx (TimedOut/NetworkError but not BadRequest) it backs off
exponentially; in both cases a bounded number of times (`Retries`, per call through
`rate_limit_args`, overrides the bounds: the reminders take no network retries, see
bot/reminders/transport.py).

Why not PTB's `AIORateLimiter`: it lacks what this one is for.
- A 429 there halts *every* request of the bot for retry_after; here only that chat waits, so
  one user's flood wait does not stall everybody's replies or the other reminders.
- It spaces group chats only; here private chats are spaced too (a short burst, then 1/s).
- It retries only 429, never a timeout or a 5xx.
- Its time is aiolimiter's (the event loop's clock); here a `Timer` is injected, so the tests
  run on a virtual timer and nothing really waits. (It also needs the extra aiolimiter package.)

Pacing: messages to one chat are spaced (a short burst, then one per second; groups slower) and
all messages stay under a global budget per second, both with GCRA reservations (the reservation
is taken without awaiting, so concurrent senders cannot double-book a slot). Requests that do not
send to a chat (answerCallbackQuery, setMyCommands, getMe…) are not paced, so a pressed button
stops spinning at once.

A retried send after a timeout may deliver a message twice; that is accepted, because the
answer it confirms was committed before the reply was sent, and a duplicate is better than none.
"""

from __future__ import annotations

import logging
import random
import warnings
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram._utils.types import JSONDict
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from bot.clock import SystemTimer, Timer

_LOGGER = logging.getLogger(__name__)
PACED_PREFIXES = ("send", "edit", "copy", "forward")


@dataclass
class Pacing:
    """Spacing of outgoing messages; `Pacing.off()` for tests against the local fake."""

    chat_interval: float = 1.0  # seconds between messages to one private chat (sustained)
    chat_burst: int = 3  # messages one chat may get at once before spacing applies
    group_interval: float = 3.0  # Telegram allows about 20 messages a minute in a group
    global_per_second: float = 25.0  # below Telegram's ~30 messages per second per bot

    @classmethod
    def off(cls) -> Pacing:
        return cls(chat_interval=0.0, chat_burst=1, group_interval=0.0, global_per_second=0.0)


class _Gcra:
    """Generic cell rate algorithm: `reserve` returns how long to wait before sending."""

    def __init__(self) -> None:
        self.tat: dict[int | str | None, float] = {}

    def reserve(self, key: int | str | None, interval: float, burst: int, now: float) -> float:
        if interval <= 0:
            return 0.0
        tolerance = interval * max(burst - 1, 0)
        tat = max(self.tat.get(key, now), now)
        start = max(now, tat - tolerance)
        self.tat[key] = tat + interval
        return start - now

    def prune(self, now: float) -> None:
        if len(self.tat) > 10_000:
            self.tat = {k: v for k, v in self.tat.items() if v > now}


@dataclass(frozen=True)
class Retries:
    """Per-call bounds (`rate_limit_args=Retries(...)`); None keeps the limiter's max_retries."""

    flood: int | None = None  # 429s honoured before RetryAfter reaches the caller
    network: int | None = None  # timeouts, dropped connections and 5xx retried


class RetryingRateLimiter(BaseRateLimiter[Retries]):
    """See the module docstring."""

    def __init__(
        self,
        *,
        max_retries: int = 4,
        max_retry_after: float = 60.0,
        base_delay: float = 0.5,
        max_delay: float = 8.0,
        pacing: Pacing | None = None,
        timer: Timer | None = None,
    ) -> None:
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.pacing = pacing if pacing is not None else Pacing()
        self.timer: Timer = timer if timer is not None else SystemTimer()
        self.flood_waits = 0
        self._chats = _Gcra()
        self._held: dict[int | str, float] = {}  # chats in a flood wait: until when
        self._global = _Gcra()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Retries | None,
    ) -> bool | JSONDict | list[JSONDict]:
        bounds = rate_limit_args or Retries()
        flood_retries = self.max_retries if bounds.flood is None else bounds.flood
        network_retries = self.max_retries if bounds.network is None else bounds.network
        chat_id = _chat_id(data) if endpoint.startswith(PACED_PREFIXES) else None
        floods = failures = 0
        while True:
            if chat_id is not None:
                await self._pace(chat_id)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                self.flood_waits += 1
                wait = retry_seconds(error)
                if floods >= flood_retries or wait > self.max_retry_after:
                    raise
                floods += 1
                _LOGGER.info("%s: flood wait %.1fs (attempt %d)", endpoint, wait, floods)
                if chat_id is not None:  # the chat's next slot is after the wait: _pace waits
                    until = self.timer.monotonic() + wait
                    self._held[chat_id] = max(self._held.get(chat_id, 0.0), until)
                else:
                    await self.timer.sleep(wait)
            except BadRequest:
                raise  # the request itself is wrong: sending it again cannot help
            except NetworkError as error:  # TimedOut, dropped connections, 5xx
                if failures >= network_retries:
                    raise
                delay = min(self.max_delay, self.base_delay * 2**failures)
                failures += 1
                delay *= 0.8 + 0.4 * random.random()  # jitter: retries of many chats spread out
                _LOGGER.info(
                    "%s: %s, retrying in %.2fs (attempt %d)",
                    endpoint,
                    type(error).__name__,
                    delay,
                    failures,
                )
                await self.timer.sleep(delay)

    async def _pace(self, chat_id: int | str) -> None:
        held = self._held.get(chat_id)
        if held is not None:  # a flood wait: nothing to this chat before it is over
            delay = held - self.timer.monotonic()
            if delay > 0:
                await self.timer.sleep(delay)
            else:
                del self._held[chat_id]
        pacing = self.pacing
        now = self.timer.monotonic()
        group = isinstance(chat_id, str) or chat_id < 0
        interval = pacing.group_interval if group else pacing.chat_interval
        wait = self._chats.reserve(chat_id, interval, 1 if group else pacing.chat_burst, now)
        per_second = pacing.global_per_second
        if per_second > 0:  # no burst: with one, a second could hold up to twice the rate
            wait = max(wait, self._global.reserve(None, 1 / per_second, 1, now))
        self._chats.prune(now)
        if wait > 0:
            await self.timer.sleep(wait)


def _chat_id(data: dict[str, Any]) -> int | str | None:
    raw = data.get("chat_id")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        try:
            return int(raw)
        except ValueError:
            return raw  # @channelusername
    return None


def retry_seconds(error: RetryAfter) -> float:
    """Seconds Telegram asked to wait."""
    # Since PTB 22.2 the value is kept as a timedelta; reading the public int form warns.
    kept = getattr(error, "_retry_after", None)
    if isinstance(kept, timedelta):
        return kept.total_seconds()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
