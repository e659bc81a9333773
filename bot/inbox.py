"""A durable inbox: every update is stored before Telegram learns it arrived, and applied once.

Where PTB acknowledges an update, it first awaits `update_queue.put(update)`: in long polling
the Updater moves the getUpdates offset past a batch only after putting each update, and the
webhook handler answers 200 only after its put. `InboxQueue.put` stores the update there
(unique by update_id), so a crash after the acknowledgement finds it in the database. A store
that fails is not acknowledged: polling fetches the batch again, the webhook answers 500.

Storing it also claims it for this process (a worker). `InboxApplication.process_update` handles
only updates it holds, with the claim in a context variable; the first transaction of the
handling that writes something other than the user's profile (the answer, via `bot.service`, or
whatever the handler saves) also marks the update done, conditionally on still holding the
claim: if another worker took it over, that transaction fails with ClaimLost and saves nothing.
So an update is applied once: a second delivery, or the same update at a second webhook process,
finds it held or done. Handlers and the service know nothing of it. When the handlers return,
the update is marked replied (and done, if it wrote nothing).

A claim by a worker that is gone is taken over: on SQLite (one process) every other worker is
gone; on PostgreSQL a worker is alive while it holds its advisory lock (released by the server
the moment the process's connection drops, SIGKILL included). At start the bot takes over, in
update order, what is stored and not replied: an update not done is handled; one done (its
answer saved) whose reply may not have left is answered with /fill, the step the user is at now.
A reply may so come twice (a crash between sending it and recording it), never not at all. A
sweep every 30 s does the same for updates a dead peer process left behind; replied rows are
pruned after a retention period (longer than Telegram redelivers).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Generator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import BigInteger, ColumnElement, Connection, bindparam, column, event, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session
from telegram import Update
from telegram.error import NetworkError
from telegram.ext import Application

from storage.db import Database
from storage.models import InboxRow
from storage.repos import InboxEntry, InboxRepository
from storage.repos._sql import WRITTEN_TABLES, run

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
# Updates Telegram may deliver again are at most a day old; keep done ones longer than that.
DEFAULT_RETENTION = timedelta(days=2)
SWEEP_INTERVAL = timedelta(seconds=30)
PRUNE_INTERVAL = timedelta(hours=1)
# pg_advisory_lock(namespace, worker): the namespace keeps workers apart from other locks.
_LOCK_NAMESPACE = 0x4A58  # "JX"
# Writes that do not answer an update: the gate in front of every handler refreshes the user's
# profile (name, admin role, unblocked), which is harmless to repeat; the inbox itself.
INCIDENTAL_TABLES = frozenset({"users", "inbox"})
_WROTE = "jixiao.inbox.wrote"
_MARKED = "jixiao.inbox.marked"
_INBOX = InboxRow.__table__
_MARK_DONE = (
    update(_INBOX)
    .where(
        _INBOX.c.update_id == bindparam("b_update_id"),
        _INBOX.c.claimed_by == bindparam("worker"),
        _INBOX.c.done_at.is_(None),
    )
    .values(done_at=bindparam("at"))
)


class ClaimLost(RuntimeError):
    """Another worker took this update over (this process was thought dead): the transaction
    that would have saved its answer is rolled back, and the other worker answers instead."""


@dataclass
class Claim:
    """The update being handled in this context and whether its done mark is committed."""

    update_id: int
    worker: int
    done: bool = False


CURRENT_CLAIM: ContextVar[Claim | None] = ContextVar("jixiao_inbox_claim", default=None)


class Inbox:
    """The inbox of one bot process (one worker) on `database`."""

    def __init__(self, database: Database, *, retention: timedelta = DEFAULT_RETENTION) -> None:
        self.database = database
        self.retention = retention
        self.worker = _new_worker_id()
        self._lock: Connection | None = None
        # Updates claimed and not yet handled by this process, and whether each is done already.
        self._held: dict[int, bool] = {}
        self._active: set[int] = set()  # being handled
        self._mine = threading.Lock()  # _held and _active are used from the database threads
        self._hooks_installed = False

    # --- life cycle ------------------------------------------------------------------------------

    def open(self) -> None:
        """Become a live worker and hook the done mark into the database's transactions."""
        if self.database.backend == "postgresql" and self._lock is None:
            self._lock = self.database.engine.connect()
            lock = text("SELECT pg_try_advisory_lock(:namespace, :worker)")
            while not self._lock.scalar(lock, self._lock_key()):
                self.worker = _new_worker_id()  # that id is a live worker's: draw another
            self._lock.commit()  # a session-level lock outlives the transaction
        if not self._hooks_installed:
            install_done_marks(self.database)
            self._hooks_installed = True

    def _lock_key(self) -> dict[str, int]:
        return {"namespace": _LOCK_NAMESPACE, "worker": self.worker}

    def close(self) -> None:
        if self._lock is not None:
            try:
                # Closing the connection itself (not returning it to the pool) ends the server
                # session, which releases its advisory lock.
                self._lock.invalidate()
                self._lock.close()
            finally:
                self._lock = None

    def alive(self) -> ColumnElement[bool]:
        """Whether an inbox row's claimer is a live worker, as SQL."""
        if self.database.backend != "postgresql":
            return InboxRow.claimed_by == self.worker  # SQLite serves one process
        live = text(
            "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND objsubid = 2 AND classid::bigint = :namespace"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).bindparams(namespace=_LOCK_NAMESPACE)
        return InboxRow.claimed_by.in_(live.columns(column("objid", BigInteger)))

    # --- receiving and handling ------------------------------------------------------------------

    def receive(self, update: Update, *, now: datetime | None = None) -> bool:
        """Store `update` and claim it; True when this process should handle it (new, or left
        behind by a dead worker), False when it is done or a live worker holds it."""
        with self.database.transaction() as session:
            inbox = InboxRepository(session)
            mine = inbox.store(update.update_id, update.to_dict(), worker=self.worker, now=now)
            if not mine:
                mine = inbox.claim(update.update_id, self.worker, self.alive(), now=now)
        if mine:
            with self._mine:
                self._held[update.update_id] = False
        return mine

    def take(self, update: Update) -> Claim | None:
        """The claim to handle `update` under, or None when it is not this process's to handle.
        An update that did not come through `receive` (a direct process_update) is received
        here."""
        with self._mine:
            done = self._held.pop(update.update_id, None)
            if done is not None:
                self._active.add(update.update_id)
        if done is None:
            if not self.receive(update):
                return None
            return self.take(update)
        return Claim(update.update_id, self.worker, done=done)

    def finish(self, claim: Claim) -> None:
        """The handling returned: its reply is sent (and the update done, if it wrote nothing)."""
        try:
            with self.database.transaction() as session:
                if not InboxRepository(session).mark_replied(claim.update_id, claim.worker):
                    _LOGGER.warning("update %s was taken over while handled", claim.update_id)
        finally:
            with self._mine:
                self._active.discard(claim.update_id)
        claim.done = True

    def take_over(self, *, now: datetime | None = None) -> list[InboxEntry]:
        """Claim what is stored, not replied to and not held by a live worker (at start: what
        the last run of this bot left unfinished), in update order."""
        with self.database.transaction() as session:
            inbox = InboxRepository(session)
            ids = inbox.claim_unfinished(self.worker, self.alive(), now=now)
            entries = inbox.list_all(ids) if ids else []
        # Already ours (queued, or being handled: claimed again only if our advisory lock was
        # lost meanwhile): not handled a second time.
        with self._mine:
            fresh = [e for e in entries if e.update_id not in self._held.keys() | self._active]
            for entry in fresh:
                self._held[entry.update_id] = entry.done_at is not None
        return fresh

    def prune(self, *, now: datetime | None = None) -> int:
        cutoff = (now or datetime.now(UTC)) - self.retention
        with self.database.transaction() as session:
            return InboxRepository(session).prune(cutoff)


