"""A department's 2021 filing of our own making (not the seed), to start a later round from.

`filed_in_2021(database)` stores it through the service as staff made it then and opens a 2023
round; `KeepCopied` walks a copied draft as a person would, keeping what is already there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.service import FilingService
from dialogs.actions import Action, ActionKind
from dialogs.definition import FormDefinition
from dialogs.state import FormState
from dialogs.steps import keepable, parse_address
from storage.db import Database
from storage.records import Role
from storage.repos import DepartmentRepository, RoundRepository, UserRepository
from tests.support.scripted import Scripted, SeedScript, acting_through, drive
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


def filed_in_2021(database: Database) -> None:
    """The department's 2021 filing, made through the service as staff made it then."""
    with database.transaction() as session:
        department = DepartmentRepository(session).create(DEPT)
        DepartmentRepository(session).create(NEWCOMER)
        round_ = RoundRepository(session).create(
            2021, "2021", datetime(2021, 3, 31, tzinfo=UTC), "2021年"
        )
        user = UserRepository(session).create(901, "前任填报员", Role.STAFF, department.id)
    service = FilingService(database)

    view = service.open_table_a(department.id, round_.id, user.id)
    drive(
        SeedScript(A_2021, {"key_tasks": KEY_TASKS}, INDICATORS),
        view.state,
        acting_through(service, view.form.id, user.id),
    )
    view = service.new_direction(department.id, round_.id, user.id)
    drive(
        SeedScript(C_2021, {}, INDICATORS),
        view.state,
        acting_through(service, view.form.id, user.id),
    )
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
