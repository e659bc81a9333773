"""The append-only audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AuditRow
from storage.records import AuditEntry
from storage.repos._sql import now_or, run

_INSERT = AuditRow.__table__.insert()


@dataclass(frozen=True)
class AuditChange:
    """One changed field before it is written (see AuditRepository.append_many)."""

    field_key: str | None
    old_value: str | None
    new_value: str | None


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor_user_id=row.actor_user_id,
        form_id=row.form_id,
        action=row.action,
        field_key=row.field_key,
        old_value=row.old_value,
        new_value=row.new_value,
    )


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(
        self,
        action: str,
        *,
        actor_user_id: int | None,
        form_id: int | None = None,
        field_key: str | None = None,
        old_value: str | None = None,
        new_value: str | None = None,
        now: datetime | None = None,
    ) -> None:
        change = AuditChange(field_key, old_value, new_value)
        self.append_many(action, [change], actor_user_id=actor_user_id, form_id=form_id, now=now)

    def append_many(
        self,
        action: str,
        changes: Sequence[AuditChange],
        *,
        actor_user_id: int | None,
        form_id: int | None,
        now: datetime | None = None,
    ) -> None:
        if not changes:
            return
        at = now_or(now)
        run(
            self.session,
            _INSERT,
            [
                {
                    "at": at,
                    "actor_user_id": actor_user_id,
                    "form_id": form_id,
                    "action": action,
                    "field_key": change.field_key,
                    "old_value": change.old_value,
                    "new_value": change.new_value,
                }
                for change in changes
            ],
        )

    def list_for_form(self, form_id: int) -> list[AuditEntry]:
        rows = self.session.scalars(
            select(AuditRow).where(AuditRow.form_id == form_id).order_by(AuditRow.id)
        )
        return [_entry(row) for row in rows]

    def first_of(self, form_id: int, action: str) -> AuditEntry | None:
        """The form's first entry of `action` (e.g. where a carried-over form came from)."""
        row = self.session.scalar(
            select(AuditRow)
            .where(AuditRow.form_id == form_id, AuditRow.action == action)
            .order_by(AuditRow.id)
            .limit(1)
        )
        return None if row is None else _entry(row)

    def list_recent(self, limit: int = 100) -> list[AuditEntry]:
        rows = self.session.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit))
        return [_entry(row) for row in rows]
