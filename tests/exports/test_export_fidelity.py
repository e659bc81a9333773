"""What the user typed is what the table prints (issue 11), in both layouts.

A department and year of our own (tests/support/county.py) with 指标值 of every shape.
Export → import → export must keep every typed text: in the 2021 layout as the 指标值 cell,
in the 2023 layout as 指标值 followed by 计量单位 (a calendar deadline whole in 指标值).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl.worksheet.worksheet import Worksheet

from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.loader import get_layout
from dialogs.values import Nature
from exports import department_workbook
from exports.importer import import_workbook
from tests.support.county import (
    DEPARTMENT,
    DIRECTION_ROWS,
    TABLE_A_ROWS,
    YEAR,
    county_filing,
    indicator_rows,
)
from tests.support.sheets import dump, find_one, load


def _printed_values(ws: Worksheet) -> list[tuple[str, str]]:
    """(指标值, 计量单位) of each indicator row of a sheet (计量单位 '' when not apart)."""
    header_row, _ = find_one(ws, "一级指标")
    labels = {ws.cell(row=header_row, column=c).value: c for c in range(1, ws.max_column + 1)}
    value_col, unit_col = labels["指标值"], labels.get("计量单位")
    shown = []
    for row in range(header_row + 1, ws.max_row + 1):
        value = ws.cell(row=row, column=value_col).value
        if value is None:
            continue
        unit = ws.cell(row=row, column=unit_col).value if unit_col else None
        shown.append((str(value), str(unit or "")))
    return shown


@pytest.mark.parametrize("layout_key", ["2021", "2023"])
def test_every_typed_value_is_printed_and_survives_a_round_trip(layout_key: str) -> None:
    filing = county_filing(layout_key)
    first = department_workbook(filing)
    book = load(first)
    direction = next(ws for ws in book.worksheets if ws.title.startswith("表C"))
    sheets = {"A": book["表A"], "C": direction}
    for kind, typed in (("A", TABLE_A_ROWS), ("C", DIRECTION_ROWS)):
        printed = _printed_values(sheets[kind])
        assert len(printed) == len(typed)
        for (value, unit), (_, _, entered) in zip(printed, typed, strict=True):
            # the typed text whole, or split just before its unit
            assert entered in (value, value + unit), (kind, entered, value, unit)

    imported = import_workbook(first, get_layout(layout_key), DEPARTMENT, YEAR)
    assert isinstance(imported, DepartmentFiling), imported
    assert imported.table_a is not None and filing.table_a is not None
    pairs = [(filing.table_a, imported.table_a), *zip(filing.directions, imported.directions,
                                                       strict=True)]
    for before, after in pairs:
        typed = [(row.level2, row.name, row.value) for row in before.state.indicators]
        assert [(row.level2, row.name, row.value) for row in after.state.indicators] == typed
        for old, new in zip(before.state.indicators, after.state.indicators, strict=True):
            assert new.reading is not None and old.reading is not None
            assert (new.reading.nature, new.reading.comparator, new.reading.number,
                    new.reading.unit) == (old.reading.nature, old.reading.comparator,
                                          old.reading.number, old.reading.unit)
    assert dump(department_workbook(imported)) == dump(first)


def test_2023_columns_of_a_date_a_rate_and_a_change() -> None:
    book = load(department_workbook(county_filing("2023")))
    ws = book["表A"]
    header_row, _ = find_one(ws, "一级指标")
    labels = {ws.cell(row=header_row, column=c).value: c for c in range(1, ws.max_column + 1)}

    def cells(name: str) -> tuple[object, object, object]:
        row, _ = find_one(ws, name)
        return tuple(ws.cell(row=row, column=labels[label]).value  # type: ignore[return-value]
                     for label in ("指标值类型", "指标值", "计量单位"))

    assert cells("项目完成时间") == ("定量", "2026年11月底前", None)
    assert cells("中期评估时间") == ("定量", "第三季度末前", None)
    assert cells("亩均建设成本") == ("定量", "≤420", "元/亩")
    assert cells("道路养护单位成本") == ("定量", "≥3", "万元/公里")
    assert cells("秸秆综合利用量") == ("定量", "≥5", "万吨")
    assert cells("村集体经济收入") == ("定量", "同比增长5", "%")
    assert cells("服务质量评价") == ("定性", "良好", None)
    assert cells("设备安装周期") == ("定量", "12个月内", "个月")
    assert Nature.QUANTITATIVE.value == "定量"


_SHAPES = st.one_of(
    st.builds(
        lambda symbol, number, unit, per: f"{symbol}{number}{unit}{per}",
        st.sampled_from(["", "≥", "≤", "不低于", "不超过", "较上年下降", "同比增长"]),
        st.integers(min_value=0, max_value=99_999),
        st.sampled_from(["%", "次", "人次", "万吨", "万元", "元", "个百分点", "亩", "个月"]),
        st.sampled_from(["", "/亩", "/户", "/月", "/人·月"]),
    ),
    st.builds(
        lambda year, month, words: f"{year}年{month}月{words}",
        st.integers(min_value=2020, max_value=2035),
        st.integers(min_value=1, max_value=12),
        st.sampled_from(["底前", "底前完成", "30日前", "前"]),
    ),
    st.builds(lambda n, unit: f"{n}{unit}以上", st.integers(1, 500), st.sampled_from(["次", "%"])),
    st.sampled_from(["良好", "优", "90%-95%", "第三季度末前", "12个月内", "按期完成建设任务。"]),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # an export is slow to shrink
@given(st.sampled_from(["2021", "2023"]), st.lists(_SHAPES, min_size=1, max_size=6))
def test_any_typed_values_survive_export_and_import(layout_key: str, values: list[str]) -> None:
    filing = county_filing(layout_key)
    assert filing.table_a is not None
    keys = ["quantity", "quality", "timeliness", "cost", "social", "sustainable"]
    typed = [(keys[i], f"考核项目{i + 1}", value) for i, value in enumerate(values)]
    own = {key for key, _, _ in typed}
    kept = [(r.level2, r.name, r.value) for r in filing.table_a.state.indicators
            if r.level2 not in own and not r.not_applicable]
    order = [l2.key for _, l2 in get_layout(layout_key).table_a.indicators.level2s()]
    entered = sorted(typed + kept, key=lambda entry: order.index(entry[0]))  # as printed
    rows = indicator_rows(layout_key, entered)
    state = filing.table_a.state.evolve(indicators=rows)
    filing = replace(filing, table_a=FiledForm(1, state))
    first = department_workbook(filing)
    imported = import_workbook(first, get_layout(layout_key), DEPARTMENT, YEAR)
    assert isinstance(imported, DepartmentFiling), imported
    assert imported.table_a is not None
    after = [(r.level2, r.name, r.value) for r in imported.table_a.state.indicators]
    assert after == [(r.level2, r.name, r.value) for r in rows]
    assert dump(department_workbook(imported)) == dump(first)
