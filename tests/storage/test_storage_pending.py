"""Pending inputs (a return comment being typed, an import waiting for confirmation): kept with
an expiry, taken once, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from storage.db import Database
from storage.records import PendingKind, Role
from storage.repos import (
    Expired,
    ImportWait,
    PendingInputRepository,
    PlannedForm,
    ReturnCommentWait,
    UserRepository,
)
from tests.support.db import later, seed_context

BASIS = (
    PlannedForm("A", "", 7, 12),
    PlannedForm("C", "农村公路养护", None, None),
    PlannedForm("C", "危桥改造", 9, 0),
)


def test_a_return_comment_wait_is_taken_once(db: Database) -> None:
    with db.transaction() as session:
        context = seed_context(session, "交通运输局")
        repo = PendingInputRepository(session)
        repo.await_return_comment(context.user.id, 41, 3, now=later(0))
    with db.transaction() as session:
        repo = PendingInputRepository(session)
        peeked = repo.return_comment(context.user.id, now=later(5))
        assert isinstance(peeked, ReturnCommentWait) and (peeked.form_id, peeked.version) == (41, 3)
        assert repo.return_comment(context.user.id, now=later(5), take=True) == peeked
    with db.transaction() as session:
        assert PendingInputRepository(session).return_comment(context.user.id, take=True) is None


def test_an_expired_wait_is_refused_and_removed(db: Database) -> None:
    with db.transaction() as session:
        context = seed_context(session, "水利局")
        PendingInputRepository(session).await_return_comment(
            context.user.id, 5, 1, now=later(0), ttl=timedelta(minutes=10)
        )
    with db.transaction() as session:
        found = PendingInputRepository(session).return_comment(context.user.id, now=later(10))
        assert isinstance(found, Expired) and found.kind is PendingKind.RETURN_COMMENT
    with db.transaction() as session:
        assert PendingInputRepository(session).return_comment(context.user.id, now=later(0)) is None


def test_an_import_wait_keeps_the_workbook_and_the_basis(db: Database) -> None:
    workbook = bytes(range(256)) * 40  # any bytes, exactly
    with db.transaction() as session:
        context = seed_context(session, "教育局")
        repo = PendingInputRepository(session)
        repo.await_import_confirmation(
            context.user.id, context.department.id, context.round.id, BASIS, b"old", now=later(0)
        )
        # A second upload replaces the first.
        repo.await_import_confirmation(
            context.user.id, context.department.id, context.round.id, BASIS, workbook, now=later(1)
        )
        assert repo.kinds(context.user.id, now=later(2)) == {PendingKind.IMPORT}
    with db.transaction() as session:
        found = PendingInputRepository(session).import_confirmation(
            context.user.id, now=later(29), take=True
        )
    assert isinstance(found, ImportWait)
    assert found.workbook == workbook and found.basis == BASIS
    assert (found.department_id, found.round_id) == (context.department.id, context.round.id)
    with db.transaction() as session:
        assert PendingInputRepository(session).import_confirmation(context.user.id) is None


def test_users_and_kinds_are_separate_and_expired_rows_are_purged(db: Database) -> None:
    with db.transaction() as session:
        context = seed_context(session, "卫生健康局")
        other = UserRepository(session).create(90_001, "李四", Role.SUPERVISOR, None)
        repo = PendingInputRepository(session)
        repo.await_return_comment(other.id, 1, 1, now=later(0), ttl=timedelta(minutes=5))
        repo.await_return_comment(context.user.id, 2, 2, now=later(0))
        repo.await_import_confirmation(
            context.user.id, context.department.id, context.round.id, (), b"x", now=later(0)
        )
    with db.transaction() as session:
        repo = PendingInputRepository(session)
        assert repo.discard(context.user.id, PendingKind.RETURN_COMMENT)
        assert repo.kinds(context.user.id, now=later(1)) == {PendingKind.IMPORT}
        assert repo.purge_expired(later(6)) == 1  # only the other user's, 5 minutes
        assert repo.return_comment(other.id, now=later(0)) is None
