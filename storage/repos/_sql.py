"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from storage.models import Base, utcnow


def now_or(now: datetime | None) -> datetime:
    return utcnow() if now is None else now


def insert_ignoring_conflict(
    session: Session,
    model: type[Base],
    values: Mapping[str, Any],
    conflict_columns: Sequence[str],
) -> bool:
    """INSERT ... ON CONFLICT (columns) DO NOTHING; True when a row was inserted.

    Lets two processes race for the same unique key without either transaction failing.
    """
    table = model.__table__
    assert isinstance(table, Table)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pg_statement = postgresql.insert(table).values(dict(values))
        statement: Any = pg_statement.on_conflict_do_nothing(index_elements=list(conflict_columns))
    elif dialect == "sqlite":
        lite_statement = sqlite.insert(table).values(dict(values))
        statement = lite_statement.on_conflict_do_nothing(index_elements=list(conflict_columns))
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"unsupported database {dialect}")
    # rowcount is -1 with RETURNING on psycopg, so ask for the key and see if a row came back.
    statement = statement.returning(*table.primary_key.columns)
    return session.execute(statement).first() is not None


def rowcount(result: object) -> int:
    """The affected row count of an INSERT/UPDATE/DELETE result."""
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
