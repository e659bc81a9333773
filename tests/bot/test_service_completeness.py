"""Issue 11 through the service on a real database, in both layouts, for a department and year of
our own: `/` typed at a 指标值 offers 本项不适用 on that screen, and submit is refused with the
list of every 二级指标 that has neither a row nor the 不适用 choice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.service import FilingService
from dialogs.actions import Action, ActionKind
from dialogs.catalogue import Code
from dialogs.loader import get_layout
from storage.db import Database
from storage.records import Role
from storage.repos import DepartmentRepository, RoundRepository, UserRepository

YEAR = 2027
DIRECTION_ANSWERS = ("冷链物流设施建设", "农业产业发展专项", "400", f"{YEAR}.3-{YEAR}.11",
                     "建成覆盖全县的冷链仓储网络。", "新建冷链仓储不少于十二座。")


def _setup(database: Database, layout_key: str) -> tuple[int, int, int]:
    with database.transaction() as session:
        department = DepartmentRepository(session).create("临川县水利局")
        deadline = datetime(YEAR, 3, 31, 10, tzinfo=UTC)
        round_ = RoundRepository(session).create(YEAR, layout_key, deadline, f"{YEAR}年填报")
        user = UserRepository(session).create(5150, "填报员", Role.STAFF, department.id)
        return department.id, round_.id, user.id


@pytest.mark.parametrize("layout_key", ["2021", "2023"])
def test_not_applicable_at_a_value_and_a_complete_form_before_submit(
    db: Database, layout_key: str
) -> None:
    department_id, round_id, user_id = _setup(db, layout_key)
    service = FilingService(db)
    form_id = service.new_direction(department_id, round_id, user_id).form.id

    def answer(text: str) -> object:
        return service.act(form_id, Action(ActionKind.ANSWER, text=text), user_id)

    for text in DIRECTION_ANSWERS:
        assert answer(text).outcome.accepted  # type: ignore[attr-defined]
    layout = get_layout(layout_key).table_c.indicators
    first = next(level2 for _, level2 in layout.level2s())
    assert answer("新建冷库座数").outcome.accepted  # type: ignore[attr-defined]

    refused = service.act(form_id, Action(ActionKind.ANSWER, text="/"), user_id)
    assert [p.code for p in refused.outcome.problems] == [Code.INDICATOR_VALUE_NOT_APPLICABLE]
    assert refused.view.state.rows_of(first.key)[0].name == "新建冷库座数"
    offered = {b.label: b for b in refused.view.prompt.buttons}
    assert "本项不适用" in offered
    chosen = service.act(form_id, offered["本项不适用"].action, user_id)
    assert chosen.outcome.accepted
    assert chosen.view.state.rows_of(first.key)[0].not_applicable

    submitted = service.act(form_id, Action(ActionKind.SUBMIT, target="confirmed"), user_id)
    assert not submitted.outcome.accepted
    missing = next(
        p for p in submitted.outcome.problems if p.code is Code.INDICATOR_LEVEL2_EMPTY
    )
    rest = [level2.label for _, level2 in layout.level2s()][1:]
    assert missing.params["level2"] == "、".join(f"「{label}」" for label in rest)
    assert f"「{first.label}」" not in missing.message
