"""A paced send queue for reminders and digests: a `Transport` wrapped around another one.

Telegram allows a bot about 30 messages a second overall and about one a second per chat.
`PacedTransport` keeps both: sends start at most `per_second` a second (25 by default, leaving
room for the replies to people who are filling forms) and at least `chat_interval` apart in one
chat. A 429 (RetryLater) pushes back only that chat: its message is sent again after
`retry_after`, while every other chat goes on — unlike PTB's AIORateLimiter, which pauses every
request of the bot during a back-off. Replies to users do not pass through here at all.

Slots are reserved without awaiting (the reservation is a plain assignment between awaits), so
concurrent senders never book the same slot. Messages to one chat are sent one at a time, in
the order they were handed over (asyncio locks are fair).
"""

from __future__ import annotations

import asyncio

from bot.reminders.clock import SystemTimer, Timer
from bot.reminders.transport import OutgoingMessage, RetryLater, Transport

DEFAULT_PER_SECOND = 25.0
DEFAULT_CHAT_INTERVAL = 1.0
_PRUNE_AT = 10_000


class _ChatSlot:
    __slots__ = ("lock", "ready", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.ready = 0.0  # timer time before which this chat gets nothing
        self.users = 0


class PacedTransport:
    """See the module docstring. `max_retries` 429s per message are honoured, each no longer
    than `max_retry_after` seconds; after that RetryLater reaches the caller (the dispatcher
    then leaves the reminder for a later attempt)."""

    def __init__(
        self,
        inner: Transport,
        *,
        per_second: float = DEFAULT_PER_SECOND,
        chat_interval: float = DEFAULT_CHAT_INTERVAL,
        max_retries: int = 3,
        max_retry_after: float = 60.0,
        timer: Timer | None = None,
    ) -> None:
        if per_second < 0 or chat_interval < 0:
            raise ValueError("rates must not be negative (0 switches a limit off)")
        self.inner = inner
        self.per_second = per_second
        self.chat_interval = chat_interval
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.timer: Timer = timer if timer is not None else SystemTimer()
        self._chats: dict[int, _ChatSlot] = {}
        self._next_global = 0.0
        self.sent = 0
        self.flood_waits = 0

    @property
    def worst_case_wait(self) -> float:
        """The longest one message can spend in 429 back-offs here (the dispatcher keeps its
        claim lease longer than this)."""
        return self.max_retries * self.max_retry_after

    async def send(self, message: OutgoingMessage) -> None:
        slot = self._chats.get(message.chat_id)
        if slot is None:
            slot = self._chats[message.chat_id] = _ChatSlot()
        slot.users += 1
        try:
            async with slot.lock:
                await self._send_in_turn(slot, message)
        finally:
            slot.users -= 1
            self._prune()

    async def _send_in_turn(self, slot: _ChatSlot, message: OutgoingMessage) -> None:
        attempt = 0
        while True:
            await self._wait_until(slot.ready)
            await self._wait_until(self._reserve_global())
            slot.ready = self.timer.monotonic() + self.chat_interval
            try:
                await self.inner.send(message)
            except RetryLater as error:
                self.flood_waits += 1
                slot.ready = max(slot.ready, self.timer.monotonic() + error.retry_after)
                if attempt >= self.max_retries or error.retry_after > self.max_retry_after:
                    raise
                attempt += 1
                continue
            self.sent += 1
            return

    def _reserve_global(self) -> float:
        """The start of the next free global slot, booked for the caller."""
        now = self.timer.monotonic()
        if self.per_second <= 0:
            return now
        start = max(now, self._next_global)
        self._next_global = start + 1 / self.per_second
        return start

    async def _wait_until(self, moment: float) -> None:
        delay = moment - self.timer.monotonic()
        if delay > 0:
            await self.timer.sleep(delay)

    def _prune(self) -> None:
        if len(self._chats) < _PRUNE_AT:
            return
        now = self.timer.monotonic()
        self._chats = {
            chat: slot for chat, slot in self._chats.items() if slot.users or slot.ready > now
        }
