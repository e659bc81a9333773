"""The seed department filled through the bare engine (no storage): every value lands where the
definition says, the seed's defects are refused, and table B is computed from the C tables."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from dialogs.actions import Action, ActionKind, FilingContext, Outcome, SiblingDirection
from dialogs.catalogue import Code
from dialogs.engine import Engine
from dialogs.filing import FiledForm, compute_summary
from dialogs.loader import get_layout
from dialogs.state import FormState, FormStatus
from dialogs.values import Period, YearMonth
from tests.support.scripted import SeedScript, drive
from tests.support.seed import (
    DIRECTIONS,
    KEY_TASKS,
    SEED_DEPARTMENT,
    SEED_TOTAL_DEFECT,
    SEED_YEAR,
    TABLE_A_ANSWERS,
    TABLE_A_INDICATORS,
    direction_state,
    table_a_state,
)

LAYOUT = get_layout("2021")
CONTEXT = FilingContext(year=SEED_YEAR, department_name=SEED_DEPARTMENT)


class Filler:
    def __init__(self, engine: Engine, context: FilingContext = CONTEXT) -> None:
        self.engine = engine
        self.context = context
        self.state = engine.resume(FormState())

    def act(self, action: Action) -> tuple[Outcome, FormState]:
        outcome = self.engine.handle(self.state, action, self.context)
        self.state = outcome.state
        return outcome, self.state

    def answer(self, text: str) -> Outcome:
        return self.act(Action(ActionKind.ANSWER, text=text))[0]


def fill_table_a() -> FormState:
    filler = Filler(Engine(LAYOUT.table_a))
    script = SeedScript(TABLE_A_ANSWERS, {"key_tasks": KEY_TASKS}, TABLE_A_INDICATORS)
    return drive(script, filler.state, filler.act)


def fill_direction(index: int, context: FilingContext = CONTEXT) -> FormState:
    filler = Filler(Engine(LAYOUT.table_c), context)
    direction = DIRECTIONS[index]
    script = SeedScript(dict(direction.answers), {}, direction.indicators)
    return drive(script, filler.state, filler.act)


def comparable(state: FormState) -> tuple[object, ...]:
    rows = tuple((r.level2, r.name, r.value, r.not_applicable) for r in state.indicators)
    values = {k: v for k, v in state.values.items() if not k.startswith("_")}
    return values, state.groups, rows


def test_table_a_filled_through_engine_holds_every_seed_value() -> None:
    state = fill_table_a()
    assert comparable(state) == comparable(table_a_state())
    assert state.values["total"] == Decimal("267.59151")
    assert state.values["government_fund"] is None  # skipped, counted as 0


@pytest.mark.parametrize("index", range(len(DIRECTIONS)))
def test_each_direction_filled_through_engine(index: int) -> None:
    state = fill_direction(index)
    assert comparable(state) == comparable(direction_state(DIRECTIONS[index]))
    assert state.values["period"] == Period(YearMonth(2021, 1), YearMonth(2021, 12))


def test_seed_total_defect_is_refused_with_both_sides_and_difference() -> None:
    filler = Filler(Engine(LAYOUT.table_a))
    for text in (SEED_TOTAL_DEFECT, SEED_TOTAL_DEFECT):
        assert filler.answer(text).accepted
    filler.act(Action(ActionKind.SKIP))
    filler.act(Action(ActionKind.SKIP))
    assert filler.answer("177.59151").accepted
    before = filler.state
    outcome = filler.answer("90")
    assert not outcome.accepted and outcome.state == before
    [problem] = outcome.problems
    assert problem.code is Code.SUM_MISMATCH
    assert problem.params["sum"] == "267.59151"
    assert problem.params["total"] == "267.5915"
    assert problem.params["difference"] == "0.00001"
    assert "基本支出 177.59151 + 项目支出 90" in problem.message
    assert any(b.action.target == "f:total" for b in outcome.fix_buttons)


def test_correcting_the_total_and_its_income_part_resolves_the_mismatch() -> None:
    filler = Filler(Engine(LAYOUT.table_a))
    for text in (SEED_TOTAL_DEFECT, SEED_TOTAL_DEFECT):
        filler.answer(text)
    filler.act(Action(ActionKind.SKIP))
    filler.act(Action(ActionKind.SKIP))
    filler.answer("177.59151")
    refused = filler.answer("90")
    fix_total = next(b for b in refused.fix_buttons if b.action.target == "f:total")
    filler.act(fix_total.action)
    corrected = filler.answer("267.59151")
    # The total is kept, but the income side now disagrees: the user is shown how to fix it.
    assert corrected.accepted and [p.code for p in corrected.problems] == [Code.SUM_MISMATCH]
    assert filler.state.cursor == "f:project_expense"
    fix_income = next(b for b in corrected.fix_buttons if b.action.target == "f:general_budget")
    filler.act(fix_income.action)
    assert filler.answer("267.59151").accepted
    assert filler.state.cursor == "f:project_expense"
    assert filler.answer("90").accepted
    assert filler.state.cursor == "f:duties"


def test_table_b_computed_from_the_c_tables() -> None:
    forms = [FiledForm(i, fill_direction(i)) for i in range(len(DIRECTIONS))]
    summary = compute_summary(LAYOUT, forms)
    assert summary.total == Decimal(90)
    assert [(f.label, f.name, f.amount) for f in summary.funds] == [
        ("一", "业务性专项经费", Decimal(15)),
        ("二", "融媒体中心经费", Decimal(75)),
    ]
    assert [d.number for d in summary.funds[0].directions] == [1, 2, 3]


def _siblings() -> tuple[SiblingDirection, ...]:
    return tuple(
        SiblingDirection(
            form_id=i + 2,
            name=d.name,
            amount=Decimal(d.answers["amount"]),
            indicators=direction_state(d).indicators,
        )
        for i, d in enumerate(DIRECTIONS)
    )


def test_table_a_submits_when_project_expense_matches_the_directions() -> None:
    state = fill_table_a()
    context = FilingContext(SEED_YEAR, SEED_DEPARTMENT, directions=_siblings(), form_id=1)
    engine = Engine(LAYOUT.table_a)
    first = engine.handle(state, Action(ActionKind.SUBMIT), context)
    assert first.needs_confirmation and not first.accepted  # warnings are confirmed once
    assert all(not p.is_error for p in first.problems)
    done = engine.handle(state, Action(ActionKind.SUBMIT, target="confirmed"), context)
    assert done.accepted and done.state.status is FormStatus.SUBMITTED
    locked = engine.handle(done.state, Action(ActionKind.BACK), context)
    assert not locked.accepted and locked.problems[0].code is Code.FORM_LOCKED


def test_project_expense_against_directions_blocks_submit() -> None:
    state = fill_table_a()
    siblings = _siblings()[:-1]  # 宣传经费 (15) missing: 75 against 90
    context = FilingContext(SEED_YEAR, SEED_DEPARTMENT, directions=siblings, form_id=1)
    outcome = Engine(LAYOUT.table_a).handle(state, Action(ActionKind.SUBMIT), context)
    codes = [p.code for p in outcome.problems]
    assert not outcome.accepted
    assert Code.SUBMIT_BLOCKED in codes and Code.PROJECT_EXPENSE_MISMATCH in codes


def test_identical_directions_warn_at_review() -> None:
    from dialogs.review import build_review

    siblings = _siblings()
    media = siblings[4]
    context = FilingContext(SEED_YEAR, SEED_DEPARTMENT, directions=siblings, form_id=media.form_id)
    review = build_review(LAYOUT.table_c, direction_state(DIRECTIONS[4]), context)
    assert Code.INDICATOR_DIRECTIONS_IDENTICAL in [w.code for w in review.warnings]
    assert review.can_submit
    assert any(line.startswith("指标质量") for line in review.lines)


def test_duplicate_direction_name_is_refused() -> None:
    siblings = _siblings()
    context = FilingContext(SEED_YEAR, SEED_DEPARTMENT, directions=siblings, form_id=99)
    filler = Filler(Engine(LAYOUT.table_c), context)
    outcome = filler.answer(DIRECTIONS[0].name)
    assert not outcome.accepted and outcome.problems[0].code is Code.DIRECTION_DUPLICATE


LAYOUT_2023 = get_layout("2023")


def test_seed_in_the_2023_layout_asks_the_extra_columns_and_checks_weights() -> None:
    filler = Filler(Engine(LAYOUT_2023.table_a))
    answers = {**TABLE_A_ANSWERS, "overall_goal": "全面完成年度宣传思想工作任务。"}
    script = SeedScript(answers, {"key_tasks": KEY_TASKS}, TABLE_A_INDICATORS)
    asked: set[str] = set()

    def act(action: Action) -> tuple[Outcome, FormState]:
        asked.add(filler.state.cursor.split(":")[-1])
        return filler.act(action)

    state = drive(script, filler.state, act)
    assert {"explanation", "scoring", "weight"} <= asked  # asked only in this layout
    weights = [r.weight for r in state.indicators if not r.not_applicable]
    assert sum(weights, Decimal(0)) == 100
    context = FilingContext(SEED_YEAR, SEED_DEPARTMENT, directions=_siblings(), form_id=1)
    engine = Engine(LAYOUT_2023.table_a)
    assert engine.handle(state, Action(ActionKind.SUBMIT, target="confirmed"), context).accepted
    # One weight changed: the table no longer sums to 100 and cannot be submitted.
    first = next(r for r in state.indicators if not r.not_applicable)
    broken = [replace(r, weight=Decimal(1)) if r is first else r for r in state.indicators]
    refused = engine.handle(
        replace(state, indicators=tuple(broken)), Action(ActionKind.SUBMIT), context
    )
    assert not refused.accepted and Code.WEIGHT_SUM in [p.code for p in refused.problems]


def test_2021_layout_never_asks_the_2023_columns() -> None:
    filler = Filler(Engine(LAYOUT.table_a))
    script = SeedScript(TABLE_A_ANSWERS, {"key_tasks": KEY_TASKS}, TABLE_A_INDICATORS)
    asked: set[str] = set()

    def act(action: Action) -> tuple[Outcome, FormState]:
        asked.add(filler.state.cursor.split(":")[-1])
        return filler.act(action)

    drive(script, filler.state, act)
    assert not {"explanation", "scoring", "weight"} & asked


BAD_INPUTS = ["", "   ", "字" * 10_000, "宣传😀部", "宣传\x00部\x07", "=cmd|' /C calc'!A0"]


def _state_at(step: str) -> FormState:
    """Table A filled by the script up to `step` (the first time it comes up)."""
    filler = Filler(Engine(LAYOUT.table_a))
    script = SeedScript(TABLE_A_ANSWERS, {"key_tasks": KEY_TASKS}, TABLE_A_INDICATORS)
    for _ in range(200):
        if filler.state.cursor == step:
            return filler.state
        scripted = script.next_action(filler.state.cursor, filler.state)
        assert scripted is not None
        filler.act(scripted.action)
    raise AssertionError(step)


@pytest.mark.parametrize(
    "step", ["f:duties", "g:key_tasks:0:item", "i:quantity:0:name", "i:quantity:0:value"]
)
@pytest.mark.parametrize("text", BAD_INPUTS, ids=range(len(BAD_INPUTS)))
def test_bad_input_at_long_text_group_and_indicator_steps(step: str, text: str) -> None:
    state = _state_at(step)
    outcome = Engine(LAYOUT.table_a).handle(state, Action(ActionKind.ANSWER, text=text), CONTEXT)
    assert not outcome.accepted and outcome.state == state and not outcome.changed
    assert outcome.problems and all(p.is_error and p.message for p in outcome.problems)
