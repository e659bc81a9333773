"""A database outage, on SQLite and PostgreSQL: every update during it gets exactly one message,
which says that nothing confirmed is lost; afterwards the conversation goes on where it was."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot import messages
from storage.db import Database
from tests.support.bot import BotEnv, join_as, open_round
from tests.support.db import Template, outage

pytestmark = pytest.mark.slow
DEPARTMENT = "市地方志编纂中心"


async def test_each_update_during_an_outage_gets_one_message_and_nothing_is_lost(
    tmp_path: Path, db: Database, storage_template: Template
) -> None:
    async with BotEnv.running(tmp_path, database=db, reminders=False) as env:
        await open_round(env, DEPARTMENT, year=2022)
        staff = await join_as(env, "赵六", "staff", DEPARTMENT)
        await staff.say("/fill")
        await staff.tap("部门整体支出绩效目标表")
        await staff.say("845.2")
        assert "✓" in (staff.last_text or ""), staff.transcript()
        form_id = await env.current_form(staff)
        confirmed = (await env.form(form_id)).version
        stranger = env.person("陌生人")

        with outage(storage_template, db):
            attempts = [
                (staff, lambda: staff.say("600")),
                (staff, lambda: staff.tap(staff.buttons()[0])),
                (staff, lambda: staff.say("/review")),
                (stranger, lambda: stranger.say("你好")),
            ]
            for chat, attempt in attempts:
                replies = await attempt()
                shown = [m.visible_text for m in replies]
                assert len(shown) == 1, chat.transcript()
                assert shown == [messages.DATABASE_DOWN], chat.transcript()

        # Back: the answer confirmed before the outage is there, and filling goes on.
        form = await env.form(form_id)
        assert form.version == confirmed
        assert form.state.values["total"] == Decimal("845.2")
        await staff.say("600")
        assert "✓" in (staff.last_text or ""), staff.transcript()
