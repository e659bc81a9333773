"""What the user typed is what the table prints (issue 11), in both layouts.

A department and year of our own (not the seed) fill 指标值 of every shape a department types:
calendar deadlines, durations, ranges, rates and compound units, large units, changes against
last year, percentages, grades and long sentences. Export → import → export must keep every
typed text: in the 2021 layout as the 指标值 cell, in the 2023 layout as 指标值 followed by
计量单位 (a calendar deadline whole in 指标值).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from openpyxl.worksheet.worksheet import Worksheet

from dialogs.definition import IndicatorColumn
from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.loader import get_layout
from dialogs.parsing.indicator import read_indicator
from dialogs.state import FormState, GroupRow, IndicatorRow
from dialogs.steps import StepKind, done_key
from dialogs.values import Nature, Period, YearMonth
from exports import department_workbook
from exports.importer import import_workbook
from tests.exports.sheets import dump, find_one, load

DEPARTMENT = "青禾县农业农村局"
YEAR = 2026

# (二级 key, 三级指标, 指标值 as typed)
TABLE_A_ROWS = [
    ("quantity", "高标准农田建设面积", "≥1.2万亩"),
    ("quantity", "入户技术指导频次", "≥2次/月"),
    ("quantity", "培训农民人次", "1800人次"),
    ("quantity", "秸秆综合利用量", "≥5万吨"),
    ("quality", "工程验收合格率", "≥95%"),
    ("quality", "化肥施用强度", "50公斤/亩"),
    ("quality", "农产品抽检合格率", "98%以上"),
    ("timeliness", "项目完成时间", "2026年11月底前"),
    ("timeliness", "资金拨付时间", "11月底前"),
    ("timeliness", "招标完成时间", "2026年6月30日前"),
    ("timeliness", "中期评估时间", "第三季度末前"),
    ("timeliness", "设备安装周期", "12个月内"),
    ("cost", "亩均建设成本", "≤420元/亩"),
    ("cost", "户均改厕补助", "≤800元/户"),
    ("cost", "道路养护单位成本", "≥3万元/公里"),
    ("economic", "村集体经济收入", "同比增长5%"),
    ("economic", "带动农户增收", "3-5万元"),
    ("social", "群众知晓率", "比上年提高2个百分点"),
    ("social", "服务质量评价", "良好"),
    ("ecological", "单位产值能耗", "较上年下降3%"),
    ("sustainable", "长效管护机制", (
        "建立县、乡、村三级管护责任体系，明确管护主体、管护责任和管护经费，"
        "确保工程长期发挥效益，并纳入年度乡村振兴考核。"
    )),
    ("satisfaction", "受益农户满意度", "90%-95%"),
]
DIRECTION_ROWS = [
    ("quantity", "新建冷链仓储", "不少于十二座"),
    ("quantity", "补贴发放对象", "1200元/人·月"),
    ("quality", "仓储设施完好率", "１００％"),
    ("timeliness", "建设完成时间", "2026年第二季度末前完成"),
    ("cost", "单库建设成本", "不超过15元/立方米"),
    ("economic", "冷链损耗率", "较2025年下降10%以上"),
    ("social", "带动就业", "≥ 30 人"),
    ("ecological", "生态效益", "/"),
    ("sustainable", "设施使用年限", "10年以上"),
    ("satisfaction", "合作社满意度", "≥90%"),
]


def _rows(layout_key: str, typed: list[tuple[str, str, str]]) -> tuple[IndicatorRow, ...]:
    indicators = get_layout(layout_key).table_a.indicators
    asked = tuple(spec.column.value for spec in indicators.asked_columns())
    weighted = indicators.has(IndicatorColumn.WEIGHT)
    applicable = [entry for entry in typed if entry[2] != "/"]
    share = Decimal(100) / len(applicable)
    rows: list[IndicatorRow] = []
    for index, (key, name, value) in enumerate(typed):
        if value == "/":
            rows.append(IndicatorRow.not_applicable_row(key))
            continue
        weight = None
        if weighted:  # whole numbers summing to 100
            weight = Decimal(int(share)) + (100 - int(share) * len(applicable) if index == 0 else 0)
        rows.append(
            IndicatorRow(
                level2=key,
                name=name,
                value=value,
                reading=read_indicator(name, value),
                weight=weight,
                explanation=f"考核{name}" if indicators.has(IndicatorColumn.EXPLANATION) else None,
                scoring="未达目标酌情扣分" if indicators.has(IndicatorColumn.SCORING) else None,
                visited=asked,
            )
        )
    return tuple(rows)


def _done(layout_key: str) -> dict[str, str]:
    indicators = get_layout(layout_key).table_a.indicators
    return {done_key(StepKind.INDICATOR_MORE, l2.key): "1" for _, l2 in indicators.level2s()}


def _filing(layout_key: str) -> DepartmentFiling:
    table_a = FormState(
        values={
            "total": Decimal("1520.35"),
            "general_budget": Decimal("1500"),
            "government_fund": Decimal("20.35"),
            "other_funds": None,
            "basic_expense": Decimal("1120.35"),
            "project_expense": Decimal("400"),
            "duties": "负责全县农业农村发展规划、农田建设和农产品质量安全监管。",
            done_key(StepKind.GROUP_MORE, "key_tasks"): "1",
            **_done(layout_key),
        },
        groups={"key_tasks": (GroupRow((("item", "高标准农田建设"), ("unit", "农田建设股"),
                                        ("goal", "2026年11月底前完成1.2万亩。"))),)},
        indicators=_rows(layout_key, TABLE_A_ROWS),
        cursor="review",
    )
    direction = FormState(
        values={
            "direction": "冷链物流设施建设",
            "special_fund": "农业产业发展专项",
            "amount": Decimal("400"),
            "period": Period(YearMonth(YEAR, 1), YearMonth(YEAR, 12)),
            "period_goal": "建成覆盖全县的冷链仓储网络。",
            "annual_goal": "新建冷链仓储不少于十二座。",
            **_done(layout_key),
        },
        indicators=_rows(layout_key, DIRECTION_ROWS),
        cursor="review",
    )
    if layout_key == "2023":  # the 2023 table A also asks 年度总体绩效目标
        goal = "完成高标准农田建设1.2万亩，农民人均可支配收入同比增长5%。"
        table_a = table_a.evolve(values={**table_a.values, "overall_goal": goal})
    return DepartmentFiling(
        department=DEPARTMENT,
        year=YEAR,
        layout=get_layout(layout_key),
        table_a=FiledForm(1, table_a),
        directions=(FiledForm(2, direction),),
    )


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
    filing = _filing(layout_key)
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
    book = load(department_workbook(_filing("2023")))
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
