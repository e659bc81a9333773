"""One user's updates in order, different users' concurrently, and no user holding everyone up.

PTB starts a task per update (in update order) and calls `do_process_update` in each. Holding a
per-user asyncio.Lock around the update's coroutine serialises one user's updates: asyncio locks
wake waiters first-come first-served, and each task reaches the lock without awaiting anything
else first (the semaphore of `process_update` is acquired without suspension while it has room).
So "267.5915" typed and then a button pressed are handled in that order, while another user's
answers go on in parallel.

Fairness: every waiting update holds one of PTB's concurrent-update slots, so one account
sending hundreds of messages would fill them all while its own updates wait for its lock, and
everyone else would wait behind it. One user may therefore hold at most `per_user_limit` updates
(the one being handled and those queued behind it); beyond that, updates are dropped at once,
and the first drop of a flood calls `on_flood` (the bot sends one polite notice). A flood ends
when the user's queue has drained; the next one gets a notice again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, BaseUpdateProcessor

_LOGGER = logging.getLogger(__name__)
# Enough for a burst a person really sends (a long text Telegram split into parts, a few quick
# taps), small enough that a flood holds few slots: the default 256 serve 32 flooding accounts
# before anyone else waits.
PER_USER_LIMIT = 8


def update_key(update: object) -> int | None:
    """The user an update belongs to (the chat if it has no user); None for neither."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


class _Slot:
    __slots__ = ("lock", "noticed", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0  # tasks holding or waiting for the lock
        self.noticed = False  # this flood's notice was sent


class PerUserOrderedProcessor(BaseUpdateProcessor):
    def __init__(
        self, max_concurrent_updates: int = 256, per_user_limit: int = PER_USER_LIMIT
    ) -> None:
        super().__init__(max_concurrent_updates)
        if per_user_limit < 1:
            raise ValueError("per_user_limit must be positive")
        self.per_user_limit = per_user_limit
        self.on_flood: Callable[[Update], None] | None = None
        self.dropped = 0
        self._slots: dict[int, _Slot] = {}

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def active_users(self) -> int:
        return len(self._slots)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = update_key(update)
        if key is None:
            await coroutine
            return
        slot = self._slots.setdefault(key, _Slot())
        if slot.users >= self.per_user_limit:
            self._drop(update, slot, coroutine)
            return
        slot.users += 1
        try:
            async with slot.lock:
                await coroutine
        finally:
            slot.users -= 1
            if slot.users == 0:
                # Forget idle users so the table does not grow with everyone who ever wrote;
                # this also ends the user's flood.
                del self._slots[key]

    def _drop(self, update: object, slot: _Slot, coroutine: Awaitable[Any]) -> None:
        if isinstance(coroutine, Coroutine):
            coroutine.close()  # never started: nothing to undo, no "never awaited" warning
        self.dropped += 1
        if slot.noticed or not isinstance(update, Update):
            return
        slot.noticed = True
        _LOGGER.warning("user %s floods: updates dropped", update_key(update))
        if self.on_flood is not None:
            self.on_flood(update)


def send_flood_notices(app: Application[Any, Any, Any, Any, Any, Any], text: str) -> None:
    """Wire the application's PerUserOrderedProcessor to send `text` once per flood, in private
    chats only (a group would see it as spam), outside the user's queue."""
    processor = app.update_processor
    if not isinstance(processor, PerUserOrderedProcessor):
        return

    async def notice(chat_id: int) -> None:
        try:
            await app.bot.send_message(chat_id, text)
        except TelegramError as error:
            _LOGGER.info("could not send a flood notice: %s", error)

    def on_flood(update: Update) -> None:
        chat = update.effective_chat
        if chat is not None and chat.type == ChatType.PRIVATE:
            app.create_task(notice(chat.id), name="updates:flood-notice")

    processor.on_flood = on_flood
