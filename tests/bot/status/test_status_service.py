"""StatusService: what an Actor sees is `Actor.scope`; whether they get the reviewer's view
(picture, review buttons) is `Actor.reviews`; the /fill menu's progress is the same
computation (bot/progress.py)."""

from __future__ import annotations

import pytest

from bot.messages import Notice, Refused
from bot.roles import Actor
from bot.status.service import StatusService
from storage.db import Database
from storage.records import Role
from storage.repos import UserRepository
from tests.support.clock import FakeClock
from tests.support.reminder_world import World, build_world


def actor(world: World, name: str) -> Actor:
    user = world.user(name)
    with world.database.transaction() as session:
        return Actor(user, UserRepository(session).overseen_department_ids(user.id))


def test_each_actor_sees_their_scope(db: Database, fake_clock: FakeClock) -> None:
    world = build_world(db)
    world.table_a("宣传部")
    service = StatusService(db, fake_clock)
    seen = {}
    for name in ("王五", "审核人", "区审核人"):
        view = service.round_status(actor(world, name), None, by_quality=False)
        seen[name] = ([d.name for d in view.report.departments], view.reviewer)
    assert seen["王五"] == (["财政局"], False)
    assert seen["审核人"] == (["宣传部"], True)
    assert sorted(seen["区审核人"][0]) == ["宣传部", "财政局"] and seen["区审核人"][1]
    with pytest.raises(Refused) as refused:
        service.round_status(actor(world, "区审核人"), 2019, by_quality=False)
    assert refused.value.code is Notice.NO_ROUND
    world.add_person("新审核人", Role.SUPERVISOR)  # oversees nothing yet
    with pytest.raises(Refused) as empty:
        service.round_status(actor(world, "新审核人"), None, by_quality=False)
    assert empty.value.code is Notice.NO_DEPARTMENTS_IN_SCOPE
