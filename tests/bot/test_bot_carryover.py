"""Start from last year, end to end over the loopback Bot API: a department that filed in the
2021 layout opens a 2023-layout round, starts from its 2021 filing, is asked only what changed or
is new (amounts, 年度总体绩效目标, 权重 …), updates the texts that still say 2021 with one press,
sees what changed against 2021, and submits. A department that never filed is not offered it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.carryover import CARRY_ACTION, SOURCE_ACTION
from dialogs.loader import get_layout
from dialogs.state import FormStatus
from storage.repos import AuditRepository
from tests.support.bot import BotEnv, fill_by_script, join_as
from tests.support.lastyear import (
    A_2021,
    A_2023,
    C_2023,
    DEPT,
    INDICATORS,
    KEY_TASKS,
    NEWCOMER,
    KeepCopied,
    filed_in_2021,
)
from tests.support.scripted import SeedScript


def texts(replies: list) -> str:  # type: ignore[type-arg]
    return "\n".join(m.visible_text or "" for m in replies)


async def test_a_2021_filer_starts_the_2023_round_from_last_year_and_submits(
    tmp_path: Path,
) -> None:
    async with BotEnv.running(tmp_path) as env:
        await asyncio.to_thread(filed_in_2021, env.database)
        staff = await join_as(env, "甲", "staff", DEPT)

        menu = texts(await staff.say("/fill"))
        assert "你部门在2021年填报过" in menu
        copied = texts(await staff.tap("从2021年的填报开始"))
        assert "已从2021年的填报复制 2 张表" in copied
        for asked in (
            "资金总额",
            "年度总体绩效目标",
            "项目金额",
            "项目实施期",
            "年度绩效指标的权重",
        ):
            assert asked in copied, copied
        assert "请输入「资金总额」" in copied  # table A continues at its first open question

        table_a = await env.current_form(staff)
        layout = get_layout("2023")
        script = SeedScript(A_2023, {"key_tasks": KEY_TASKS}, INDICATORS)
        await fill_by_script(env, staff, table_a, KeepCopied(script, layout.table_a))
        stored_a = await env.form(table_a)
        assert stored_a.state.values["duties"] == A_2021["duties"]  # copied, never asked

        # the direction: only its amount, period and the 2023 columns are asked
        await staff.say("/fill")
        await staff.tap("其他表格")
        await staff.tap("支出方向：高标准农田建设")
        direction = await env.current_form(staff)
        script = SeedScript(C_2023, {}, INDICATORS)
        await fill_by_script(env, staff, direction, KeepCopied(script, layout.table_c))

        review = texts(await staff.say("/review"))
        assert "以下内容仍写着2021年" in review
        assert "年度绩效目标" in review and "年度绩效指标「项目完成时间」" in review
        assert "项目金额：35 → 40" in review
        updated = texts(await staff.tap("全部更新为2023年"))
        assert "已把2021年更新为2023年" in updated
        again = staff.last_text or ""
        assert "与2021年相比的变化" in again and "以下内容仍写着2021年" not in again
        stored = await env.form(direction)
        assert stored.state.values["annual_goal"] == "2023年度建成高标准农田1万亩。"
        assert [r.value for r in stored.state.indicators if r.name == "项目完成时间"] == [
            "2023年12月底前"
        ]
        await staff.tap("✅ 提交")
        if "确认提交" in staff.buttons():
            await staff.tap("确认提交")
        assert (await env.form(direction)).status is FormStatus.SUBMITTED, staff.transcript()

        await staff.say("/fill")  # the direction is submitted: the menu
        await staff.tap("部门整体支出绩效目标表")
        await staff.say("/review")
        await staff.tap("全部更新为2023年")
        await staff.tap("✅ 提交")
        if "确认提交" in staff.buttons():
            await staff.tap("确认提交")
        final_a = await env.form(table_a)
        assert final_a.status is FormStatus.SUBMITTED, staff.transcript()
        assert final_a.state.groups["key_tasks"][0].get("goal") == "2023年12月底前建成1万亩。"

        with env.database.transaction() as session:
            entries = AuditRepository(session).list_for_form(table_a)
        actions = [e.action for e in entries]
        assert CARRY_ACTION in actions and SOURCE_ACTION in actions
        assert "update_year" in actions

        # a department that never filed is not offered anything to start from
        newcomer = await join_as(env, "乙", "staff", NEWCOMER)
        assert "填报过" not in texts(await newcomer.say("/fill"))
        assert not any("从" in label and "年的填报开始" in label for label in newcomer.buttons())
