"""The inbox: Telegram updates stored before they are acknowledged, claimed by one worker, and
marked done in the transaction that saves what they caused.

A worker is one bot process (a random id). Who counts as alive is the caller's to say, as a SQL
condition (`alive`): a claim by a worker that is not alive is taken over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from storage.models import InboxRow
from storage.repos._sql import insert_ignoring_conflict, now_or, rowcount, run

_INBOX = InboxRow.__table__
# Built once (see `run`): the replied mark, written after every update's handling.
_MARK_REPLIED = (
    update(_INBOX)
    .where(
        _INBOX.c.update_id == bindparam("b_update_id"),
        _INBOX.c.claimed_by == bindparam("worker"),
        _INBOX.c.replied_at.is_(None),
    )
    .values(done_at=func.coalesce(_INBOX.c.done_at, bindparam("at")), replied_at=bindparam("at"))
)


@dataclass(frozen=True)
class InboxEntry:
    update_id: int
    payload: dict[str, Any]
    received_at: datetime
    claimed_by: int | None
    attempts: int
    done_at: datetime | None
    replied_at: datetime | None


def _entry(row: InboxRow) -> InboxEntry:
    return InboxEntry(
        update_id=row.update_id,
        payload=row.payload,
        received_at=row.received_at,
        claimed_by=row.claimed_by,
        attempts=row.attempts,
        done_at=row.done_at,
        replied_at=row.replied_at,
    )


class InboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def store(
        self,
        update_id: int,
        payload: dict[str, Any],
        *,
        worker: int | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Keep an update, claimed by `worker` (the process that received it); False when it is
        already stored (Telegram delivered it again, or another webhook process has it)."""
        at = now_or(now)
        values = {
            "update_id": update_id,
            "payload": payload,
            "received_at": at,
            "claimed_by": worker,
            "claimed_at": at if worker is not None else None,
            "attempts": 0 if worker is None else 1,
        }
        return insert_ignoring_conflict(self.session, InboxRow, values, ["update_id"])

    def is_done(self, update_id: int) -> bool:
        done = self.session.scalar(select(InboxRow.done_at).where(InboxRow.update_id == update_id))
        return done is not None

    @staticmethod
    def _claimable(alive: ColumnElement[bool]) -> list[ColumnElement[bool]]:
        return [InboxRow.done_at.is_(None), or_(InboxRow.claimed_by.is_(None), ~alive)]

    @staticmethod
    def _unfinished(alive: ColumnElement[bool]) -> list[ColumnElement[bool]]:
        return [InboxRow.replied_at.is_(None), or_(InboxRow.claimed_by.is_(None), ~alive)]

    def claim(
        self,
        update_id: int,
        worker: int,
        alive: ColumnElement[bool],
        *,
        now: datetime | None = None,
    ) -> bool:
        """Take an update for `worker`: a conditional UPDATE that succeeds only while the update
        is not done and not held by a live worker, so one update is handled by one worker (and
        once by it: its own claim counts as held). Commit the claim before handling."""
        result = self.session.execute(
            update(InboxRow)
            .where(InboxRow.update_id == update_id, *self._claimable(alive))
            .values(claimed_by=worker, claimed_at=now_or(now), attempts=InboxRow.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    def claim_unfinished(
        self,
        worker: int,
        alive: ColumnElement[bool],
        *,
        now: datetime | None = None,
        limit: int = 1000,
    ) -> list[int]:
        """Claim every update that is stored, not replied to and not held by a live worker (the
        oldest `limit`); their ids in update order. Some may be done (answered, the reply lost)."""
        oldest = (
            select(InboxRow.update_id)
            .where(*self._unfinished(alive))
            .order_by(InboxRow.update_id)
            .limit(limit)
            .scalar_subquery()
        )
        claimed = self.session.scalars(
            update(InboxRow)
            .where(InboxRow.update_id.in_(oldest), *self._unfinished(alive))
            .values(claimed_by=worker, claimed_at=now_or(now), attempts=InboxRow.attempts + 1)
            .returning(InboxRow.update_id)
            .execution_options(synchronize_session=False)
        ).all()
        return sorted(claimed)

    def mark_done(self, update_id: int, worker: int, *, now: datetime | None = None) -> bool:
        """Done, if `worker` still holds the claim; False when it lost it (nothing changed)."""
        result = self.session.execute(
            update(InboxRow)
            .where(
                InboxRow.update_id == update_id,
                InboxRow.claimed_by == worker,
                InboxRow.done_at.is_(None),
            )
            .values(done_at=now_or(now))
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    def mark_replied(self, update_id: int, worker: int, *, now: datetime | None = None) -> bool:
        """The handling returned (done too, if it wrote nothing); False when the claim was lost."""
        params = {"b_update_id": update_id, "worker": worker, "at": now_or(now)}
        return rowcount(run(self.session, _MARK_REPLIED, params)) == 1

    def release(self, update_id: int, worker: int) -> None:
        """Give up a claim without finishing (the handling failed before anything was saved)."""
        self.session.execute(
            update(InboxRow)
            .where(
                InboxRow.update_id == update_id,
                InboxRow.claimed_by == worker,
                InboxRow.done_at.is_(None),
            )
            .values(claimed_by=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        )

    def get(self, update_id: int) -> InboxEntry | None:
        row = self.session.get(InboxRow, update_id, populate_existing=True)
        return None if row is None else _entry(row)

    def list_all(self, update_ids: Sequence[int] | None = None) -> list[InboxEntry]:
        statement = select(InboxRow).order_by(InboxRow.update_id)
        if update_ids is not None:
            statement = statement.where(InboxRow.update_id.in_(update_ids))
        return [_entry(row) for row in self.session.scalars(statement)]

    def prune(self, replied_before: datetime) -> int:
        """Forget updates handled before `replied_before`; how many. Keep them longer than
        Telegram may deliver an update again (a day), so a late duplicate is still recognised."""
        result = self.session.execute(
            delete(InboxRow)
            .where(InboxRow.replied_at.is_not(None), InboxRow.replied_at < replied_before)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)
