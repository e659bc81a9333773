"""Database fixtures: each test gets a fresh, migrated database, on SQLite and on PostgreSQL.

The session fixture `storage_template` is parametrized with "sqlite" and "postgresql". Per
backend the schema is migrated once into a template (a SQLite file; a PostgreSQL database with a
random name) and every test's `db` is a copy of it (a file copy; `CREATE DATABASE ... TEMPLATE`),
dropped after the test. The template database is dropped at the end of the session.

PostgreSQL is reached through JIXIAO_TEST_DATABASE_URL (set by .ci/run), else DATABASE_URL when
it names PostgreSQL, else postgresql+psycopg://postgres@127.0.0.1:5432/test; that database only
serves to create and drop the test databases. When the server is unreachable the PostgreSQL
tests are skipped with the reason, unless JIXIAO_REQUIRE_POSTGRES=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from dialogs.state import FormState, FormStatus, GroupRow, IndicatorRow
from dialogs.values import Comparator, Grade, Nature, Period, Reading, YearMonth
from storage.db import Database, normalise_url, upgrade
from storage.records import Department, Role, Round, User
from storage.repos import DepartmentRepository, RoundRepository, UserRepository

DEFAULT_POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2021, 3, 1, 9, 30, tzinfo=UTC)


def postgres_admin_url() -> URL:
    explicit = os.environ.get("JIXIAO_TEST_DATABASE_URL", "").strip()
    if explicit:
        return normalise_url(explicit)
    configured = os.environ.get("DATABASE_URL", "").strip()
    if configured and make_url(configured).get_backend_name() == "postgresql":
        return normalise_url(configured)
    return normalise_url(DEFAULT_POSTGRES_ADMIN_URL)


class SqliteTemplate:
    backend = "sqlite"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "template.sqlite3"
        upgrade(f"sqlite:///{self.path}")

    def empty(self) -> URL:
        return make_url(f"sqlite:///{self.directory / secrets.token_hex(6) / 'db.sqlite3'}")

    def clone(self) -> URL:
        target = self.directory / f"{secrets.token_hex(6)}.sqlite3"
        shutil.copyfile(self.path, target)
        return make_url(f"sqlite:///{target}")

    def drop(self, url: URL) -> None:
        assert url.database is not None
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        pass


class PostgresTemplate:
    backend = "postgresql"

    def __init__(self, admin_url: URL) -> None:
        self.admin_url = admin_url
        self.admin: Engine = create_engine(
            admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
        )
        self.name = f"jixiao_test_{secrets.token_hex(4)}"
        self._execute(f'CREATE DATABASE "{self.name}"')
        upgrade(self.admin_url.set(database=self.name))

    def _execute(self, statement: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(statement))

    def empty(self) -> URL:
        name = f"jixiao_test_{secrets.token_hex(4)}"
        self._execute(f'CREATE DATABASE "{name}"')
        return self.admin_url.set(database=name)

    def clone(self) -> URL:
        name = f"jixiao_test_{secrets.token_hex(4)}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        return self.admin_url.set(database=name)

    def drop(self, url: URL) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')

    def close(self) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.dispose()


Template = SqliteTemplate | PostgresTemplate


def _postgres_template() -> PostgresTemplate:
    admin_url = postgres_admin_url()
    try:
        return PostgresTemplate(admin_url)
    except Exception as error:  # any connection failure
        where = admin_url.render_as_string(hide_password=True)
        reason = f"PostgreSQL unreachable at {where}: {type(error).__name__}: {error}"
        if os.environ.get("JIXIAO_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def storage_template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Template]:
    template: Template
    if request.param == "sqlite":
        template = SqliteTemplate(tmp_path_factory.mktemp("sqlite"))
    else:
        template = _postgres_template()
    try:
        yield template
    finally:
        template.close()


@pytest.fixture
def db(storage_template: Template) -> Iterator[Database]:
    """A fresh migrated database for one test."""
    url = storage_template.clone()
    database = Database(url)
    try:
        yield database
    finally:
        database.dispose()
        storage_template.drop(url)


@pytest.fixture(scope="session")
def shared_db(storage_template: Template) -> Iterator[Database]:
    """One migrated database for the whole session (for Hypothesis tests): use new keys."""
    url = storage_template.clone()
    database = Database(url)
    try:
        yield database
    finally:
        database.dispose()
        storage_template.drop(url)


@pytest.fixture
def empty_database_url(storage_template: Template) -> Iterator[URL]:
    """An empty, never migrated database."""
    url = storage_template.empty()
    try:
        yield url
    finally:
        storage_template.drop(url)


@contextmanager
def outage(template: Template, database: Database) -> Iterator[None]:
    """The database unreachable inside the block, reachable again after it: SQLite's file
    replaced by a directory (cannot be opened), PostgreSQL's database closed to connections
    and its sessions terminated. Pooled connections are dropped on both sides."""
    url = database.url
    database.engine.dispose()
    if isinstance(template, SqliteTemplate):
        assert url.database is not None
        path = Path(url.database)
        aside = path.with_name(path.name + ".aside")
        aside.mkdir()
        for suffix in ("", "-wal", "-shm"):
            source = Path(url.database + suffix)
            if source.exists():
                source.rename(aside / source.name)
        path.mkdir()
        try:
            yield
        finally:
            database.engine.dispose()
            path.rmdir()
            for moved in aside.iterdir():
                moved.rename(path.with_name(moved.name))
            aside.rmdir()
        return
    name = url.database
    template._execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
    template._execute(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    )
    try:
        yield
    finally:
        database.engine.dispose()
        template._execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')


@dataclass(frozen=True)
class Context:
    department: Department
    round: Round
    user: User


def seed_context(session: Session, name: str = "中共株洲市石峰区委员会宣传部") -> Context:
    """A department, an open 2021 round and a staff member of the department."""
    department = DepartmentRepository(session).create(name, now=NOW)
    filing_round = RoundRepository(session).create(
        2021, "2021", datetime(2021, 3, 31, 16, 0, tzinfo=UTC), "2021年预算绩效目标", now=NOW
    )
    user = UserRepository(session).create(
        10_000 + department.id, "张三", Role.STAFF, department.id, now=NOW
    )
    return Context(department, filing_round, user)


def sample_state() -> FormState:
    """A table-A-like state with the seed's awkward amounts and every kind of stored value."""
    return FormState(
        values={
            "department_name": "中共株洲市石峰区委员会宣传部",
            "total": Decimal("267.5915"),
            "basic": Decimal("177.59151"),
            "project": Decimal("90"),
            "fund_income": Decimal("0.000000"),
            "period": Period(YearMonth(2021, 1), YearMonth(2021, 12)),
            "other_income": None,
            "duties": "（一）宣传党的理论和路线方针政策；\n（二）'; DROP TABLE forms; --",
        },
        groups={
            "plan": (
                GroupRow(cells=(("item", "理论学习"), ("unit", "宣教科"), ("goal", "12次"))),
                GroupRow(cells=(("item", "意识形态"), ("goal", "督查一次"))),
            ),
            "contacts": (),
        },
        indicators=(
            IndicatorRow(
                level2="quantity",
                name="开展宣讲",
                value="10次以上",
                reading=Reading(Nature.QUANTITATIVE, Comparator.GE, Decimal("10"), "次"),
                remark="含线上",
                visited=("name", "value", "remark"),
            ),
            IndicatorRow(
                level2="quality",
                name="宣讲质量",
                value="良好",
                reading=Reading(Nature.QUALITATIVE, grade=Grade.GOOD, sure=False),
                explanation="群众评价",
                scoring="差一级扣2分",
                weight=Decimal("12.50"),
                visited=("name", "value"),
            ),
            IndicatorRow(
                level2="cost",
                name="经费",
                value="6万元以下",
                reading=Reading(
                    Nature.QUANTITATIVE,
                    Comparator.LE,
                    Decimal("6.000001"),
                    "万元",
                    sure=False,
                    confirmed=True,
                ),
            ),
            IndicatorRow.not_applicable_row("ecological"),
            IndicatorRow(level2="timeliness", name="完成时间"),
        ),
        cursor="indicators:timeliness:0:value",
        status=FormStatus.DRAFT,
    )


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def exact(value: object) -> object:
    """A comparable image of a value in which Decimal('1.0') and Decimal('1.00') differ."""
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    if isinstance(value, Enum):
        return (type(value).__name__, value.value)
    if is_dataclass(value) and not isinstance(value, type):
        items = tuple((f.name, exact(getattr(value, f.name))) for f in fields(value))
        return (type(value).__name__, items)
    if isinstance(value, dict):
        return ("dict", tuple(sorted(((exact(k), exact(v)) for k, v in value.items()), key=repr)))
    if isinstance(value, tuple | list):
        return (type(value).__name__, tuple(exact(item) for item in value))
    return (type(value).__name__, value)
