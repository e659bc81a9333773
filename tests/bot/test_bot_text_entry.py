"""Texts typed outside the filing steps (department names, return comments) refuse characters a
workbook cannot hold with the filing steps' code, and a Telegram display name is stored without
them (it is printed in the round's export)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.messages import Notice, Refused
from bot.review.service import ReviewService
from bot.roles import Actor
from dialogs.catalogue import Code, Problem
from storage.db import Database
from storage.records import Role
from storage.repos import DepartmentRepository, UserRepository
from tests.support.bot import BotEnv, join_as, open_round
from tests.support.clock import FakeClock

pytestmark = pytest.mark.slow
# (Lone surrogates are covered in tests/exports/test_export_xmlsafe.py: JSON from Telegram
# cannot carry one to the bot.)
BAD = ["\ufffe", "\uffff", "\x01"]


def _refusal(field: str, example: str) -> str:
    return Problem(Code.CONTROL_CHARACTERS, {"field": field, "example": example}).message


@pytest.mark.parametrize("char", BAD, ids=[f"U+{ord(c):04X}" for c in BAD])
async def test_newdept_refuses_a_name_a_workbook_cannot_hold(tmp_path: Path, char: str) -> None:
    async with BotEnv.running(tmp_path, reminders=False) as env:
        replies = await env.admin.say(f"/newdept 市统计{char}局")
        assert [m.visible_text for m in replies] == [_refusal("部门名称", "区财政局")]
        with env.database.transaction() as session:
            assert DepartmentRepository(session).list_all() == []
        await env.admin.say("/newdept 市统计局")
        assert "已新建部门" in (env.admin.last_text or "")


async def test_a_display_name_is_stored_without_them(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path, reminders=False) as env:
        await open_round(env, "市统计局", year=2022)
        staff = await join_as(env, "赵\uffff六\x01", "staff", "市统计局")
        with env.database.transaction() as session:
            stored = UserRepository(session).by_telegram_id(staff.user.id)
        assert stored is not None and stored.display_name == "赵六"


def test_a_return_comment_is_refused_and_asked_again(db: Database) -> None:
    with db.transaction() as session:
        department = DepartmentRepository(session).create("市统计局")
        user = UserRepository(session).create(5501, "审核人", Role.SUPERVISOR, department.id)
    actor = Actor(user, frozenset({department.id}))
    service = ReviewService(
        db, ZoneInfo("Asia/Shanghai"), FakeClock(datetime(2022, 3, 1, tzinfo=UTC))
    )
    with pytest.raises(Refused) as refused:
        service.return_for_changes(actor, form_id=1, version=1, comment="请补充\ufffe指标")
    assert refused.value.code is Notice.REVIEW_COMMENT_REFUSED
    assert str(refused.value) == _refusal("退回意见", "请补充产出指标的目标值")