def _new_worker_id() -> int:
    return secrets.randbelow(2**31 - 2) + 1  # a positive int4, as pg_advisory_lock takes


# --- the done mark in the answer's transaction ---------------------------------------------------


def install_done_marks(database: Database) -> None:
    """Make every transaction of `database` that writes, within the handling of a claimed update
    (CURRENT_CLAIM), also mark that update done, or fail with ClaimLost and save nothing.
    Idempotent per database."""
    factory = database.session_factory
    if event.contains(factory, "before_commit", _mark_done):
        return
    event.listen(factory, "do_orm_execute", _note_write)
    event.listen(factory, "after_flush", _note_flush)
    event.listen(factory, "before_commit", _mark_done)
    event.listen(factory, "after_commit", _committed)
    event.listen(factory, "after_rollback", _rolled_back)


def _note_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) not in INCIDENTAL_TABLES:
            state.session.info[_WROTE] = True


def _note_flush(session: Session, _context: object) -> None:
    # After a flush, new/dirty/deleted still show what it wrote.
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(instance, "__table__", None)
        if getattr(table, "name", None) not in INCIDENTAL_TABLES:
            session.info[_WROTE] = True
            return


def _mark_done(session: Session) -> None:
    claim = CURRENT_CLAIM.get()
    if claim is None or claim.done:
        return
    session.flush()  # the commit flushes after this hook: see now whether it writes
    wrote = session.info.pop(_WROTE, False)
    # Core writes of the repositories (storage.repos._sql.run) note their tables instead.
    written = session.info.pop(WRITTEN_TABLES, None)
    if not (wrote or (written and not written <= INCIDENTAL_TABLES)):
        return
    params = {"b_update_id": claim.update_id, "worker": claim.worker, "at": datetime.now(UTC)}
    marked = run(session, _MARK_DONE, params)
    if getattr(marked, "rowcount", 0) != 1:
        raise ClaimLost(f"update {claim.update_id} is no longer held by this process")
    session.info[_MARKED] = claim


