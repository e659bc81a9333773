"""Databases for the benchmarks: a migrated SQLite file in a temporary directory, or a
throw-away database on the PostgreSQL server DATABASE_URL names (created, then dropped), and
the people who fill in: one staff member per department, and an open round."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from storage.db import Database, normalise_url, upgrade
from storage.records import Role
from storage.repos import DepartmentRepository, FormRepository, RoundRepository, UserRepository

YEAR = 2021
LAYOUT = "2021"
FIRST_TELEGRAM_ID = 7_000_001


@dataclass(frozen=True)
class Population:
    users: list[tuple[int, str, int]]  # (telegram id, display name, department id)
    round_id: int


def populate(database: Database, count: int) -> Population:
    """`count` departments, each with one staff member, and an open round whose deadline is
    far enough away that no reminder falls due meanwhile."""
    users: list[tuple[int, str, int]] = []
    with database.transaction() as session:
        departments, people = DepartmentRepository(session), UserRepository(session)
        deadline = datetime.now(UTC) + timedelta(days=60)
        round_ = RoundRepository(session).create(YEAR, LAYOUT, deadline, f"{YEAR}年绩效目标")
        for index in range(count):
            department = departments.create(f"基准部门{index:04d}")
            name = f"填报员{index:04d}"
            people.create(FIRST_TELEGRAM_ID + index, name, Role.STAFF, department.id)
            users.append((FIRST_TELEGRAM_ID + index, name, department.id))
    return Population(users, round_.id)


def form_cursors(database: Database, round_id: int) -> dict[int, str]:
    """Where each department's table A of the round stands (its cursor)."""
    with database.transaction() as session:
        forms = FormRepository(session).list_for_round(round_id)
    return {form.department_id: form.state.cursor for form in forms}


@contextlib.contextmanager
def migrated(url: str | URL) -> Iterator[Database]:
    """A Database on `url` migrated to the newest schema, disposed afterwards."""
    upgrade(url)
    database = Database(url)
    try:
        yield database
    finally:
        database.dispose()


@contextlib.contextmanager
def sqlite_database() -> Iterator[Database]:
    directory = Path(tempfile.mkdtemp(prefix="jixiao-bench-"))
    url = f"sqlite:///{directory / 'bench.sqlite3'}"
    try:
        with migrated(url) as database:
            yield database
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def postgres_database(given: str) -> Iterator[Database]:
    """A throw-away database on the server `given` names (dropped afterwards)."""
    server: URL = normalise_url(given)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"jixiao_bench_{secrets.token_hex(4)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name)
        try:
            with migrated(url) as database:
                yield database
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def postgres_url() -> str | None:
    raw = os.environ.get("DATABASE_URL", "").strip()
    if raw and make_url(raw).get_backend_name() == "postgresql":
        return raw
    return None


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
