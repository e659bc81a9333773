"""Engines, sessions and migrations.

`DATABASE_URL` selects the database (for example
`postgresql+psycopg://postgres@127.0.0.1:5432/jixiao`); without it a SQLite file in the data
directory (`JIXIAO_DATA_DIR`, default the user's data directory) is used. Several bot processes
may share one PostgreSQL database; SQLite is for one process.

The SQLite file holds forms and invite codes, so it is private to its owner: a directory made
for it is 0700, the file 0600 (SQLite gives its -wal and -shm files the file's mode). A URL that
cannot work (an impossible path, a driver that is not installed, a server that does not answer)
is a `DatabaseUnavailable` with a one-line message, never a traceback.
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
from platformdirs import user_data_path
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from storage import rows_cache
from storage.rows_cache import RowsCache

APP_NAME = "jixiao"
SQLITE_FILE_NAME = "jixiao.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 15_000
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# pg_advisory_xact_lock key that serialises concurrent `upgrade` calls (bot processes starting).
MIGRATION_LOCK_KEY = 0x6A6978_69616F


# Execution option of a connection whose transaction only reads (see Database.reading).
READ_ONLY_OPTION = "jixiao_read_only"

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


class DatabaseUnavailable(Exception):
    """The configured database cannot be used; the message is one line for the user.

    `exit_code` is 2 when the configuration is wrong (the URL, the driver, the path) and 1 when
    a database that is configured correctly does not answer."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def make_private_dir(path: Path) -> None:
    """Create `path` (and missing parents) so that only its owner can enter it. A directory that
    already exists is left as it is: it may be shared on purpose (e.g. a DATABASE_URL in /srv)."""
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    path.chmod(PRIVATE_DIR_MODE)  # mkdir's mode is filtered by the umask; be exact


def make_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600, or take group and others' access off an existing one."""
    if path.exists():
        if path.stat().st_mode & 0o077:
            path.chmod(PRIVATE_FILE_MODE)
        return
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE_MODE))


def write_private_file(path: Path, data: bytes) -> None:
    """Write `data` to `path`, readable by its owner only (exported workbooks name people and
    amounts); an existing file is replaced whole, its permissions tightened."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE_MODE)
        handle.write(data)


def _prepare_sqlite_file(path: Path) -> None:
    try:
        make_private_dir(path.parent)
        make_private_file(path)
        for suffix in SQLITE_COMPANIONS:
            companion = path.with_name(path.name + suffix)
            if companion.exists():
                make_private_file(companion)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise DatabaseUnavailable(
            f"DATABASE_URL: 无法创建 SQLite 数据库文件 {path}（{reason}）。"
            "例：JIXIAO_DATA_DIR=~/jixiao-data 或 DATABASE_URL=sqlite:////path/to/jixiao.sqlite3"
        ) from None


def describe_location(url: URL) -> str:
    """Where the data is, for the user: the SQLite file's path, else the URL without password."""
    path = _sqlite_file(url)
    if url.get_backend_name() == "sqlite":
        return str(path.resolve()) if path is not None else "（内存数据库）"
    return url.render_as_string(hide_password=True)


def default_data_dir() -> Path:
    """The user's data directory (platformdirs: ~/.local/share/jixiao on Linux), so the same
    database is found from any working directory."""
    return user_data_path(APP_NAME, appauthor=False)


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`JIXIAO_DATA_DIR` (an empty value counts as unset), else `default_data_dir()`."""
    env = os.environ if environ is None else environ
    raw = env.get("JIXIAO_DATA_DIR", "").strip()
    return Path(raw).expanduser() if raw else default_data_dir()


def database_url(environ: Mapping[str, str] | None = None) -> URL:
    """`DATABASE_URL`, or the SQLite file in the data directory (as `jixiao` uses)."""
    env = os.environ if environ is None else environ
    raw = env.get("DATABASE_URL", "").strip()
    return normalise_url(raw or f"sqlite:///{(data_dir(env) / SQLITE_FILE_NAME).resolve()}")


def normalise_url(url: str | URL) -> URL:
    """Parse a URL; bare `postgres://` and `postgresql://` URLs get the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnavailable(
            "DATABASE_URL: 不是有效的数据库地址。"
            "例：postgresql+psycopg://user@host/db 或 sqlite:////path/to/jixiao.sqlite3"
        ) from None
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


def _create_engine(url: URL, **kwargs: Any) -> Engine:
    try:
        return create_engine(url, **kwargs)
    except (ArgumentError, ImportError) as error:
        # NoSuchModuleError (an unknown dialect) is an ArgumentError; a dialect whose driver
        # package is missing raises ImportError.
        raise DatabaseUnavailable(
            f"DATABASE_URL: 无法使用数据库驱动“{url.drivername}”（{_first_line(error)}）。"
            "例：postgresql+psycopg://user@host/db 或 sqlite:////path/to/jixiao.sqlite3"
        ) from None


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
        return _create_engine(parsed, pool_pre_ping=True, **kwargs)
    path = _sqlite_file(parsed)
    if path is not None:
        _prepare_sqlite_file(path)
    engine = _create_engine(parsed, **kwargs)

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
        # A read-only transaction (Database.reading) takes no write lock: WAL readers never
        # wait for a writer, so the gate's lookups do not queue behind the answers.
        reading = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

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
        _migrate(engine, parsed, revision)
    except SQLAlchemyError as error:
        where = parsed.render_as_string(hide_password=True)
        raise DatabaseUnavailable(
            f"数据库无法连接或无法写入（{where}）：{_first_line(error)}", exit_code=1
        ) from None
    finally:
        engine.dispose()


class NestedTransactionError(RuntimeError):
    """A transaction was opened in a thread that already holds one on SQLite."""
def _migrate(engine: Engine, parsed: URL, revision: str) -> None:
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
        # Forms' stored rows by version (storage/rows_cache.py): reads are remembered only
        # where one transaction reads one snapshot.
        self.rows = RowsCache(remember_reads=self.backend == "sqlite")
        rows_cache.install(self._sessions, self.rows)
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

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction for reads that change nothing. On SQLite it begins deferred (no write
        lock), so it neither waits for nor blocks the writers; nested in a thread's write
        transaction it would still see only the last commit, so it is refused the same way."""
        depth: int = getattr(self._open, "depth", 0)
        if depth and self.backend == "sqlite":
            raise NestedTransactionError(
                "a SQLite transaction inside another one would not see the outer one's writes"
            )
        self._open.depth = depth + 1
        try:
            with self._sessions.begin() as session:
                session.connection(execution_options={READ_ONLY_OPTION: True})
                yield session
        finally:
            self._open.depth = depth

    @property
    def session_factory(self) -> sessionmaker[Session]:
        """The factory of this database's sessions (to listen to their events)."""
        return self._sessions

    def session(self) -> Session:
        """A session the caller manages (commit, rollback, close)."""
        return self._sessions()

    def upgrade(self, revision: str = "head") -> None:
        upgrade(self.url, revision)

    def dispose(self) -> None:
        self.engine.dispose()
