"""In chat, in both layouts (issue 11): `/` typed at a 指标值 is answered with the 本项不适用
button on the same screen; pressing it marks the 二级指标 不适用 without retyping anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogs.loader import get_layout
from tests.support.bot import BotEnv, join_as

pytestmark = pytest.mark.slow
DEPARTMENT = "临川县水利局"
YEAR = 2027


@pytest.mark.parametrize("layout_key", ["2021", "2023"])
async def test_slash_at_a_value_offers_not_applicable_there(
    tmp_path: Path, layout_key: str
) -> None:
    async with BotEnv.running(tmp_path) as env:
        admin = env.admin
        await admin.say(f"/newdept {DEPARTMENT}")
        await admin.say(f"/newround {YEAR} {YEAR}-03-31")
        await admin.tap(f"{layout_key} 版表样")
        staff = await join_as(env, "甲", "staff", DEPARTMENT)
        await staff.say("/fill")
        await staff.tap("新增支出方向")
        for text in ("灌区改造", "水利发展专项", "120", f"{YEAR}.1-{YEAR}.12", "目标一", "目标二"):
            await staff.say(text)
        await staff.say("新建泵站座数")
        refused = "\n".join(m.visible_text or "" for m in await staff.say("/"))
        first = next(level2 for _, level2 in get_layout(layout_key).table_c.indicators.level2s())
        assert "本项不适用" in refused and first.label in refused
        assert "本项不适用" in staff.buttons()
        chosen = "\n".join(m.visible_text or "" for m in await staff.tap("本项不适用", exact=True))
        assert f"{first.label}：本项不适用" in chosen
