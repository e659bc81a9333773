"""The 权重 step's running total (2023 layout): the other rows' weights and what is left."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dialogs.prompts import weight_total_line
from dialogs.state import FormState, IndicatorRow
from dialogs.steps import Step, StepKind


def row(level2: str, weight: str | None, *, not_applicable: bool = False) -> IndicatorRow:
    if not_applicable:
        return IndicatorRow.not_applicable_row(level2)
    return IndicatorRow(level2, "指标", "≥1次", weight=Decimal(weight) if weight else None)


STATE = FormState(
    indicators=(
        row("quantity", "20"),
        row("quantity", "15.5"),
        row("quality", None),
        row("economic", None, not_applicable=True),
        row("social", "30"),
    )
)


@pytest.mark.parametrize(
    ("key", "index", "expected"),
    [
        ("quality", 0, "其他指标已填权重合计 65.5，还差 34.5 达到 100。"),
        ("quantity", 1, "其他指标已填权重合计 50，还差 50 达到 100。"),  # editing row 2
        ("social", 0, "其他指标已填权重合计 35.5，还差 64.5 达到 100。"),
        ("satisfaction", 0, "其他指标已填权重合计 65.5，还差 34.5 达到 100。"),
    ],
)
def test_the_total_leaves_out_the_row_asked(key: str, index: int, expected: str) -> None:
    step = Step(StepKind.INDICATOR_CELL, key, index, "weight")
    assert weight_total_line(STATE, step) == expected


def test_first_weight_full_and_over() -> None:
    step = Step(StepKind.INDICATOR_CELL, "quantity", 0, "weight")
    assert "第一个权重" in weight_total_line(FormState(), step)
    full = FormState(indicators=(row("quantity", "40"), row("social", "60")))
    last = Step(StepKind.INDICATOR_CELL, "cost", 0, "weight")
    assert "已达到 100" in weight_total_line(full, last)
    over = FormState(indicators=(row("quantity", "70"), row("social", "60")))
    assert "已超出 100（多 30）" in weight_total_line(over, last)
