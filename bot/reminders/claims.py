"""Claim operations the dispatcher needs beyond ReminderLogRepository: renew, release and
absorb (coalescing several notices into one message).

They are conditional UPDATEs in the repository's style (they touch only rows this worker still
holds and that are still pending) and belong in storage/repos/reminders.py; they live here until
the storage owner moves them, so that this package does not edit storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, update
from sqlalchemy.orm import Session

from storage.models import ReminderRow
from storage.records import ReminderStatus


def _held(ids: Sequence[int], worker: str) -> list[ColumnElement[bool]]:
    return [
        ReminderRow.id.in_(list(ids)),
        ReminderRow.claimed_by == worker,
        ReminderRow.status == ReminderStatus.PENDING.value,
    ]


def renew(session: Session, ids: Sequence[int], worker: str, now: datetime) -> set[int]:
    """Restart the lease of the rows `worker` still holds; returns their ids.

    Called (and committed) right before a send: a row whose lease ran out and that another
    worker took meanwhile is not in the result, so the slow worker never sends it; and the
    renewed lease cannot run out during the paced send that follows.
    """
    if not ids:
        return set()
    renewed = session.scalars(
        update(ReminderRow)
        .where(*_held(ids, worker))
        .values(claimed_at=now)
        .returning(ReminderRow.id)
        .execution_options(synchronize_session=False)
    ).all()
    return set(renewed)


def release(session: Session, ids: Sequence[int], worker: str) -> int:
    """Give back claims that were never sent (shutdown, quiet hours), as if never claimed: the
    next tick of any worker takes them at once instead of waiting for the lease, and the
    attempt does not count toward the failure limit."""
    if not ids:
        return 0
    released = session.scalars(
        update(ReminderRow)
        .where(*_held(ids, worker))
        .values(claimed_at=None, claimed_by=None, attempts=ReminderRow.attempts - 1)
        .returning(ReminderRow.id)
        .execution_options(synchronize_session=False)
    ).all()
    return len(released)


def absorb(
    session: Session,
    *,
    user_id: int,
    round_id: int,
    kind: str,
    worker: str,
    now: datetime,
    until: datetime,
    lease: timedelta,
) -> list[int]:
    """Claim for `worker` the user's other pending rows of `kind` in the round that are due by
    `until` (not only by now), so that one message covers them: the coalescing of review
    notices. The same conditions as claiming (pending, and unclaimed or its lease expired) make
    it safe across processes: a row is either absorbed here or claimed by another worker, never
    both, and a row absorbed by a worker that dies is taken over after the lease."""
    absorbed = session.scalars(
        update(ReminderRow)
        .where(
            ReminderRow.user_id == user_id,
            ReminderRow.round_id == round_id,
            ReminderRow.kind == kind,
            ReminderRow.status == ReminderStatus.PENDING.value,
            ReminderRow.due_at <= until,
            or_(ReminderRow.claimed_at.is_(None), ReminderRow.claimed_at < now - lease),
        )
        .values(claimed_at=now, claimed_by=worker, attempts=ReminderRow.attempts + 1)
        .returning(ReminderRow.id)
        .execution_options(synchronize_session=False)
    ).all()
    return list(absorbed)
