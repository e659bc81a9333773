"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from storage.models import Base, utcnow

# Tables written through `run` in a session (the ORM's do_orm_execute event does not see them).
WRITTEN_TABLES = "jixiao.written_tables"


def run(session: Session, statement: Executable, params: Any = None) -> CursorResult[Any]:
    """Execute a Core statement on the session's connection, without the ORM layer.

    For the hot path: the statement is built once at module level (with bind parameters), so
    SQLAlchemy neither builds it again nor misses its compiled cache, and the ORM's execution
    (events, identity map, entity loading) is skipped: about a tenth of `session.execute`'s
    CPU for a small statement. Rows come back as Core rows (attribute access by column name).
    Pending ORM changes are flushed first, as `session.execute` would; a write notes its table
    in `session.info[WRITTEN_TABLES]`."""
    if session.new or session.deleted or session.dirty:
        session.flush()
    if getattr(statement, "is_dml", False):
        table = getattr(statement, "table", None)
        session.info.setdefault(WRITTEN_TABLES, set()).add(getattr(table, "name", None))
    return session.connection().execute(statement, params)


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
    key = (table.name, dialect, tuple(conflict_columns))
    statement = _CONFLICT_INSERTS.get(key)
    if statement is None:
        statement = _CONFLICT_INSERTS[key] = _conflict_insert(table, dialect, conflict_columns)
    # The values as parameters of a statement built once: the compiled cache hits.
    return run(session, statement, dict(values)).first() is not None


_CONFLICT_INSERTS: dict[tuple[str, str, tuple[str, ...]], Any] = {}


def _conflict_insert(table: Table, dialect: str, conflict_columns: Sequence[str]) -> Any:
    if dialect == "postgresql":
        pg_statement = postgresql.insert(table)
        statement: Any = pg_statement.on_conflict_do_nothing(index_elements=list(conflict_columns))
    elif dialect == "sqlite":
        lite_statement = sqlite.insert(table)
        statement = lite_statement.on_conflict_do_nothing(index_elements=list(conflict_columns))
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"unsupported database {dialect}")
    # rowcount is -1 with RETURNING on psycopg, so ask for the key and see if a row came back.
    return statement.returning(*table.primary_key.columns)


def rowcount(result: object) -> int:
    """The affected row count of an INSERT/UPDATE/DELETE result."""
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
