"""Two claim operations the dispatcher needs beyond ReminderLogRepository: renew and release.

They are conditional UPDATEs in the repository's style (they touch only rows this worker still
holds and that are still pending) and belong in storage/repos/reminders.py; they live here until
the storage owner moves them, so that this package does not edit storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, update
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
