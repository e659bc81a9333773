"""The departments an actor may see: one rule (`Actor.scope`) behind /status, the digest,
exports, printed tables and review, and `may_view` agrees with it for every department."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.reminders.digest import DigestSender
from bot.roles import Actor, visible_departments
from storage.db import Database
from storage.records import Role, User
from storage.repos import DepartmentRepository, UserRepository

ALL = None


def _actor(role: Role, department_id: int | None, overseen: frozenset[int] = frozenset()) -> Actor:
    user = User(5, 9005, "钱七", role, department_id, None, datetime(2024, 1, 2, tzinfo=UTC))
    return Actor(user, overseen)


@pytest.mark.parametrize(
    ("actor", "scope"),
    [
        (_actor(Role.ADMIN, None), ALL),
        (_actor(Role.DISTRICT_SUPERVISOR, None, frozenset({3})), ALL),
        (_actor(Role.SUPERVISOR, None, frozenset({3, 4})), frozenset({3, 4})),
        (_actor(Role.SUPERVISOR, 7, frozenset()), frozenset()),
        (_actor(Role.STAFF, 7), frozenset({7})),
        (_actor(Role.STAFF, None), frozenset()),
    ],
)
def test_scope_is_the_one_rule_and_may_view_follows_it(
    actor: Actor, scope: frozenset[int] | None
) -> None:
    assert actor.scope == scope
    for department_id in range(1, 10):
        assert actor.may_view(department_id) == (scope is None or department_id in scope)


def test_visible_departments_and_the_digest_scope_agree(db: Database) -> None:
    with db.transaction() as session:
        departments = DepartmentRepository(session)
        ids = [departments.create(name).id for name in ("县审计局", "县民政局", "县统计局")]
        users = UserRepository(session)
        supervisor = users.create(9101, "孙八", Role.SUPERVISOR, None)
        users.oversee(supervisor.id, ids[1])
        actor = Actor(supervisor, users.overseen_department_ids(supervisor.id))
        assert [d.id for d in visible_departments(session, actor)] == [ids[1]]
        assert DigestSender._scope(users, supervisor) == frozenset({ids[1]})
