"""Pending inputs: what a user is in the middle of between two updates, with an expiry.

A supervisor who pressed "return" and is typing the comment, and a workbook import planned and
shown but not yet confirmed, are kept here rather than in a process's memory: a restart, or a
second bot process behind the webhook, continues them. Taking an entry deletes it by its token,
so when two processes race for the same confirmation exactly one gets it. An entry past its
expiry is refused (`Expired`) and removed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import PendingInputRow
from storage.records import PendingKind
from storage.repos._sql import insert_ignoring_conflict, now_or, rowcount

RETURN_COMMENT_TTL = timedelta(hours=1)
IMPORT_TTL = timedelta(minutes=30)


@dataclass(frozen=True)
class Expired:
    """The entry existed but its time ran out (it is removed)."""

    kind: PendingKind
    expired_at: datetime


@dataclass(frozen=True)
class ReturnCommentWait:
    """A supervisor is asked for the comment to return this form, seen at this version."""

    form_id: int
    version: int
    expires_at: datetime


@dataclass(frozen=True)
class PlannedForm:
    """One stored form an import plan was made against; form_id None: it did not exist."""

    kind: str  # "A" or "C"
    name: str  # the C table's 支出方向（子项）; '' for table A
    form_id: int | None
    version: int | None


@dataclass(frozen=True)
class ImportWait:
    """A planned import waiting for confirmation: the workbook and what it was planned against."""

    department_id: int
    round_id: int
    basis: tuple[PlannedForm, ...]
    workbook: bytes
    expires_at: datetime


def _optional_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"stored pending input holds {value!r} where an integer belongs")
    return value


def _int(value: object) -> int:
    found = _optional_int(value)
    if found is None:
        raise ValueError("stored pending input lacks an integer")
    return found


class PendingInputRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- generic -----------------------------------------------------------------------------

    def _put(
        self,
        user_id: int,
        kind: PendingKind,
        payload: dict[str, Any],
        data: bytes | None,
        expires_at: datetime,
        now: datetime,
    ) -> None:
        self.purge_expired(now)
        values = {
            "user_id": user_id,
            "kind": kind.value,
            "token": secrets.token_hex(16),
            "payload": payload,
            "data": data,
            "created_at": now,
            "expires_at": expires_at,
        }
        if not insert_ignoring_conflict(self.session, PendingInputRow, values, ["user_id", "kind"]):
            row = self._row(user_id, kind)
            assert row is not None  # the conflict was with this row
            for key, value in values.items():
                setattr(row, key, value)
            self.session.flush()

    def _row(self, user_id: int, kind: PendingKind) -> PendingInputRow | None:
        return self.session.get(PendingInputRow, (user_id, kind.value), populate_existing=True)

    def _read(
        self, user_id: int, kind: PendingKind, now: datetime, *, take: bool
    ) -> PendingInputRow | Expired | None:
        row = self._row(user_id, kind)
        if row is None:
            return None
        expired = row.expires_at <= now
        if take or expired:
            removed = self.session.execute(
                delete(PendingInputRow)
                .where(
                    PendingInputRow.user_id == user_id,
                    PendingInputRow.kind == kind.value,
                    PendingInputRow.token == row.token,
                )
                .execution_options(synchronize_session=False)
            )
            self.session.expunge(row)
            if rowcount(removed) != 1:
                return None  # another process took it first
        if expired:
            return Expired(kind, row.expires_at)
        return row

    def discard(self, user_id: int, kind: PendingKind) -> bool:
        result = self.session.execute(
            delete(PendingInputRow)
            .where(PendingInputRow.user_id == user_id, PendingInputRow.kind == kind.value)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) > 0

    def purge_expired(self, now: datetime | None = None) -> int:
        result = self.session.execute(
            delete(PendingInputRow)
            .where(PendingInputRow.expires_at <= now_or(now))
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)

    def kinds(self, user_id: int, now: datetime | None = None) -> set[PendingKind]:
        """The kinds of unexpired entries the user has."""
        rows = self.session.execute(
            select(PendingInputRow.kind).where(
                PendingInputRow.user_id == user_id, PendingInputRow.expires_at > now_or(now)
            )
        )
        return {PendingKind(kind) for (kind,) in rows}

    # --- the return comment --------------------------------------------------------------------

    def await_return_comment(
        self,
        user_id: int,
        form_id: int,
        version: int,
        *,
        now: datetime | None = None,
        ttl: timedelta = RETURN_COMMENT_TTL,
    ) -> ReturnCommentWait:
        at = now_or(now)
        payload = {"form_id": form_id, "version": version}
        self._put(user_id, PendingKind.RETURN_COMMENT, payload, None, at + ttl, at)
        return ReturnCommentWait(form_id, version, at + ttl)

    def return_comment(
        self, user_id: int, *, now: datetime | None = None, take: bool = False
    ) -> ReturnCommentWait | Expired | None:
        found = self._read(user_id, PendingKind.RETURN_COMMENT, now_or(now), take=take)
        if not isinstance(found, PendingInputRow):
            return found
        payload = found.payload
        return ReturnCommentWait(
            _int(payload.get("form_id")), _int(payload.get("version")), found.expires_at
        )

    # --- the import ----------------------------------------------------------------------------

    def await_import_confirmation(
        self,
        user_id: int,
        department_id: int,
        round_id: int,
        basis: tuple[PlannedForm, ...],
        workbook: bytes,
        *,
        now: datetime | None = None,
        ttl: timedelta = IMPORT_TTL,
    ) -> ImportWait:
        at = now_or(now)
        payload = {
            "department_id": department_id,
            "round_id": round_id,
            "basis": [[p.kind, p.name, p.form_id, p.version] for p in basis],
        }
        self._put(user_id, PendingKind.IMPORT, payload, workbook, at + ttl, at)
        return ImportWait(department_id, round_id, basis, workbook, at + ttl)

    def import_confirmation(
        self, user_id: int, *, now: datetime | None = None, take: bool = False
    ) -> ImportWait | Expired | None:
        found = self._read(user_id, PendingKind.IMPORT, now_or(now), take=take)
        if not isinstance(found, PendingInputRow):
            return found
        payload = found.payload
        basis = tuple(
            PlannedForm(str(kind), str(name), _optional_int(form_id), _optional_int(version))
            for kind, name, form_id, version in payload.get("basis", [])
        )
        return ImportWait(
            _int(payload.get("department_id")),
            _int(payload.get("round_id")),
            basis,
            found.data or b"",
            found.expires_at,
        )
