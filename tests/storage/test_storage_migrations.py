"""Migrations create exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from storage.db import Database, alembic_config, make_engine, upgrade
from storage.models import metadata
from storage.repos import AuditRepository
from tests.support.db import seed_context


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def _assert_at_head_and_matching(url: URL) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert context.get_current_revision() == _head()
            assert compare_metadata(context, metadata) == []
            tables = set(inspect(connection).get_table_names())
            assert set(metadata.tables) | {"alembic_version"} == tables
    finally:
        engine.dispose()


def test_upgrade_creates_the_models_schema(empty_database_url: URL) -> None:
    upgrade(empty_database_url)
    _assert_at_head_and_matching(empty_database_url)


def test_upgrade_twice_is_a_no_op(empty_database_url: URL) -> None:
    upgrade(empty_database_url)
    upgrade(empty_database_url)
    _assert_at_head_and_matching(empty_database_url)


def test_concurrent_upgrades_both_succeed(empty_database_url: URL) -> None:
    """Bot processes starting together must not trip over each other's migration."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            upgrade(empty_database_url)
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _assert_at_head_and_matching(empty_database_url)


def test_downgrade_to_base_and_back(empty_database_url: URL) -> None:
    from alembic import command

    upgrade(empty_database_url)
    database = Database(empty_database_url)
    try:
        with database.engine.begin() as connection:
            config = alembic_config(empty_database_url)
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    finally:
        database.dispose()
    upgrade(empty_database_url)
    _assert_at_head_and_matching(empty_database_url)


def test_audit_log_is_append_only(db: Database) -> None:
    with db.transaction() as session:
        context = seed_context(session)
        AuditRepository(session).append("login", actor_user_id=context.user.id)
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
            session.execute(text(statement))
    with db.transaction() as session:
        assert [entry.action for entry in AuditRepository(session).list_recent()] == ["login"]
