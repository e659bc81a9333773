"""The reminder log: one row per reminder to send, claimed by exactly one worker.

Every claim operation is a conditional UPDATE: it touches only rows that are still pending and
(for renew, release and the marks) still held by the worker asking, so that two processes never
both send one row (see bot/reminders/dispatcher.py for the whole protocol)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from storage.models import ReminderRow
from storage.records import ReminderEntry, ReminderStatus
from storage.repos._sql import insert_ignoring_conflict, now_or, rowcount

DEFAULT_LEASE = timedelta(minutes=10)
DEFAULT_MAX_ATTEMPTS = 3


def _entry(row: ReminderRow) -> ReminderEntry:
    return ReminderEntry(
        id=row.id,
        user_id=row.user_id,
        form_id=row.form_id,
        round_id=row.round_id,
        due_at=row.due_at,
        kind=row.kind,
        status=ReminderStatus(row.status),
        attempts=row.attempts,
        claimed_at=row.claimed_at,
        claimed_by=row.claimed_by,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )


class ReminderLogRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def schedule(
        self,
        user_id: int,
        form_id: int,
        round_id: int,
        due_at: datetime,
        kind: str,
        *,
        now: datetime | None = None,
    ) -> bool:
        """Add a pending reminder; False when (user, form, due_at, kind) is already logged, so
        that schedulers in several processes may plan the same reminder."""
        values = {
            "user_id": user_id,
            "form_id": form_id,
            "round_id": round_id,
            "due_at": due_at,
            "kind": kind,
            "status": ReminderStatus.PENDING.value,
            "attempts": 0,
            "created_at": now_or(now),
        }
        conflict = ["user_id", "form_id", "due_at", "kind"]
        return insert_ignoring_conflict(self.session, ReminderRow, values, conflict)

    def _free(self, now: datetime, lease: timedelta) -> list[ColumnElement[bool]]:
        """Pending, and unclaimed or its claim older than `lease` (the claimer died)."""
        return [
            ReminderRow.status == ReminderStatus.PENDING.value,
            or_(ReminderRow.claimed_at.is_(None), ReminderRow.claimed_at < now - lease),
        ]

    def _claimable(self, now: datetime, lease: timedelta) -> list[ColumnElement[bool]]:
        return [*self._free(now, lease), ReminderRow.due_at <= now]

    def claim_due(
        self, now: datetime, worker: str, limit: int = 50, *, lease: timedelta = DEFAULT_LEASE
    ) -> list[ReminderEntry]:
        """Claim up to `limit` due reminders for `worker` and return them.

        A conditional UPDATE: a row is claimed only while it is pending and unclaimed (or its
        claim is older than `lease`, the claimer having died), so two workers never claim one
        row at the same time. On PostgreSQL, rows another worker is claiming are skipped rather
        than waited for. Commit the claim before sending.
        """
        # A materialized CTE: PostgreSQL may otherwise run a LIMIT ... SKIP LOCKED subquery more
        # than once within the UPDATE and claim more than `limit` rows.
        candidates = (
            select(ReminderRow.id)
            .where(*self._claimable(now, lease))
            .order_by(ReminderRow.due_at, ReminderRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("due")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        claimed = self.session.scalars(
            update(ReminderRow)
            .add_cte(candidates)
            .where(ReminderRow.id.in_(select(candidates.c.id)), *self._claimable(now, lease))
            .values(claimed_at=now, claimed_by=worker, attempts=ReminderRow.attempts + 1)
            .returning(ReminderRow.id)
            .execution_options(synchronize_session=False)
        ).all()
        return self._entries(claimed)

    def _held(self, ids: Sequence[int], worker: str) -> list[ColumnElement[bool]]:
        return [
            ReminderRow.id.in_(list(ids)),
            ReminderRow.claimed_by == worker,
            ReminderRow.status == ReminderStatus.PENDING.value,
        ]

    def renew(self, ids: Sequence[int], worker: str, now: datetime) -> set[int]:
        """Restart the lease of the rows `worker` still holds; returns their ids.

        Called (and committed) right before a send: a row whose lease ran out and that another
        worker took meanwhile is not in the result, so the slow worker never sends it; and the
        renewed lease cannot run out during the paced send that follows.
        """
        if not ids:
            return set()
        renewed = self.session.scalars(
            update(ReminderRow)
            .where(*self._held(ids, worker))
            .values(claimed_at=now)
            .returning(ReminderRow.id)
            .execution_options(synchronize_session=False)
        ).all()
        return set(renewed)

    def release(self, ids: Sequence[int], worker: str) -> int:
        """Give back claims that were never sent (shutdown, quiet hours), as if never claimed:
        the next tick of any worker takes them at once instead of waiting for the lease, and
        the attempt does not count toward the failure limit."""
        if not ids:
            return 0
        released = self.session.scalars(
            update(ReminderRow)
            .where(*self._held(ids, worker))
            .values(claimed_at=None, claimed_by=None, attempts=ReminderRow.attempts - 1)
            .returning(ReminderRow.id)
            .execution_options(synchronize_session=False)
        ).all()
        return len(released)

    def absorb(
        self,
        *,
        user_id: int,
        round_id: int,
        kind: str,
        worker: str,
        now: datetime,
        until: datetime,
        lease: timedelta = DEFAULT_LEASE,
    ) -> list[ReminderEntry]:
        """Claim for `worker` the user's other pending rows of `kind` in the round that are due
        by `until` (not only by now), so that one message covers them: the coalescing of review
        notices. The same conditions as `claim_due` (pending, and unclaimed or its lease
        expired) make it safe across processes: a row is either absorbed here or claimed by
        another worker, never both, and a row absorbed by a worker that dies is taken over
        after the lease."""
        absorbed = self.session.scalars(
            update(ReminderRow)
            .where(
                ReminderRow.user_id == user_id,
                ReminderRow.round_id == round_id,
                ReminderRow.kind == kind,
                ReminderRow.due_at <= until,
                *self._free(now, lease),
            )
            .values(claimed_at=now, claimed_by=worker, attempts=ReminderRow.attempts + 1)
            .returning(ReminderRow.id)
            .execution_options(synchronize_session=False)
        ).all()
        return self._entries(absorbed)

    def _entries(self, ids: Sequence[int]) -> list[ReminderEntry]:
        if not ids:
            return []
        rows = self.session.scalars(
            select(ReminderRow)
            .where(ReminderRow.id.in_(ids))
            .order_by(ReminderRow.due_at, ReminderRow.id)
            .execution_options(populate_existing=True)
        )
        return [_entry(row) for row in rows]

    def _finish(self, reminder_id: int, worker: str, **values: object) -> bool:
        """Update a reminder this worker holds; False if the claim was lost meanwhile."""
        result = self.session.execute(
            update(ReminderRow)
            .where(
                ReminderRow.id == reminder_id,
                ReminderRow.claimed_by == worker,
                ReminderRow.status == ReminderStatus.PENDING.value,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    def mark_sent(self, reminder_id: int, worker: str, *, now: datetime | None = None) -> bool:
        return self._finish(
            reminder_id, worker, status=ReminderStatus.SENT.value, sent_at=now_or(now)
        )

    def mark_blocked(self, reminder_id: int, worker: str) -> bool:
        """The user blocked the bot: never retry this reminder."""
        return self._finish(reminder_id, worker, status=ReminderStatus.BLOCKED.value)

    def mark_failed(
        self,
        reminder_id: int,
        worker: str,
        error: str,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        now: datetime | None = None,
    ) -> bool:
        """Record a failed send. Below `max_attempts` the reminder stays pending and is claimed
        again once the lease of this attempt expires; at `max_attempts` it becomes failed."""
        row = self.session.get(ReminderRow, reminder_id, populate_existing=True)
        if row is None:
            return False
        final = row.attempts >= max_attempts
        return self._finish(
            reminder_id,
            worker,
            status=(ReminderStatus.FAILED if final else ReminderStatus.PENDING).value,
            claimed_at=now_or(now),
            claimed_by=worker if final else None,
            last_error=error,
        )

    def statuses_at(
        self, round_id: int, kind: str, due_at: datetime, user_ids: Iterable[int]
    ) -> dict[int, set[ReminderStatus]]:
        """The statuses of the users' rows of one moment and kind (what a /remind became)."""
        rows = self.session.execute(
            select(ReminderRow.user_id, ReminderRow.status).where(
                ReminderRow.round_id == round_id,
                ReminderRow.kind == kind,
                ReminderRow.due_at == due_at,
                ReminderRow.user_id.in_(list(user_ids)),
            )
        ).all()
        found: dict[int, set[ReminderStatus]] = {}
        for user_id, status in rows:
            found.setdefault(user_id, set()).add(ReminderStatus(status))
        return found

    def get(self, reminder_id: int) -> ReminderEntry | None:
        entries = self._entries([reminder_id])
        return entries[0] if entries else None

    def list_for_form(self, form_id: int) -> list[ReminderEntry]:
        ids = self.session.scalars(select(ReminderRow.id).where(ReminderRow.form_id == form_id))
        return self._entries(list(ids))
