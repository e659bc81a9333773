"""ReviewService checks the Actor itself (a forged call meets the rules the buttons do) and
takes a return comment in one transaction: refused comments are asked for again."""

from __future__ import annotations

import pytest

from bot.messages import Notice, Refused
from bot.review.service import ReviewService
from bot.roles import Actor
from dialogs.state import FormStatus
from storage.db import Database
from storage.records import PendingKind
from storage.repos import FormRepository, PendingInputRepository, UserRepository
from tests.support.clock import FakeClock
from tests.support.reminder_world import SHANGHAI, World, build_world


def actor(world: World, name: str) -> Actor:
    user = world.user(name)
    with world.database.transaction() as session:
        return Actor(user, UserRepository(session).overseen_department_ids(user.id))


def submitted(world: World, department: str) -> tuple[int, int]:
    form_id = world.table_a(department)
    world.set_status(form_id, FormStatus.SUBMITTED)
    with world.database.transaction() as session:
        return form_id, FormRepository(session).load(form_id).version


def test_only_reviewers_of_the_department_review(db: Database, fake_clock: FakeClock) -> None:
    world = build_world(db)
    service = ReviewService(db, SHANGHAI, fake_clock)
    form_id, version = submitted(world, "财政局")
    for name in ("王五", "张三", "审核人"):  # its staff, other staff, another's supervisor
        with pytest.raises(Refused) as refused:
            service.approve(actor(world, name), form_id, version)
        assert refused.value.code is Notice.REVIEW_NOT_ALLOWED, name
        with pytest.raises(Refused) as refused:
            service.ask_comment(actor(world, name), form_id, version)
        assert refused.value.code is Notice.REVIEW_NOT_ALLOWED, name
    assert service.card(actor(world, "区审核人"), form_id).department == "财政局"
    done = service.approve(actor(world, "区审核人"), form_id, version)
    assert done.form.status is FormStatus.APPROVED and done.notified == 1
    with pytest.raises(Refused) as again:
        service.approve(actor(world, "区审核人"), form_id, version)
    assert again.value.code is Notice.REVIEW_CHANGED


def test_a_refused_comment_is_asked_for_again(db: Database, fake_clock: FakeClock) -> None:
    world = build_world(db)
    service = ReviewService(db, SHANGHAI, fake_clock)
    supervisor = actor(world, "审核人")
    form_id, version = submitted(world, "宣传部")
    assert service.comment(supervisor, "随便说说") is None  # no comment awaited: not one
    service.ask_comment(supervisor, form_id, version)
    for text, code in [
        ("  ", Notice.REVIEW_EMPTY_COMMENT),
        ("请\ufffe补充", Notice.REVIEW_COMMENT_REFUSED),
    ]:
        with pytest.raises(Refused) as refused:
            service.comment(supervisor, text)
        assert refused.value.code is code  # the wait is kept: the next comment is taken
    done = service.comment(supervisor, "请补充成本指标")
    assert done is not None and done.form.status is FormStatus.RETURNED
    assert done.form.review_comment == "请补充成本指标"
    with db.transaction() as session:
        kinds = PendingInputRepository(session).kinds(supervisor.user.id, fake_clock.now())
    assert PendingKind.RETURN_COMMENT not in kinds
    assert service.comment(actor(world, "张三"), "请补充成本指标") is None  # staff: never looked up
