"""Engines, transactions and the two column types that must be exact on every database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from dialogs.definition import TableKind
from storage.db import (
    SQLITE_BUSY_TIMEOUT_MS,
    Database,
    database_url,
    default_data_dir,
    make_engine,
    normalise_url,
)
from storage.models import DepartmentRow, IndicatorRowRow
from storage.repos import DepartmentRepository, FormRepository
from tests.support.db import NOW, seed_context


def test_database_url_defaults_to_a_sqlite_file() -> None:
    home = default_data_dir() / "jixiao.sqlite3"
    assert database_url({}).render_as_string() == f"sqlite:///{home.resolve()}"
    mine = database_url({"JIXIAO_DATA_DIR": "/srv/jx", "DATABASE_URL": " "})
    assert mine.render_as_string() == "sqlite:////srv/jx/jixiao.sqlite3"
    url = database_url({"DATABASE_URL": "postgres://u:p%40ss@h:5432/jx"})
    assert url.drivername == "postgresql+psycopg"
    assert url.password == "p@ss"


def test_normalise_url_keeps_an_explicit_driver() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    assert normalise_url(url).drivername == "postgresql+psycopg"


def test_sqlite_engine_creates_the_directory_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "jx.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
        assert path.exists()
    finally:
        engine.dispose()


def test_transaction_commits_on_success_and_rolls_back_on_error(db: Database) -> None:
    with db.transaction() as session:
        DepartmentRepository(session).create("财政局")
    with pytest.raises(RuntimeError), db.transaction() as session:
        DepartmentRepository(session).create("教育局")
        raise RuntimeError("boom")
    with db.transaction() as session:
        names = [department.name for department in DepartmentRepository(session).list_all()]
    assert names == ["财政局"]


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"), db.transaction() as session:
        session.execute(
            text("INSERT INTO answers (form_id, key, type, text) VALUES (987654, 'k', 'str', 'v')")
        )


@pytest.mark.parametrize(
    "value",
    [
        Decimal("267.5915"),
        Decimal("177.59151"),
        Decimal("0.000001"),
        Decimal("12.50"),
        Decimal("-0.0"),
        Decimal("1E+3"),
        Decimal("123456789012345678901234567890.123456"),
    ],
)
def test_decimal_text_is_exact(db: Database, value: Decimal) -> None:
    with db.transaction() as session:
        context = seed_context(session)
        form = FormRepository(session).create(context.department.id, context.round.id, TableKind.A)
        session.add(
            IndicatorRowRow(
                form_id=form.id,
                position=0,
                level2="cost",
                name="n",
                value="v",
                number=value,
                weight=value,
                visited=[],
            )
        )
    with db.transaction() as session:
        row = session.scalars(select(IndicatorRowRow)).one()
        stored = session.execute(text("SELECT number FROM indicator_rows")).scalar_one()
    assert str(row.number) == str(value)
    assert str(row.weight) == str(value)
    assert stored == str(value)


def test_decimal_text_refuses_floats(db: Database) -> None:
    with pytest.raises(StatementError), db.transaction() as session:
        context = seed_context(session)
        form = FormRepository(session).create(context.department.id, context.round.id, TableKind.A)
        session.add(
            IndicatorRowRow(
                form_id=form.id,
                position=0,
                level2="cost",
                name="n",
                value="v",
                number=267.5915,
                visited=[],
            )
        )


def test_datetimes_come_back_aware_in_utc(db: Database) -> None:
    beijing = timezone(timedelta(hours=8))
    moment = datetime(2021, 3, 1, 17, 30, 15, 123456, tzinfo=beijing)
    with db.transaction() as session:
        session.add(DepartmentRow(name="审计局", created_at=moment))
    with db.transaction() as session:
        stored = session.scalars(select(DepartmentRow.created_at)).one()
        # Comparisons in SQL work across offsets too.
        earlier = moment - timedelta(seconds=1)
        found = session.scalars(
            select(DepartmentRow.name).where(DepartmentRow.created_at > earlier)
        ).all()
    assert stored == moment
    assert stored.tzinfo == UTC
    assert stored.hour == 9
    assert found == ["审计局"]


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="naive"), db.transaction() as session:
        session.add(DepartmentRow(name="审计局", created_at=NOW.replace(tzinfo=None)))