def _committed(session: Session) -> None:
    session.info.pop(_WROTE, None)
    session.info.pop(WRITTEN_TABLES, None)
    claim = session.info.pop(_MARKED, None)
    if isinstance(claim, Claim):
        claim.done = True


def _rolled_back(session: Session) -> None:
    session.info.pop(_WROTE, None)
    session.info.pop(WRITTEN_TABLES, None)
    session.info.pop(_MARKED, None)


# --- PTB ---------------------------------------------------------------------------------------


def resume_payload(payload: dict[str, Any]) -> dict[str, Any] | None:
    """For an update whose answer is saved but whose reply may never have left: the same
    update (id, user, chat) as the command /fill, whose reply shows the user where they are now.
    None when it did not come from a private chat."""
    if isinstance(message := payload.get("message"), dict):
        sender = message.get("from")
    elif isinstance(query := payload.get("callback_query"), dict):
        sender = query.get("from")
        message = query.get("message")
        message = message if isinstance(message, dict) else {}
    else:
        return None
    chat, message_id, date = message.get("chat"), message.get("message_id"), message.get("date")
    if not isinstance(chat, dict) or chat.get("type") != "private" or sender is None:
        return None
    command = {
        "message_id": message_id or 0,
        "date": date or 0,
        "chat": chat,
        "from": sender,
        "text": "/fill",
        "entities": [{"type": "bot_command", "offset": 0, "length": len("/fill")}],
    }
    return {"update_id": payload["update_id"], "message": command}


