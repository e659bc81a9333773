"""A database outage, on SQLite and PostgreSQL: the inbox cannot store an update, so it is not
acknowledged; its user hears once that it waits and that nothing confirmed is lost, and once the
database is back the update is handled, once, and the conversation goes on where it was."""

from __future__ import annotations

import asyncio
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
            # The inbox cannot store the update, so Telegram is not told it arrived: the user
            # hears once that it waits, and nothing typed during the outage is lost.
            env.fake.send_text(staff.user, staff.chat, "600")  # not fetched: no acknowledgement
            for _ in range(200):
                if any(m.visible_text == messages.DATABASE_DOWN_QUEUED for m in staff.messages):
                    break
                await asyncio.sleep(0.05)
            assert [m.visible_text for m in staff.messages][-1] == messages.DATABASE_DOWN_QUEUED

        # Back: the update typed during the outage is handled once, and filling goes on.
        await staff.settle()
        form = await env.form(form_id)
        assert form.version == confirmed + 1, staff.transcript()
        assert form.state.values["total"] == Decimal("845.2")
        texts = [m.visible_text or "" for m in staff.messages]
        assert texts.count(messages.DATABASE_DOWN_QUEUED) == 1
        assert messages.DATABASE_DOWN not in texts
        assert "✓" in (staff.last_text or ""), staff.transcript()
        await stranger.say("你好")
        assert stranger.last_text == messages.JOIN_EXPLANATION
