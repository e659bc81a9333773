"""Per-user chat position: the form being filled and the form version the user last saw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from storage.models import ChatSessionRow
from storage.repos._sql import insert_ignoring_conflict, now_or, run

_CHATS = ChatSessionRow.__table__
_MOVE = (
    update(_CHATS)
    .where(_CHATS.c.user_id == bindparam("b_user_id"))
    .values(
        form_id=bindparam("b_form_id"),
        seen_version=bindparam("b_seen_version"),
        updated_at=bindparam("b_updated_at"),
    )
)


@dataclass(frozen=True)
class ChatSession:
    user_id: int
    form_id: int | None
    seen_version: int


class ChatSessionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: int) -> ChatSession | None:
        row = self.session.get(ChatSessionRow, user_id, populate_existing=True)
        if row is None:
            return None
        return ChatSession(user_id=row.user_id, form_id=row.form_id, seen_version=row.seen_version)

    def set(
        self, user_id: int, form_id: int | None, seen_version: int, *, now: datetime | None = None
    ) -> None:
        values = {
            "user_id": user_id,
            "form_id": form_id,
            "seen_version": seen_version,
            "updated_at": now_or(now),
        }
        if not insert_ignoring_conflict(self.session, ChatSessionRow, values, ["user_id"]):
            self.session.execute(
                update(ChatSessionRow)
                .where(ChatSessionRow.user_id == user_id)
                .values(form_id=form_id, seen_version=seen_version, updated_at=values["updated_at"])
                .execution_options(synchronize_session=False)
            )

    def move(
        self, user_id: int, form_id: int, seen_version: int, *, now: datetime | None = None
    ) -> None:
        """Update a chat session known to exist (one statement, where `set` may need two)."""
        params = {
            "b_user_id": user_id,
            "b_form_id": form_id,
            "b_seen_version": seen_version,
            "b_updated_at": now_or(now),
        }
        run(self.session, _MOVE, params)