class InboxQueue(asyncio.Queue[object]):
    """PTB's update queue, storing each update in the inbox before accepting it (see the module
    docstring for why that is before Telegram's acknowledgement)."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__()
        self.inbox = inbox
        # Told once that it waits for the database: the user of an update that cannot be stored
        # (an outage) hears that it is received and will be handled, not silence.
        self.on_unstored: Callable[[Update], Awaitable[None]] | None = None
        self._told: deque[int] = deque(maxlen=1000)

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            try:
                mine = await asyncio.to_thread(self.inbox.receive, item)
            except SQLAlchemyError as error:
                await self._tell_waiting(item)
                # Not acknowledged: the polling loop retries this getUpdates with a back-off
                # (only a TelegramError keeps it going), the webhook answers 500 and Telegram
                # delivers again.
                raise NetworkError(f"the inbox could not store update {item.update_id}") from error
            if not mine:
                _LOGGER.debug("update %s is done or held elsewhere", item.update_id)
                return
        await super().put(item)

    async def _tell_waiting(self, update: Update) -> None:
        if self.on_unstored is None or update.update_id in self._told:
            return
        self._told.append(update.update_id)
        try:
            await self.on_unstored(update)
        except Exception as error:  # a notice must never stop the retry of the update itself
            _LOGGER.warning("could not tell that update %s waits: %s", update.update_id, error)


class InboxApplication(Application[Any, Any, Any, Any, Any, Any]):
    """The PTB Application handling each update under its inbox claim."""

    def __init__(self, *, inbox: Inbox, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inbox = inbox

    async def initialize(self) -> None:
        if self._initialized:
            return
        await super().initialize()
        await asyncio.to_thread(self.inbox.open)
        await self.take_over_unfinished()
        if self.job_queue is not None:
            self.job_queue.run_repeating(
                self._sweep, SWEEP_INTERVAL, first=SWEEP_INTERVAL, name="inbox:sweep"
            )
            self.job_queue.run_repeating(self._prune, PRUNE_INTERVAL, first=60, name="inbox:prune")

    async def shutdown(self) -> None:
        try:
            await super().shutdown()
        finally:
            await asyncio.to_thread(self.inbox.close)

    async def take_over_unfinished(self) -> int:
        """Queue, in update order, the stored updates no live worker is handling: those not done
        to be handled, those done whose reply may be lost to be answered with where the user
        stands now (their answer is saved: the current step is the reply)."""
        entries = await asyncio.to_thread(self.inbox.take_over)
        for entry in entries:
            payload = entry.payload if entry.done_at is None else resume_payload(entry.payload)
            if payload is None:  # nobody to answer
                await asyncio.to_thread(
                    self.inbox.finish, Claim(entry.update_id, self.inbox.worker)
                )
                continue
            update = Update.de_json(payload, self.bot)
            self.update_queue.put_nowait(update)  # stored already: bypass InboxQueue.put
        if entries:
            _LOGGER.info("taking over %d stored updates left unfinished", len(entries))
        return len(entries)

    async def _sweep(self, _context: object) -> None:
        await self.take_over_unfinished()

    async def _prune(self, _context: object) -> None:
        pruned = await asyncio.to_thread(self.inbox.prune)
        if pruned:
            _LOGGER.info("pruned %d handled updates from the inbox", pruned)

    async def process_update(self, update: object) -> None:
        if not isinstance(update, Update):
            await super().process_update(update)
            return
        claim = await asyncio.to_thread(self.inbox.take, update)
        if claim is None:
            return
        token = CURRENT_CLAIM.set(claim)
        try:
            await super().process_update(update)
        finally:
            CURRENT_CLAIM.reset(token)
        await asyncio.to_thread(self.inbox.finish, claim)

    def create_task(
        self,
        coroutine: Generator[asyncio.Future[object], None, T] | Awaitable[T],
        update: object | None = None,
        *,
        name: str | None = None,
    ) -> asyncio.Task[T]:
        # A task started by a handler (e.g. sending reminders now) is not the update's handling:
        # its transactions must not mark the update done.
        token = CURRENT_CLAIM.set(None)
        try:
            return super().create_task(coroutine, update, name=name)
        finally:
            CURRENT_CLAIM.reset(token)


__all__ = [
    "CURRENT_CLAIM",
    "Claim",
    "ClaimLost",
    "Inbox",
    "InboxApplication",
    "InboxQueue",
    "install_done_marks",
]
