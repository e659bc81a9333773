"""One user's updates in order, different users' concurrently.

PTB starts a task per update (in update order) and calls `do_process_update` in each. Holding a
per-user asyncio.Lock around the update's coroutine serialises one user's updates: asyncio locks
wake waiters first-come first-served, and each task reaches the lock without awaiting anything
else first (the semaphore of `process_update` is acquired without suspension while it has room,
which the generous `max_concurrent_updates` keeps true in practice). So "267.5915" typed and then
a button pressed are handled in that order, while another user's answers go on in parallel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


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
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0  # tasks holding or waiting for the lock


class PerUserOrderedProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
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
        slot.users += 1
        try:
            async with slot.lock:
                await coroutine
        finally:
            slot.users -= 1
            if slot.users == 0:
                # Forget idle users so the table does not grow with everyone who ever wrote.
                del self._slots[key]
