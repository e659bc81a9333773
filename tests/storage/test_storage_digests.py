"""The daily digests sent (table digests_sent, migration 0005): a digest is claimed once per
supervisor, round and day, and the digests the audit log recorded before 0005 are carried over
(and back on a downgrade), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import URL

from storage.db import Database, alembic_config, upgrade
from storage.records import Role
from storage.repos import (
    AuditRepository,
    DepartmentRepository,
    DigestLogRepository,
    RoundRepository,
    UserRepository,
)
from tests.support.db import seed_context

NOW = datetime(2021, 3, 20, 1, 0, tzinfo=UTC)
DAY = date(2021, 3, 20)


def test_a_digest_is_claimed_once_a_day(db: Database) -> None:
    with db.transaction() as session:
        context = seed_context(session)
        digests = DigestLogRepository(session)
        assert digests.claim(context.user.id, context.round.id, DAY, now=NOW)
        assert not digests.claim(context.user.id, context.round.id, DAY, now=NOW)
        assert digests.claim(context.user.id, context.round.id, date(2021, 3, 21), now=NOW)
    with db.transaction() as session:  # another process, later: still claimed
        assert not DigestLogRepository(session).claim(
            context.user.id, context.round.id, DAY, now=NOW
        )
        assert DigestLogRepository(session).days_sent(context.user.id, context.round.id) == [
            DAY,
            date(2021, 3, 21),
        ]


def _downgrade(url: URL, revision: str) -> None:
    database = Database(url)
    try:
        with database.engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
    finally:
        database.dispose()


def test_upgrade_carries_the_digests_of_the_audit_log_over(empty_database_url: URL) -> None:
    upgrade(empty_database_url, "0004")
    database = Database(empty_database_url)
    try:
        with database.transaction() as session:  # these tables are as they were at 0004
            department = DepartmentRepository(session).create("区财政局")
            reader = UserRepository(session).create(71, "审核人", Role.SUPERVISOR, department.id)
            round_ = RoundRepository(session).create(2021, "2021", NOW, "2021年")
            audit = AuditRepository(session)
            for key, user in [
                (f"{round_.id}:2021-03-20", reader.id),
                (f"{round_.id}:2021-03-20", reader.id),  # recorded twice: one digest
                (f"{round_.id}:2021-03-21", reader.id),
                (f"{round_.id + 99}:2021-03-21", reader.id),  # a round since deleted
                ("garbled", reader.id),
            ]:
                audit.append(
                    "digest_sent", actor_user_id=None, field_key=key, new_value=str(user), now=NOW
                )
        upgrade(empty_database_url)
        with database.transaction() as session:
            digests = DigestLogRepository(session)
            assert digests.days_sent(reader.id, round_.id) == [DAY, date(2021, 3, 21)]
            assert not digests.claim(reader.id, round_.id, DAY, now=NOW)  # not sent again
            assert digests.claim(reader.id, round_.id, date(2021, 3, 22), now=NOW)
        _downgrade(empty_database_url, "0004")
        with database.engine.connect() as connection:
            keys = connection.scalars(
                text("SELECT field_key FROM audit_log WHERE action = 'digest_sent'")
            ).all()
        assert keys.count(f"{round_.id}:2021-03-22") == 1  # sent after 0005: recorded back
        assert keys.count(f"{round_.id}:2021-03-20") == 2  # the audit log is never rewritten
    finally:
        database.dispose()
