"""Departments of a round made up for the round picture's tests: forms in a chosen status and
indicators of a chosen quality, in either layout (the forms come from the definition files)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.loader import get_layout
from dialogs.parsing.indicator import read_indicator
from dialogs.state import FormState, FormStatus, IndicatorRow

MEASURABLE = (
    ("quantity", "开展农技培训场次", "≥24场"),
    ("quality", "培训档案归档率", "100%"),
    ("timeliness", "培训完成时间", "{year}年11月底前"),
    ("cost", "单场培训成本", "≤0.8万元"),
    ("social", "受训农户人数", "≥1500人"),
)
QUALITATIVE = (
    ("social", "农户种植技术水平", "明显提高"),
    ("sustainable", "培训长效机制", "逐步健全"),
    ("satisfaction", "受训农户评价", "良好"),
)
_IDS = itertools.count(1)


def indicators(measurable: int, qualitative: int, year: int) -> tuple[IndicatorRow, ...]:
    """`measurable` 定量 rows with a unit and `qualitative` 定性 rows (cycled if more are asked)."""
    chosen = list(itertools.islice(itertools.cycle(MEASURABLE), measurable))
    chosen += itertools.islice(itertools.cycle(QUALITATIVE), qualitative)
    rows = []
    for level2, name, value in chosen:
        text = value.format(year=year)
        rows.append(IndicatorRow(level2, name, text, reading=read_indicator(name, text)))
    return tuple(rows)


def department(
    name: str,
    *,
    layout: str = "2023",
    year: int = 2027,
    table_a: FormStatus | None = None,
    directions: Sequence[FormStatus] = (),
    measurable: int = 0,
    qualitative: int = 0,
) -> DepartmentFiling:
    """A department whose table A (if any) carries the indicators; its C tables have none."""
    rows = indicators(measurable, qualitative, year)
    a = (
        None
        if table_a is None
        else FiledForm(next(_IDS), FormState(indicators=rows, status=table_a), table_a)
    )
    cs = tuple(FiledForm(next(_IDS), FormState(status=s), s) for s in directions)
    return DepartmentFiling(name, year, get_layout(layout), a, cs)
