"""Start from last year, end to end over the loopback Bot API: a department that filed in the
2021 layout opens a 2023-layout round, starts from its 2021 filing, is asked only what changed or
is new (amounts, 年度总体绩效目标, 权重 …), updates the texts that still say 2021 with one press,
sees what changed against 2021, and submits. A department that never filed is not offered it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.carryover import CARRY_ACTION, SOURCE_ACTION
from bot.service import FilingService
from dialogs.actions import Action, ActionKind
from dialogs.definition import FormDefinition
from dialogs.loader import get_layout
from dialogs.state import FormState, FormStatus
from dialogs.steps import keepable, parse_address
from storage.db import Database
from storage.records import Role
from storage.repos import AuditRepository, DepartmentRepository, RoundRepository, UserRepository
from tests.support.bot import BotEnv, fill_by_script, join_as
from tests.support.scripted import Scripted, SeedScript, drive
from tests.support.seed import SeedIndicator

DEPT, NEWCOMER = "甲县农业农村局", "乙县林业局"

INDICATORS = (
    SeedIndicator("quantity", "新建高标准农田面积", "≥1万亩"),
    SeedIndicator("quality", "工程验收合格率", "≥95%"),
    SeedIndicator("timeliness", "项目完成时间", "2021年12月底前"),
    SeedIndicator("cost", "项目建设成本", "≤35万元"),
    SeedIndicator("economic", "带动农民增收", "≥200万元"),
    SeedIndicator("social", "受益农户数", "≥3000户"),
    SeedIndicator("ecological", "/", "/"),
    SeedIndicator("sustainable", "工程设计使用年限", "≥15年"),
    SeedIndicator("satisfaction", "受益群众满意度", "≥90%"),
)
KEY_TASKS = [
    {"item": "推进高标准农田建设", "unit": "农田建设股", "goal": "2021年12月底前建成1万亩。"},
]
A_2021 = {
    "total": "120",
    "general_budget": "120",
    "government_fund": None,
    "other_funds": None,
    "basic_expense": "85",
    "project_expense": "35",
    "duties": "（一）负责全县农业农村发展规划。（二）组织高标准农田建设。",
}
C_2021 = {
    "direction": "高标准农田建设",
    "special_fund": "农业发展专项",
    "amount": "35",
    "period": "2021.1-2021.12",
    "period_goal": "建成高标准农田1万亩，改善农业生产条件。",
    "annual_goal": "2021年度建成高标准农田1万亩。",
}
# What the 2023 round asks again or anew (everything else was copied).
A_2023 = {
    "total": "150",
    "general_budget": "150",
    "government_fund": None,
    "other_funds": None,
    "basic_expense": "110",
    "project_expense": "40",
    "overall_goal": "全面完成年度农田建设和农业发展任务。",
}
C_2023 = {"amount": "40", "period": "2023.1-2023.12"}


def _filed_in_2021(database: Database) -> None:
    """The department's 2021 filing, made through the service as staff made it then."""
    with database.transaction() as session:
        department = DepartmentRepository(session).create(DEPT)
        DepartmentRepository(session).create(NEWCOMER)
        round_ = RoundRepository(session).create(
            2021, "2021", datetime(2021, 3, 31, tzinfo=UTC), "2021年"
        )
        user = UserRepository(session).create(901, "前任填报员", Role.STAFF, department.id)
    service = FilingService(database)

    def act_for(form_id: int):  # type: ignore[no-untyped-def]
        def act(action):  # type: ignore[no-untyped-def]
            result = service.act(form_id, action, user.id)
            return result.outcome, result.view.state

        return act

    view = service.open_table_a(department.id, round_.id, user.id)
    drive(
        SeedScript(A_2021, {"key_tasks": KEY_TASKS}, INDICATORS), view.state, act_for(view.form.id)
    )
    view = service.new_direction(department.id, round_.id, user.id)
    drive(SeedScript(C_2021, {}, INDICATORS), view.state, act_for(view.form.id))
    with database.transaction() as session:
        RoundRepository(session).create(2023, "2023", datetime(2023, 3, 31, tzinfo=UTC), "2023年")


@dataclass
class KeepCopied:
    """A person going through a copied draft: what is there already is kept as it stands."""

    script: SeedScript
    definition: FormDefinition

    def next_action(self, cursor: str, state: FormState) -> Scripted | None:
        step = parse_address(cursor)
        if step is not None and keepable(self.definition, state, step):
            return Scripted(Action(ActionKind.KEEP))
        return self.script.next_action(cursor, state)


def texts(replies: list) -> str:  # type: ignore[type-arg]
    return "\n".join(m.visible_text or "" for m in replies)


async def test_a_2021_filer_starts_the_2023_round_from_last_year_and_submits(
    tmp_path: Path,
) -> None:
    async with BotEnv.running(tmp_path) as env:
        await asyncio.to_thread(_filed_in_2021, env.database)
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
