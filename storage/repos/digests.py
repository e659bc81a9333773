"""The daily digests sent: one row per supervisor, round and local day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import DigestRow
from storage.repos._sql import insert_ignoring_conflict


class DigestLogRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, user_id: int, round_id: int, day: date, *, now: datetime) -> bool:
        """Record the digest of `day` for the user; False when it is recorded already (by this
        process or another: the key decides, so two processes never both claim it)."""
        values = {"user_id": user_id, "round_id": round_id, "day": day, "sent_at": now}
        return insert_ignoring_conflict(
            self.session, DigestRow, values, ["user_id", "round_id", "day"]
        )

    def days_sent(self, user_id: int, round_id: int) -> list[date]:
        found = self.session.scalars(
            select(DigestRow.day)
            .where(DigestRow.user_id == user_id, DigestRow.round_id == round_id)
            .order_by(DigestRow.day)
        )
        return list(found)
