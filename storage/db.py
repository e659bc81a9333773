"""Engines, sessions and migrations.

`DATABASE_URL` selects the database (for example
`postgresql+psycopg://postgres@127.0.0.1:5432/jixiao`); without it a SQLite file under `data/`
is used. Several bot processes may share one PostgreSQL database; SQLite is for one process.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

DEFAULT_SQLITE_PATH = Path("data") / "jixiao.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 15_000
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# pg_advisory_xact_lock key that serialises concurrent `upgrade` calls (bot processes starting).
MIGRATION_LOCK_KEY = 0x6A6978_69616F


def database_url(environ: Mapping[str, str] | None = None) -> URL:
    """`DATABASE_URL`, or the default SQLite file (relative to the working directory)."""
    env = os.environ if environ is None else environ
    raw = env.get("DATABASE_URL", "").strip()
    return normalise_url(raw or f"sqlite:///{DEFAULT_SQLITE_PATH}")


def normalise_url(url: str | URL) -> URL:
    """Parse a URL; bare `postgres://` and `postgresql://` URLs get the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _switch_to_wal(cursor: Any) -> None:
    """Switch a SQLite file to WAL. Switching needs a lock that SQLite's busy handler does not
    wait for, so processes starting together on a new file retry briefly instead of failing."""
    for attempt in range(50):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == 49:
                raise
            time.sleep(0.05)


def make_engine(
    url: str | URL | None = None, *, foreign_keys: bool = True, **kwargs: Any
) -> Engine:
    """An engine for `url` (default: `database_url()`).

    SQLite gets foreign_keys=ON, WAL, a busy timeout, and `BEGIN IMMEDIATE` for every
    transaction, so that concurrent writers wait for each other instead of failing halfway;
    the parent directory of the file is created. PostgreSQL connections are pinged before use.
    """
    parsed = database_url() if url is None else normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    path = _sqlite_file(parsed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            if path is not None:
                _switch_to_wal(cursor)
                cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def alembic_config(url: str | URL | None = None) -> Config:
    """The Alembic configuration, built in code: no alembic.ini is needed at run time."""
    parsed = database_url() if url is None else normalise_url(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    rendered = parsed.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def upgrade(url: str | URL | None = None, revision: str = "head") -> None:
    """Migrate the database to `revision` (used at bot start and by `jixiao db upgrade`).

    Safe to run from several processes at once on PostgreSQL (an advisory lock serialises
    them). On SQLite, foreign keys are off during the migration (table rebuilds need that)
    and checked afterwards.
    """
    parsed = database_url() if url is None else normalise_url(url)
    engine = make_engine(parsed, foreign_keys=False, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                lock = text("SELECT pg_advisory_xact_lock(:key)")
                connection.execute(lock, {"key": MIGRATION_LOCK_KEY})
            config = alembic_config(parsed)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            if connection.dialect.name == "sqlite":
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
    finally:
        engine.dispose()


class NestedTransactionError(RuntimeError):
    """A transaction was opened in a thread that already holds one on SQLite."""


class Database:
    """An engine and its session factory. `with db.transaction() as session:` commits when the
    block ends normally and rolls back when it raises.

    On SQLite every transaction takes the write lock when it starts (BEGIN IMMEDIATE), so a
    second transaction opened in a thread that holds one would wait for its own lock until the
    busy timeout, stalling every other writer meanwhile. That is refused at once
    (NestedTransactionError): pass the session down instead.
    """

    def __init__(self, url: str | URL | None = None, **engine_kwargs: Any) -> None:
        self.url = database_url() if url is None else normalise_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._open = threading.local()  # .depth: transactions this thread holds

    @property
    def backend(self) -> str:
        """The backend name: sqlite or postgresql."""
        return self.url.get_backend_name()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        depth: int = getattr(self._open, "depth", 0)
        if depth and self.backend == "sqlite":
            raise NestedTransactionError(
                "a SQLite transaction inside another one would wait for its own write lock"
            )
        self._open.depth = depth + 1
        try:
            with self._sessions.begin() as session:
                yield session
        finally:
            self._open.depth = depth

    def session(self) -> Session:
        """A session the caller manages (commit, rollback, close)."""
        return self._sessions()

    def upgrade(self, revision: str = "head") -> None:
        upgrade(self.url, revision)

    def dispose(self) -> None:
        self.engine.dispose()
