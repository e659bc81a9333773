"""Sending the reminder log: claim due rows, send one message per user, mark the rows.

What is guaranteed, and why
---------------------------
Each row of the log is one reminder of one form for one user at one moment; the planner makes
at most one row per (user, form, due_at, kind) whatever the number of processes or restarts.
A batch goes like this, each step its own committed transaction unless said otherwise:

  1. claim   ReminderLogRepository.claim_due: a conditional UPDATE (pending, and unclaimed or
             its lease expired; SKIP LOCKED on PostgreSQL). Two workers never hold one row.
  2. renew   right before a user's message is sent, the rows still held are renewed
             (ReminderLogRepository.renew, conditional on `claimed_by` = us). A row another
             worker took after our lease ran out is dropped here and never sent by us; the
             renewed lease (10 minutes) outlasts the paced send, whose 429 back-offs are bounded.
     For approval notices the same step also absorbs (ReminderLogRepository.absorb, the same
             conditional UPDATE) the user's other approval notices logged so far, so one
             message covers every approval of the coalescing window (compose.COALESCE_WINDOW).
  3. send    one Telegram message for the user's rows of that moment (paced by bot/ratelimit.py).
  4. mark    mark_sent for those rows, at once, in one transaction (or blocked / failed).

A crash (kill -9, power loss) before 3 leaves rows claimed and unsent: their lease expires and
the next tick of any worker sends them - once. A request that never reached Telegram, or that
Telegram did not process, is the same. Only a crash between Telegram accepting the message and
the commit of step 4 (a few milliseconds per message) sends that message again after the lease.
An ambiguous failure - a timeout, a dropped connection, a 5xx, where Telegram may have delivered
the message - is treated as "not delivered" and retried after the lease.

So delivery is **at least once**, and exactly once for every crash outside that window. The
Bot API has no idempotency key nor a way to ask what a chat received, so no ordering of claim,
send and mark can close it: marking before sending would instead lose reminders in the same
window, and for reminders a rare duplicate is the lesser evil. A graceful stop (the application
stopping) waits for the messages in flight, marks them, and gives back the claims it did not
send yet (ReminderLogRepository.release), so a restart sends those at once instead of after
the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.progress import FormProgress, form_progress
from bot.reminders.compose import (
    COALESCE_WINDOW,
    COALESCED_KINDS,
    NOTICE_STATUS,
    compose,
    still_relevant,
)
from bot.reminders.schedule import in_quiet_hours
from bot.reminders.transport import (
    ChatBlocked,
    DeliveryError,
    OutgoingMessage,
    PermanentError,
    Transport,
)
from bot.service import FilingService
from dialogs.loader import get_layout
from storage.db import Database
from storage.records import ReminderEntry, StoredForm
from storage.repos import FormRepository, ReminderLogRepository, RoundRepository, UserRepository
from storage.repos.reminders import DEFAULT_LEASE, DEFAULT_MAX_ATTEMPTS

_LOGGER = logging.getLogger(__name__)
SKIPPED = "skipped: "  # last_error of rows finished without a message (the status says failed)


def _always() -> bool:
    return True


@dataclass
class DispatchReport:
    claimed: int = 0
    messages: int = 0  # messages Telegram accepted
    sent: int = 0  # rows marked sent
    blocked: int = 0
    failed: int = 0
    skipped: int = 0
    released: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DispatchReport) -> None:
        for name in ("claimed", "messages", "sent", "blocked", "failed", "skipped", "released"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors


@dataclass(frozen=True)
class _Group:
    """The rows one message covers: one user, one round, one moment and kind."""

    user_id: int
    round_id: int
    kind: str
    due_at: datetime
    entries: tuple[ReminderEntry, ...]

    @property
    def ids(self) -> list[int]:
        return [entry.id for entry in self.entries]


@dataclass(frozen=True)
class _Ready:
    message: OutgoingMessage
    ids: list[int]


def _groups(entries: list[ReminderEntry]) -> list[_Group]:
    """One group per message: a user's rows of one round, kind and moment; coalesced kinds
    (review approvals) over every moment."""
    found: dict[tuple[int, int, str, datetime | None], list[ReminderEntry]] = {}
    for entry in entries:
        moment = None if entry.kind in COALESCED_KINDS else entry.due_at
        found.setdefault((entry.user_id, entry.round_id, entry.kind, moment), []).append(entry)
    return [
        _Group(user, round_id, kind, min(e.due_at for e in rows), tuple(rows))
        for (user, round_id, kind, _), rows in found.items()
    ]


class Dispatcher:
    """Sends what is due in the log (see the module docstring). `worker` must be unique per
    running process: a restarted process is a new worker (its old claims simply expire)."""

    def __init__(
        self,
        database: Database,
        transport: Transport,
        zone: ZoneInfo,
        clock: Clock,
        *,
        worker: str,
        batch_size: int = 50,
        lease: timedelta = DEFAULT_LEASE,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_in_flight: int = 8,
    ) -> None:
        self.database = database
        self.transport = transport
        self.zone = zone
        self.clock = clock
        self.worker = worker
        self.batch_size = batch_size
        self.lease = lease
        self.max_attempts = max_attempts
        self.max_in_flight = max_in_flight

    async def run(
        self, *, max_batches: int = 20, keep_going: Callable[[], bool] = _always
    ) -> DispatchReport:
        """Claim and send batches until nothing is due (or `max_batches`, so one tick cannot
        run for ever). `keep_going` turns False when the application stops."""
        report = DispatchReport()
        for _ in range(max_batches):
            if not keep_going():
                break
            entries = await asyncio.to_thread(self._claim)
            if not entries:
                break
            batch = await self._deliver_batch(entries, keep_going)
            report.add(batch)
            # A short batch means nothing more is due; released rows are due but not now.
            if len(entries) < self.batch_size or batch.released:
                break
        return report

    async def _deliver_batch(
        self, entries: list[ReminderEntry], keep_going: Callable[[], bool]
    ) -> DispatchReport:
        batch = DispatchReport(claimed=len(entries))
        semaphore = asyncio.Semaphore(self.max_in_flight)

        async def deliver(group: _Group) -> None:
            async with semaphore:
                await self._deliver(group, batch, keep_going)

        await asyncio.gather(*(deliver(group) for group in _groups(entries)))
        return batch

    def _claim(self) -> list[ReminderEntry]:
        with self.database.transaction() as session:
            return ReminderLogRepository(session).claim_due(
                self.clock.now(), self.worker, self.batch_size, lease=self.lease
            )

    async def _deliver(
        self, group: _Group, report: DispatchReport, keep_going: Callable[[], bool]
    ) -> None:
        if not keep_going():
            released = await asyncio.to_thread(self._release, group.ids)
            report.released += released  # not `+= await`: that reads the count before awaiting
            return
        counted = DispatchReport()
        try:
            ready = await asyncio.to_thread(self._prepare, group, counted)
        except Exception as error:  # a bug or a database fault
            _LOGGER.exception("reminder group %s could not be prepared", group.ids)
            report.errors.append(f"prepare: {error!r}")
            # Counted as a failed attempt, so a row that always breaks ends as failed instead
            # of coming back after every lease; if the database is down this fails too, and
            # the claims simply expire.
            with contextlib.suppress(Exception):
                failure = DeliveryError(f"prepare: {error!r}")
                await asyncio.to_thread(self._finish_failed, group.ids, failure, False)
            return
        report.add(counted)
        if ready is None:
            return
        try:
            await self.transport.send(ready.message)
        except ChatBlocked as error:
            await asyncio.to_thread(self._finish_blocked, group.user_id, ready.ids)
            report.blocked += len(ready.ids)
            _LOGGER.info("user %s blocked the bot: %s", group.user_id, error)
        except DeliveryError as error:
            final = isinstance(error, PermanentError)
            await asyncio.to_thread(self._finish_failed, ready.ids, error, final)
            report.failed += len(ready.ids)
            report.errors.append(f"{type(error).__name__}: {error}")
            _LOGGER.warning("reminder to user %s failed: %r", group.user_id, error)
        else:
            report.messages += 1
            marked = await asyncio.to_thread(self._finish_sent, ready.ids)
            report.sent += marked

    # --- database steps (each one transaction, run in a worker thread) -------------------------

    def _prepare(self, group: _Group, report: DispatchReport) -> _Ready | None:
        """Renew the claims, drop rows that no longer apply, render the message. Runs in a
        worker thread: it counts into its own `report`, which the caller merges."""
        now = self.clock.now()
        with self.database.transaction() as session:
            log = ReminderLogRepository(session)
            held = log.renew(group.ids, self.worker, now)
            entries = [e for e in group.entries if e.id in held]
            if not entries:
                return None
            user = UserRepository(session).get(group.user_id)
            round_ = RoundRepository(session).get(group.round_id)
            if user is None or round_ is None or round_.closed:
                report.skipped += self._skip(log, entries, "user gone or round closed", now)
                return None
            if user.bot_blocked_at is not None:
                report.blocked += sum(log.mark_blocked(e.id, self.worker) for e in entries)
                return None
            if in_quiet_hours(now, round_.policy, self.zone):
                # Planned before an outage that ended in the quiet hours: wait for the morning.
                report.released += log.release([e.id for e in entries], self.worker)
                return None
            if group.kind in COALESCED_KINDS:
                entries += self._absorb(log, group, now)
            forms = FormRepository(session)
            keep: list[tuple[ReminderEntry, StoredForm]] = []
            dropped: list[ReminderEntry] = []
            for entry in entries:
                form = forms.get(entry.form_id)
                if form is not None and still_relevant(group.kind, form.status):
                    keep.append((entry, form))
                else:
                    dropped.append(entry)
            report.skipped += self._skip(log, dropped, f"form no longer {group.kind}", now)
            if not keep:
                return None
            layout = get_layout(round_.layout)
            progress = [form_progress(layout, form) for _, form in keep]
            names = (self._reviewer(session, group.kind, form.updated_by) for _, form in keep)
            reviewer = "、".join(name for name in dict.fromkeys(names) if name)
        if group.kind not in NOTICE_STATUS:
            progress = [self._with_submit_errors(form) for form in progress]
        message = compose(
            group.kind, user.telegram_id, round_, progress, now, self.zone, reviewer=reviewer
        )
        return _Ready(message, [entry.id for entry, _ in keep])

    def _with_submit_errors(self, form: FormProgress) -> FormProgress:
        """A complete draft with the errors that would block its submission, so that the
        reminder says "press 提交" only when pressing it submits (its own transaction, after
        the claims are committed; only complete drafts pay for the review)."""
        if not form.ready_to_submit:
            return form
        review = FilingService(self.database).review(form.form_id)
        return replace(form, submit_errors=len(review.errors))

    def _absorb(
        self, log: ReminderLogRepository, group: _Group, now: datetime
    ) -> list[ReminderEntry]:
        """The user's other notices of this kind logged so far (due within the coalescing
        window), claimed now so that this one message covers them."""
        return log.absorb(
            user_id=group.user_id,
            round_id=group.round_id,
            kind=group.kind,
            worker=self.worker,
            now=now,
            until=now + COALESCE_WINDOW,
            lease=self.lease,
        )

    def _reviewer(self, session: Session, kind: str, user_id: int | None) -> str:
        if kind not in NOTICE_STATUS or user_id is None:
            return ""
        reviewer = UserRepository(session).get(user_id)
        return reviewer.display_name if reviewer is not None else ""

    def _skip(
        self, log: ReminderLogRepository, entries: list[ReminderEntry], why: str, now: datetime
    ) -> int:
        """Finish rows without a message (the form was submitted meanwhile, …)."""
        return sum(
            log.mark_failed(entry.id, self.worker, SKIPPED + why, max_attempts=0, now=now)
            for entry in entries
        )

    def _finish_sent(self, ids: list[int]) -> int:
        now = self.clock.now()
        with self.database.transaction() as session:
            log = ReminderLogRepository(session)
            marked = sum(log.mark_sent(reminder_id, self.worker, now=now) for reminder_id in ids)
        if marked != len(ids):
            # Only if the send outlasted the lease and another worker took the rows over.
            _LOGGER.warning("lost the claim of %d sent reminders", len(ids) - marked)
        return marked

    def _finish_blocked(self, user_id: int, ids: list[int]) -> None:
        now = self.clock.now()
        with self.database.transaction() as session:
            log = ReminderLogRepository(session)
            for reminder_id in ids:
                log.mark_blocked(reminder_id, self.worker)
            UserRepository(session).mark_blocked(user_id, now=now)

    def _finish_failed(self, ids: list[int], error: DeliveryError, final: bool) -> None:
        now = self.clock.now()
        text = f"{type(error).__name__}: {error}"[:500]
        attempts = 0 if final else self.max_attempts
        with self.database.transaction() as session:
            log = ReminderLogRepository(session)
            for reminder_id in ids:
                log.mark_failed(reminder_id, self.worker, text, max_attempts=attempts, now=now)

    def _release(self, ids: list[int]) -> int:
        with self.database.transaction() as session:
            return ReminderLogRepository(session).release(ids, self.worker)
