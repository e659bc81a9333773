"""The seed department's workbook: every seed value by its label, numbers, merges, borders,
print setup, formula-like text and the 2023 layout."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.worksheet.worksheet import Worksheet

from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.parsing.indicator import read_indicator
from dialogs.state import FormState, GroupRow, IndicatorRow
from dialogs.values import format_decimal
from exports import department_workbook
from tests.support.seed import (
    DIRECTIONS,
    EMPTY_VALUE_SUBSTITUTE,
    KEY_TASKS,
    SEED_DEPARTMENT,
    TABLE_A_ANSWERS,
    TABLE_A_INDICATORS,
    SeedIndicator,
    seed_filing,
)
from tests.support.sheets import covering, exact, find, find_one, load, merged_span, right_of

LEVEL2_LABELS = {
    "quantity": "产出数量",
    "quality": "产出质量",
    "timeliness": "产出时效",
    "cost": "产出成本",
    "economic": "经济效益",
    "social": "社会效益",
    "ecological": "生态效益",
    "sustainable": "可持续影响",
    "satisfaction": "社会公众及服务对象满意度",
}


@pytest.fixture(scope="module")
def seed_book() -> bytes:
    return department_workbook(seed_filing())


def _assert_indicators(ws: Worksheet, indicators: list[SeedIndicator]) -> None:
    header_row, level1_col = find_one(ws, "一级指标")
    columns = {ws.cell(row=header_row, column=c).value: c for c in range(1, ws.max_column + 1)}
    name_col, value_col, level2_col = columns["三级指标"], columns["指标值"], columns["二级指标"]
    for seed in indicators:
        rows = [r for r, c in find(ws, seed.name) if c == name_col and r > header_row]
        rows = [r for r in rows if covering(ws, r, level2_col) == LEVEL2_LABELS[seed.level2]]
        assert rows, f"{seed} not found on {ws.title}"
        value = ws.cell(row=rows[0], column=value_col).value
        assert value == (seed.value or EMPTY_VALUE_SUBSTITUTE)
        level1 = covering(ws, rows[0], level1_col)
        assert level1 == (
            "产出指标"
            if seed.level2 in ("quantity", "quality", "timeliness", "cost")
            else "效益指标"
        )


def test_sheets(seed_book: bytes) -> None:
    assert load(seed_book).sheetnames == [
        "表A",
        "表B",
        "表C1 文明建设和文明创建",
        "表C2 理论学习",
        "表C3 意识形态",
        "表C4 融媒体运营经费",
        "表C5 宣传经费",
    ]


def test_table_a_values_by_label(seed_book: bytes) -> None:
    ws = load(seed_book)["表A"]
    assert ws["A1"].value == "2021年部门整体支出绩效目标表"
    assert ws["A2"].value == f"填报单位：（盖章）{SEED_DEPARTMENT}"
    assert right_of(ws, "部门名称") == SEED_DEPARTMENT
    labels = {
        "total": "资金总额",
        "general_budget": "其中：一般公共预算拨款",
        "government_fund": "政府性基金拨款",
        "other_funds": "其他资金",
        "basic_expense": "其中：基本支出",
        "project_expense": "项目支出",
    }
    for key, label in labels.items():
        answer = TABLE_A_ANSWERS[key]
        value = right_of(ws, label)
        if answer is None:
            assert value is None
        else:
            assert exact(value) == Decimal(answer)
    row, col = find_one(ws, "资金总额")
    total_cell = ws.cell(row=row, column=col + 2)
    assert total_cell.data_type == "n" and total_cell.number_format == "0.00000"
    assert right_of(ws, "部门职责概述") == TABLE_A_ANSWERS["duties"]
    item_row, item_col = find_one(ws, "事项")
    unit_col = find_one(ws, "责任单位/科室")[1]
    goal_col = find_one(ws, "工作目标")[1]
    for offset, task in enumerate(KEY_TASKS, start=1):
        assert ws.cell(row=item_row + offset, column=item_col).value == task["item"]
        assert ws.cell(row=item_row + offset, column=unit_col).value == task["unit"]
        assert ws.cell(row=item_row + offset, column=goal_col).value == task["goal"]
    _assert_indicators(ws, TABLE_A_INDICATORS)


def test_table_c_values_by_label(seed_book: bytes) -> None:
    book = load(seed_book)
    for number, direction in enumerate(DIRECTIONS, start=1):
        ws = book[f"表C{number} {direction.name}"]
        answers = direction.answers
        assert ws["A1"].value == "2021年专项资金支出方向绩效目标表"
        assert ws["A2"].value == f"项目主管部门：（盖章）{SEED_DEPARTMENT}"
        assert ws["E2"].value == "金额单位：万元"
        assert right_of(ws, "支出方向（子项）") == answers["direction"]
        assert right_of(ws, "所属专项") == answers["special_fund"]
        assert exact(right_of(ws, "项目金额")) == Decimal(answers["amount"])
        assert right_of(ws, "项目实施期") == answers["period"]
        assert right_of(ws, "实施期绩效目标") == answers["period_goal"]
        assert right_of(ws, "年度绩效目标") == answers["annual_goal"]
        _assert_indicators(ws, list(direction.indicators))


def test_table_b_is_computed_with_numbers(seed_book: bytes) -> None:
    ws = load(seed_book)["表B"]
    assert ws["A1"].value == "2021年专项资金预算绩效目标汇总表"
    row, _ = find_one(ws, "合  计")
    assert ws.cell(row=row, column=3).data_type == "n"
    assert exact(ws.cell(row=row, column=3).value) == 90
    for label, name, amount in (("一", "业务性专项经费", 15), ("二", "融媒体中心经费", 75)):
        fund_row, _ = find_one(ws, name)
        assert ws.cell(row=fund_row, column=1).value == label
        cell = ws.cell(row=fund_row, column=3)
        assert cell.data_type == "n" and exact(cell.value) == amount
    for direction in DIRECTIONS:
        line, _ = find_one(ws, direction.name)
        assert exact(ws.cell(row=line, column=3).value) == Decimal(direction.answers["amount"])
        assert ws.cell(row=line, column=4).value == direction.answers["period_goal"]
        assert ws.cell(row=line, column=5).value == direction.answers["annual_goal"]
    assert [ws.cell(row=r, column=1).value for r in range(6, 12)] == [1, 2, 3, "二", 1, 2]


def test_merges_borders_fonts_and_print_setup(seed_book: bytes) -> None:
    book = load(seed_book)
    ws = book["表A"]
    assert merged_span(ws, 1, 1) == (1, 1, 1, 6)
    assert ws["A1"].font.bold and ws["A1"].font.sz > ws["A3"].font.sz
    budget_row, _ = find_one(ws, "年度预算申请（万元）")
    assert merged_span(ws, budget_row, 1) == (budget_row, 1, budget_row + 4, 1)
    tasks_row, _ = find_one(ws, "年度重点工作计划")
    assert merged_span(ws, tasks_row, 1) == (tasks_row, 1, tasks_row + len(KEY_TASKS), 1)
    block_row, _ = find_one(ws, "年度绩效指标")
    assert merged_span(ws, block_row, 1) == (block_row, 1, block_row + 9, 1)
    output_row, _ = find_one(ws, "产出指标")
    assert merged_span(ws, output_row, 2) == (output_row, 2, output_row + 3, 2)
    for merged in (find_one(ws, "按收入性质分"), find_one(ws, "按支出性质分")):
        assert merged_span(ws, *merged) is not None
    for sheet in book.worksheets:
        for line in sheet.iter_rows(min_row=3, max_row=sheet.max_row):
            for cell in line:
                if type(cell).__name__ == "MergedCell":
                    continue
                # Every sheet's table starts on row 3, under the title and header lines.
                border = cell.border
                sides = (border.left, border.right, border.top, border.bottom)
                assert all(side.style == "thin" for side in sides), (sheet.title, cell.coordinate)
                assert cell.font.name == "宋体" and cell.alignment.wrap_text
        setup = sheet.page_setup
        assert int(setup.paperSize) == int(sheet.PAPERSIZE_A4)
        assert setup.orientation == "portrait"
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)
        if sheet.title != "表B":
            # The title prints once; continued pages repeat the indicator column headings.
            heading, _ = find_one(sheet, "一级指标")
            assert sheet.print_title_rows == f"${heading}:${heading}"
        for row in range(3, sheet.max_row + 1):
            assert sheet.row_dimensions[row].height, (sheet.title, row)
    assert book["表B"].print_title_rows == "$1:$3"


def _with_formula_like(filing: DepartmentFiling) -> DepartmentFiling:
    assert filing.table_a is not None
    a = filing.table_a.state
    tasks = (GroupRow(cells=(("item", "-x"), ("unit", "@y"), ("goal", "+1"))),)
    rows = (IndicatorRow(level2="quantity", name="@y", value="=1+2", reading=None),)
    a = a.evolve(
        values={**a.values, "duties": "=cmd|' /C calc'!A0"},
        groups={"key_tasks": tasks},
        indicators=rows + a.indicators[1:],
    )
    c = filing.directions[0].state
    c = c.evolve(values={**c.values, "direction": "=cmd|' /C calc'!A0", "period_goal": "+1"})
    return replace(
        filing,
        table_a=FiledForm(form_id=1, state=a),
        directions=(FiledForm(form_id=2, state=c),),
    )


def test_formula_like_answers_are_text() -> None:
    book = load(department_workbook(_with_formula_like(seed_filing())))
    texts = {"=cmd|' /C calc'!A0", "+1", "-x", "@y", "=1+2"}
    seen = set()
    for ws in book.worksheets:
        for line in ws.iter_rows():
            for cell in line:
                if cell.value in texts:
                    assert cell.data_type == "s", (ws.title, cell.coordinate, cell.value)
                    seen.add(cell.value)
    assert seen == texts


def test_layout_2023_split_values() -> None:
    filing = seed_filing("2023")
    assert filing.table_a is not None
    state = filing.table_a.state
    rows = list(state.indicators)
    index = next(i for i, r in enumerate(rows) if r.level2 == "social")
    rows[index] = replace(
        rows[index], value="≥95%", reading=read_indicator(rows[index].name, "≥95%")
    )
    filing = replace(filing, table_a=FiledForm(1, state.evolve(indicators=tuple(rows))))
    ws = load(department_workbook(filing))["表A"]
    assert ws.page_setup.orientation == "landscape"
    header_row, _ = find_one(ws, "一级指标")
    header = [ws.cell(row=header_row, column=c).value for c in range(2, ws.max_column + 1)]
    assert header == [
        "一级指标",
        "二级指标",
        "三级指标",
        "指标值类型",
        "指标值",
        "计量单位",
        "指标解释",
        "评（扣）分标准",
        "权重",
        "备注",
    ]
    col = {label: c for c, label in enumerate(header, start=2)}
    social_row = next(r for r, c in find(ws, rows[index].name) if c == col["三级指标"])
    assert covering(ws, social_row, col["二级指标"]) == "社会效益指标"
    assert ws.cell(row=social_row, column=col["指标值"]).value == "≥95"
    assert ws.cell(row=social_row, column=col["计量单位"]).value == "%"
    assert ws.cell(row=social_row, column=col["指标值类型"]).value == "定量"
    weight = ws.cell(row=social_row, column=col["权重"])
    assert weight.data_type == "n" and exact(weight.value) == rows[index].weight
    quality_row = next(r for r, c in find(ws, "预算资金使用率") if c == col["三级指标"])
    assert ws.cell(row=quality_row, column=col["指标值"]).value == "100"
    na_row = next(
        r
        for r in range(header_row, ws.max_row + 1)
        if covering(ws, r, col["二级指标"]) == "经济效益指标"
    )
    assert ws.cell(row=na_row, column=col["三级指标"]).value == "/"
    assert ws.cell(row=na_row, column=col["指标值"]).value == "/"
    satisfaction_row, level1_col = find_one(ws, "满意度指标")
    assert level1_col == 2 and satisfaction_row > na_row
    assert right_of(ws, "部门（单位）名称") == SEED_DEPARTMENT


def test_merged_ranges_keep_their_outer_borders(seed_book: bytes) -> None:
    for ws in load(seed_book).worksheets:
        for merged in ws.merged_cells.ranges:
            if merged.min_row < 3:
                continue  # the title and header lines have no borders
            corner = ws.cell(row=merged.max_row, column=merged.max_col)
            assert corner.border.right.style == "thin", (ws.title, merged.coord)
            assert corner.border.bottom.style == "thin", (ws.title, merged.coord)


def test_an_empty_filing_still_exports() -> None:
    seed = seed_filing()
    empty = DepartmentFiling(department="某部门", year=2022, layout=seed.layout, table_a=None)
    book = load(department_workbook(empty))
    assert book.sheetnames == ["表A", "表B"]
    assert book["表A"]["A1"].value == "2022年部门整体支出绩效目标表"
    row, _ = find_one(book["表B"], "合  计")
    assert book["表B"].cell(row=row, column=3).value == 0
    unnamed = replace(empty, directions=(FiledForm(form_id=7, state=FormState()),))
    assert load(department_workbook(unnamed)).sheetnames == ["表A", "表B", "表C1"]


@settings(max_examples=40, deadline=None)
@given(
    st.decimals(
        min_value=Decimal(0),
        max_value=Decimal("999999999.999999"),
        places=6,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_amounts_survive_the_workbook_exactly(amount: Decimal) -> None:
    seed = seed_filing()
    assert seed.table_a is not None
    state = seed.table_a.state
    state = state.evolve(values={**state.values, "basic_expense": amount})
    filing = replace(seed, table_a=FiledForm(form_id=1, state=state), directions=())
    ws = load(department_workbook(filing))["表A"]
    row, col = find_one(ws, "其中：基本支出")
    cell = ws.cell(row=row, column=col + 1)
    assert cell.data_type == "n"
    assert exact(cell.value) == amount
    decimals = len(format_decimal(amount).partition(".")[2])
    assert cell.number_format == ("0" if decimals == 0 else "0." + "0" * decimals)
