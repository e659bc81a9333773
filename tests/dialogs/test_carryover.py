"""Starting from an earlier round's filing: what is copied, what is asked again, the old year's
texts flagged and updated, and the changes against last year — across both layouts."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.synthetic import department
from dialogs.carryover import carry_over, changes_since, with_year, year_mentions
from dialogs.definition import FieldKind, FormDefinition
from dialogs.engine import Engine
from dialogs.loader import get_layout
from dialogs.parsing.indicator import read_indicator
from dialogs.state import FormState, IndicatorRow
from dialogs.steps import StepKind, done_key

PAIRS = [("2021", "2023"), ("2023", "2023"), ("2021", "2021"), ("2023", "2021")]


def _earlier(layout_key: str) -> tuple[FormState, FormState]:
    """A finished table A and table C of a department of our own, in the earlier layout."""
    filing = department(get_layout(layout_key), 2024, 12, directions=1)
    assert filing.table_a is not None
    return filing.table_a.state, filing.directions[0].state


def _asked(definition: FormDefinition, *kinds: FieldKind) -> list[str]:
    return [f.label for f in definition.fields() if f.asked and f.kind in kinds]


@pytest.mark.parametrize(("source_key", "target_key"), PAIRS)
def test_texts_and_indicators_are_copied_and_amounts_asked_again(
    source_key: str, target_key: str
) -> None:
    source, target = get_layout(source_key), get_layout(target_key)
    _, state = _earlier(source_key)
    carried = carry_over(source.table_c, state, target.table_c)
    values = carried.state.values
    for key in ("direction", "special_fund", "period_goal", "annual_goal"):
        assert values[key] == state.values[key]
    for label in _asked(target.table_c, FieldKind.AMOUNT, FieldKind.PERIOD):
        assert label in carried.not_copied
        assert target.table_c.field("amount").key not in values
    # every 二级指标 keeps its rows, under the target layout's key for the same role
    roles = {l2.key: l2.role for _, l2 in source.table_c.indicators.level2s()}
    target_keys = {l2.role: l2.key for _, l2 in target.table_c.indicators.level2s()}
    assert [(r.level2, r.name, r.value) for r in carried.state.indicators] == [
        (target_keys[roles[r.level2]], r.name, r.value) for r in state.indicators
    ]
    # what the target asks of an indicator that the source did not is left open and named
    new_columns = {s.label for s in target.table_c.indicators.asked_columns()} - {
        s.label for s in source.table_c.indicators.asked_columns()
    }
    for label in new_columns:
        assert f"年度绩效指标的{label}" in carried.not_copied
    # the engine continues exactly at the first thing to ask again: the amount
    engine = Engine(target.table_c)
    assert engine.resume(carried.state).cursor == "f:amount"


def test_a_2021_table_a_into_the_2023_layout_asks_the_new_overall_goal() -> None:
    state, _ = _earlier("2021")
    carried = carry_over(get_layout("2021").table_a, state, get_layout("2023").table_a)
    assert "年度总体绩效目标" in carried.not_copied
    assert carried.state.values["duties"] == state.values["duties"]
    assert carried.state.groups["key_tasks"] == state.groups["key_tasks"]
    assert done_key(StepKind.GROUP_MORE, "key_tasks") in carried.state.values
    assert "年度绩效指标的权重" in carried.not_copied
    assert all(row.weight is None for row in carried.state.indicators)


def test_same_layout_keeps_weights_and_explanations() -> None:
    layout = get_layout("2023")
    _, state = _earlier("2023")
    carried = carry_over(layout.table_c, state, layout.table_c)
    assert [r.weight for r in carried.state.indicators] == [r.weight for r in state.indicators]
    assert not any(label.startswith("年度绩效指标") for label in carried.not_copied)


def _with_texts(state: FormState, *, goal: str, value: str) -> FormState:
    rows = list(state.indicators)
    first = rows[0]
    rows[0] = replace(first, value=value, reading=read_indicator(first.name, value))
    values = {**state.values, "annual_goal": goal}
    return replace(state, values=values, indicators=tuple(rows))


def test_texts_naming_the_old_year_are_found_and_updated_in_one_go() -> None:
    definition = get_layout("2023").table_c
    _, state = _earlier("2023")
    state = _with_texts(
        state,
        goal="2024年度完成高标准农田建设，较12024年档案和2024元预算不变",
        value="2024年11月底前",
    )
    places = year_mentions(definition, state, 2024)
    assert places == ("年度绩效目标", f"年度绩效指标「{state.indicators[0].name}」")
    updated = with_year(state, 2024, 2025)
    assert (
        updated.values["annual_goal"] == "2025年度完成高标准农田建设，较12024年档案和2024元预算不变"
    )
    assert updated.indicators[0].value == "2025年11月底前"
    assert updated.indicators[0].reading == read_indicator(
        state.indicators[0].name, "2025年11月底前"
    )
    assert year_mentions(definition, updated, 2024) == ()
    assert {k: v for k, v in updated.values.items() if k.startswith("_done")} == {
        k: v for k, v in state.values.items() if k.startswith("_done")
    }


@given(st.text(alphabet="2024年度前后月底 ，0123456789元", max_size=40))
def test_after_the_update_no_text_names_the_old_year(text: str) -> None:
    definition = get_layout("2021").table_c
    state = FormState(values={"annual_goal": text})
    updated = with_year(state, 2024, 2025)
    assert year_mentions(definition, updated, 2024) == ()
    if not year_mentions(definition, state, 2024):
        assert updated == state


def test_changes_against_last_year_name_amounts_texts_and_indicators() -> None:
    source, target = get_layout("2021"), get_layout("2023")
    _, before = _earlier("2021")
    carried = carry_over(source.table_c, before, target.table_c).state
    rows = list(carried.indicators)
    dropped = rows.pop()
    rows[0] = replace(rows[0], value="≥20次")
    rows.append(IndicatorRow(level2=rows[0].level2, name="新建机耕道长度", value="≥3公里"))
    after = replace(
        carried,
        values={**carried.values, "amount": Decimal("35.5"), "direction": "高标准农田建设（二期）"},
        indicators=tuple(rows),
    )
    lines = changes_since(source.table_c, before, target.table_c, after)
    assert f"项目金额：{before.values['amount']} → 35.5" in lines
    assert f"支出方向（子项）：{before.values['direction']} → 高标准农田建设（二期）" in lines
    assert f"指标「{rows[0].name}」：{before.indicators[0].value} → ≥20次" in lines
    assert "新增指标「新建机耕道长度」：≥3公里" in lines
    assert f"删除指标「{dropped.name}」（上年：{dropped.value}）" in lines
    assert changes_since(source.table_c, before, source.table_c, before) == ()
