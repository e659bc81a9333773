"""The stored rows of forms at a known version, kept per process and per database.

Every change of a form's rows bumps its version in the same transaction (`FormRepository.save`),
so rows known at a form's (id, version) stay right for as long as the form is at that version;
a reader that finds the form at a known version need not read its three row tables again. Keyed
by the creation time as well: SQLite may reuse a deleted form's id.

Rows enter the cache only when their transaction commits (`install`): what a transaction read
or wrote is noted in its session and remembered by the after_commit hook, so a rolled-back
write is never served. Reads are remembered only where a transaction reads one snapshot
(SQLite); on PostgreSQL (read committed) a form's row and its rows are two statements that may
straddle a colleague's commit, so only the rows a transaction wrote itself are remembered
there (its versioned UPDATE proved nobody committed in between).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from storage.codec import EncodedState
from storage.models import FormColumns

ROWS_CACHE = "jixiao.rows_cache"
_PENDING = "jixiao.rows_pending"


class RowsCache:
    LIMIT = 4096

    def __init__(self, *, remember_reads: bool = True) -> None:
        self.remember_reads = remember_reads
        self._rows: dict[int, tuple[int, datetime, EncodedState]] = {}

    def get(self, row: FormColumns) -> EncodedState | None:
        found = self._rows.get(row.id)
        if found is None or found[0] != row.version or found[1] != row.created_at:
            return None
        encoded = found[2]
        if encoded.cursor == row.cursor and encoded.status == row.status:
            return encoded
        return replace(encoded, cursor=row.cursor, status=row.status)

    def remember(
        self, form_id: int, version: int, created_at: datetime, encoded: EncodedState
    ) -> None:
        if len(self._rows) >= self.LIMIT:
            self._rows.clear()
        self._rows[form_id] = (version, created_at, encoded)


def cache_of(session: Session) -> RowsCache | None:
    found = session.info.get(ROWS_CACHE)
    return found if isinstance(found, RowsCache) else None


def note(
    session: Session,
    form_id: int,
    version: int,
    created_at: datetime,
    encoded: EncodedState,
    *,
    written: bool,
) -> None:
    """Remember these rows when (if) the session's transaction commits."""
    cache = cache_of(session)
    if cache is None or not (written or cache.remember_reads):
        return
    session.info.setdefault(_PENDING, []).append((form_id, version, created_at, encoded))


def install(factory: sessionmaker[Session], cache: RowsCache) -> None:
    """Give the sessions of `factory` the cache, filled after each commit."""
    factory.configure(info={ROWS_CACHE: cache})
    event.listen(factory, "after_commit", _committed)
    event.listen(factory, "after_rollback", _rolled_back)


def _committed(session: Session) -> None:
    pending: list[Any] = session.info.pop(_PENDING, None) or []
    cache = cache_of(session)
    if cache is not None:
        for entry in pending:
            cache.remember(*entry)


def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
