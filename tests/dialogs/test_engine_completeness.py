"""Issue 11 through the engine, in both layouts, on a county department of our own:
不适用 typed at a 指标值 step is offered right there, and a form is complete before it is submitted
(every 二级指标 has a row or the explicit 不适用 choice)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dialogs.actions import Action, ActionKind, FilingContext, SiblingDirection
from dialogs.catalogue import Code
from dialogs.definition import TableKind
from dialogs.engine import Engine
from dialogs.loader import get_layout
from dialogs.state import FormState, FormStatus, IndicatorRow
from dialogs.steps import StepKind, done_key
from dialogs.values import Nature
from tests.support.county import DEPARTMENT, YEAR, county_filing

LAYOUTS = ["2021", "2023"]


def _table_a(layout_key: str) -> tuple[Engine, FormState, FilingContext]:
    filing = county_filing(layout_key)
    assert filing.table_a is not None
    direction = filing.directions[0].state
    sibling = SiblingDirection(
        form_id=2,
        name=str(direction.values["direction"]),
        amount=direction.values["amount"],  # type: ignore[arg-type]
        indicators=direction.indicators,
    )
    context = FilingContext(YEAR, DEPARTMENT, directions=(sibling,), form_id=1)
    return Engine(get_layout(layout_key).table_a), filing.table_a.state, context


def _without(state: FormState, *keys: str) -> FormState:
    """The rows of these 二级指标 gone (their 权重, if any, moved to the first row)."""
    kept = [row for row in state.indicators if row.level2 not in keys]
    freed = sum(row.weight or 0 for row in state.indicators if row.level2 in keys)
    if kept[0].weight is not None:
        kept[0] = replace(kept[0], weight=kept[0].weight + freed)
    values = {k: v for k, v in state.values.items()
              if k not in {done_key(StepKind.INDICATOR_MORE, key) for key in keys}}
    return replace(state, indicators=tuple(kept), values=values)


def _label(layout_key: str, key: str) -> str:
    return get_layout(layout_key).table(TableKind.A).indicators.level2(key).label


@pytest.mark.parametrize("layout_key", LAYOUTS)
def test_the_complete_form_submits(layout_key: str) -> None:
    engine, state, context = _table_a(layout_key)
    done = engine.handle(state, Action(ActionKind.SUBMIT, target="confirmed"), context)
    assert done.accepted, [p.message for p in done.problems]
    assert done.state.status is FormStatus.SUBMITTED


@pytest.mark.parametrize("layout_key", LAYOUTS)
def test_submit_is_refused_with_every_unvisited_level2(layout_key: str) -> None:
    engine, state, context = _table_a(layout_key)
    open_state = _without(state, "ecological", "sustainable")
    outcome = engine.handle(open_state, Action(ActionKind.SUBMIT, target="confirmed"), context)
    assert not outcome.accepted and not outcome.changed
    codes = [p.code for p in outcome.problems]
    assert codes[0] is Code.SUBMIT_BLOCKED
    assert codes.count(Code.INDICATOR_LEVEL2_EMPTY) == 1
    missing = next(p for p in outcome.problems if p.code is Code.INDICATOR_LEVEL2_EMPTY)
    assert missing.is_error
    # the list names both, with this layout's labels
    assert missing.params["level2"] == (
        f"「{_label(layout_key, 'ecological')}」、「{_label(layout_key, 'sustainable')}」"
    )
    assert missing.fix_step == "i:ecological:0:name"
    # the explicit choice completes the form
    with_choice = replace(
        open_state,
        indicators=(*open_state.indicators, IndicatorRow.not_applicable_row("ecological"),
                    IndicatorRow.not_applicable_row("sustainable")),
    )
    done = engine.handle(with_choice, Action(ActionKind.SUBMIT, target="confirmed"), context)
    assert done.accepted, [p.message for p in done.problems]


def _at_value(layout_key: str, key: str) -> tuple[Engine, FormState, FilingContext]:
    """A 二级指标 opened by typing its 三级指标; the cursor at its 指标值."""
    engine, state, context = _table_a(layout_key)
    state = replace(_without(state, key), cursor=f"i:{key}:0:name")
    typed = engine.handle(state, Action(ActionKind.ANSWER, text="秸秆还田减排量"), context)
    assert typed.accepted
    assert typed.state.cursor == f"i:{key}:0:value"
    return engine, typed.state, context


@pytest.mark.parametrize("layout_key", LAYOUTS)
@pytest.mark.parametrize("text", ["/", "／", "无", "不适用", "不涉及", "无直接经济效益"])
def test_not_applicable_typed_at_a_value_is_offered_there(layout_key: str, text: str) -> None:
    engine, state, context = _at_value(layout_key, "ecological")
    prompt = engine.prompt(state, context)
    assert "本项不适用" in [b.label for b in prompt.buttons]

    refused = engine.handle(state, Action(ActionKind.ANSWER, text=text), context)
    assert not refused.accepted and refused.state == state  # the 三级指标 stays
    assert [p.code for p in refused.problems] == [Code.INDICATOR_VALUE_NOT_APPLICABLE]
    assert refused.problems[0].params["level2"] == _label(layout_key, "ecological")
    again = engine.prompt(refused.state, context)
    choice = next(b for b in again.buttons if b.label == "本项不适用")

    chosen = engine.handle(refused.state, choice.action, context)
    assert chosen.accepted
    rows = chosen.state.rows_of("ecological")
    assert len(rows) == 1 and rows[0].not_applicable
    assert rows[0].reading is not None and rows[0].reading.nature is Nature.NOT_APPLICABLE
    assert not chosen.state.cursor.startswith("i:ecological:0")
    done = engine.handle(chosen.state, Action(ActionKind.SUBMIT, target="confirmed"), context)
    assert done.accepted, [p.message for p in done.problems]


@pytest.mark.parametrize("layout_key", LAYOUTS)
def test_a_real_value_after_the_offer_keeps_the_typed_name(layout_key: str) -> None:
    engine, state, context = _at_value(layout_key, "ecological")
    refused = engine.handle(state, Action(ActionKind.ANSWER, text="/"), context)
    back = engine.handle(refused.state, Action(ActionKind.BACK), context)
    assert engine.prompt(back.state, context).text.endswith("当前：秸秆还田减排量")
    forward = engine.handle(back.state, Action(ActionKind.ANSWER, text="秸秆还田减排量"), context)
    answered = engine.handle(forward.state, Action(ActionKind.ANSWER, text="≥2万吨"), context)
    assert answered.accepted
    row = answered.state.rows_of("ecological")[0]
    assert (row.name, row.value) == ("秸秆还田减排量", "≥2万吨")
    assert row.reading is not None and row.reading.sure


@pytest.mark.parametrize("layout_key", LAYOUTS)
def test_a_second_row_offers_its_deletion_instead(layout_key: str) -> None:
    engine, state, context = _table_a(layout_key)
    count = len(state.rows_of("quantity"))
    state = replace(state, cursor=f"i:quantity:{count}:name")
    typed = engine.handle(state, Action(ActionKind.ANSWER, text="新增指标"), context)
    assert typed.accepted and typed.state.cursor == f"i:quantity:{count}:value"
    assert "本项不适用" not in [b.label for b in engine.prompt(typed.state, context).buttons]
    refused = engine.handle(typed.state, Action(ActionKind.ANSWER, text="不适用"), context)
    assert [p.code for p in refused.problems] == [Code.INDICATOR_ROW_NOT_APPLICABLE]
    (fix,) = refused.fix_buttons
    listing = engine.handle(refused.state, fix.action, context)
    assert listing.accepted and listing.state.cursor.startswith("i:quantity:more")
    # the not-applicable action itself is refused on such a row
    wrong = engine.handle(typed.state, Action(ActionKind.NOT_APPLICABLE), context)
    assert not wrong.accepted
