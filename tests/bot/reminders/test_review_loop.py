"""The review loop as staff and supervisors live it (issue 16), end to end over the loopback
fake Bot API with the real application: the reviewer's comment where staff look, reminders
that say what to do, an honest /remind, approvals coalesced into one notice, the running total
of 权重, and readings in large units taken without a needless confirmation."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogs.loader import get_layout
from dialogs.state import FormStatus
from dialogs.steps import asked_sections
from tests.bot.reminders.chat_scene import scene
from tests.bot.reminders.filled_forms import fill_direction

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
LAYOUTS = ["2021", "2023"]


def section_label(layout: str, kind: str, key: str) -> str:
    definition = get_layout(layout).table_a if kind == "A" else get_layout(layout).table_c
    return next(s.label for s in asked_sections(definition) if s.key == key)


# --- reminders say what to do ----------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
async def test_a_reminder_says_press_submit_or_names_the_next_section(
    tmp_path: Path, layout: str
) -> None:
    async with scene(tmp_path, layout=layout) as s:
        done = fill_direction(s.world, "宣传部", "农村公路养护")
        halfway = fill_direction(s.world, "宣传部", "桥梁检测", stop_at_section="goals")
        await s.runtime.tick()  # before_7d
        zhang = s.person("张三")
        [reminder] = zhang.messages
        text = reminder.visible_text or ""
        lines = {line.split("：", 1)[0].lstrip("• "): line for line in text.splitlines()}
        assert "已全部填完，可以提交" in lines["农村公路养护"], text
        assert "再按「提交」" in lines["农村公路养护"], text
        assert f"下一步填写「{section_label(layout, 'C', 'goals')}」" in lines["桥梁检测"], text
        table_a = get_layout(layout).table_a
        first = asked_sections(table_a)[0].label
        assert f"下一步填写「{first}」" in lines[table_a.name], text

        # The button the reminder names is there, with that label, where "继续填写" leads.
        await zhang.tap("继续填写：农村公路养护", message=reminder)
        assert "提交" in zhang.buttons(), zhang.transcript()
        await zhang.tap("提交", exact=True)
        if "确认提交" in " ".join(zhang.buttons()):
            await zhang.tap("确认提交")
        assert (await s.env.form(done)).status is FormStatus.SUBMITTED, zhang.transcript()
        assert (await s.env.form(halfway)).status is FormStatus.DRAFT
