"""Retries and pacing for requests to the Bot API.

`RetryingRateLimiter` retries one request at a time: on 429 (RetryAfter) it sleeps for
retry_after and sends that request again; on a timeout, a dropped connection or a 5xx
(TimedOut/NetworkError but not BadRequest) it backs off exponentially; in both cases a bounded
number of times. Unlike PTB's AIORateLimiter it never pauses the other requests: one user's
flood wait must not stall everybody's replies.

Pacing: messages to one chat are spaced (a short burst, then one per second; groups slower) and
all messages stay under a global budget per second, both with GCRA reservations (the reservation
is taken without awaiting, so concurrent senders cannot double-book a slot). Requests that do not
send to a chat (answerCallbackQuery, setMyCommands, getMe…) are not paced, so a pressed button
stops spinning at once.

A retried send after a timeout may deliver a message twice; that is accepted, because the
answer it confirms was committed before the reply was sent, and a duplicate is better than none.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import warnings
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram._utils.types import JSONDict
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

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

    def push(self, key: int | str | None, until: float) -> None:
        self.tat[key] = max(self.tat.get(key, 0.0), until)

    def prune(self, now: float) -> None:
        if len(self.tat) > 10_000:
            self.tat = {k: v for k, v in self.tat.items() if v > now}


class RetryingRateLimiter(BaseRateLimiter[int]):
    """See the module docstring. `rate_limit_args` (an int) overrides max_retries per call."""

    def __init__(
        self,
        *,
        max_retries: int = 4,
        max_retry_after: float = 60.0,
        base_delay: float = 0.5,
        max_delay: float = 8.0,
        pacing: Pacing | None = None,
    ) -> None:
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.pacing = pacing if pacing is not None else Pacing()
        self._chats = _Gcra()
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
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        chat_id = _chat_id(data) if endpoint.startswith(PACED_PREFIXES) else None
        attempt = 0
        while True:
            if chat_id is not None:
                await self._pace(chat_id)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                wait = _retry_seconds(error)
                if attempt >= retries or wait > self.max_retry_after:
                    raise
                _LOGGER.info("%s: flood wait %.1fs (attempt %d)", endpoint, wait, attempt + 1)
                if chat_id is not None:
                    self._chats.push(chat_id, time.monotonic() + wait)
                await asyncio.sleep(wait + 0.05)
            except BadRequest:
                raise  # the request itself is wrong: sending it again cannot help
            except NetworkError as error:  # TimedOut, dropped connections, 5xx
                if attempt >= retries:
                    raise
                delay = min(self.max_delay, self.base_delay * 2**attempt)
                delay *= 0.8 + 0.4 * random.random()  # jitter: retries of many chats spread out
                _LOGGER.info(
                    "%s: %s, retrying in %.2fs (attempt %d)",
                    endpoint,
                    type(error).__name__,
                    delay,
                    attempt + 1,
                )
                await asyncio.sleep(delay)
            attempt += 1

    async def _pace(self, chat_id: int | str) -> None:
        pacing = self.pacing
        now = time.monotonic()
        group = isinstance(chat_id, str) or chat_id < 0
        interval = pacing.group_interval if group else pacing.chat_interval
        wait = self._chats.reserve(chat_id, interval, 1 if group else pacing.chat_burst, now)
        per_second = pacing.global_per_second
        if per_second > 0:
            burst = max(int(per_second), 1)
            wait = max(wait, self._global.reserve(None, 1 / per_second, burst, now))
        self._chats.prune(now)
        if wait > 0:
            await asyncio.sleep(wait)


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


def _retry_seconds(error: RetryAfter) -> float:
    # Since PTB 22.2 the value is kept as a timedelta; reading the public int form warns.
    kept = getattr(error, "_retry_after", None)
    if isinstance(kept, timedelta):
        return kept.total_seconds()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
