"""Grid tests without files: positions of labels and values, merges, styles, heights, names."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dialogs.loader import get_layout
from exports.blocks import column_widths, spans
from exports.grid import Cell, Grid, amount_style, decimals_of
from exports.names import consolidated_file_name, department_file_name, sheet_name
from exports.table_b import table_b_grid
from exports.tables import department_grids, table_a_grid
from exports.text_width import text_lines
from tests.support.seed import DIRECTIONS, KEY_TASKS, SEED_DEPARTMENT, seed_filing


def _at(grid: Grid, value: str) -> Cell:
    found = list(grid.find(value))
    assert found, f"{value!r} not in grid {grid.name}"
    return found[0]


def _right_of(grid: Grid, label: str) -> Cell:
    cell = _at(grid, label)
    right = grid.at(cell.row, cell.last_col + 1)
    assert right is not None, f"nothing right of {label!r}"
    return right


def test_table_a_title_header_and_budget_positions() -> None:
    grid = table_a_grid(seed_filing())
    title = grid.at(1, 1)
    assert title is not None and title.value == "2021年部门整体支出绩效目标表"
    assert title.cols == 6 and title.style == "title"
    assert grid.value(2, 1) == f"填报单位：（盖章）{SEED_DEPARTMENT}"
    assert _right_of(grid, "部门名称").value == SEED_DEPARTMENT
    assert _right_of(grid, "资金总额").value == Decimal("267.59151")
    assert _right_of(grid, "其中：一般公共预算拨款").value == Decimal("267.59151")
    assert _right_of(grid, "其中：基本支出").value == Decimal("177.59151")
    assert _right_of(grid, "项目支出").value == Decimal("90")
    assert _right_of(grid, "政府性基金拨款").value is None
    assert _right_of(grid, "其他资金").value is None
    budget = _at(grid, "年度预算申请（万元）")
    total = _at(grid, "资金总额")
    other = _at(grid, "其他资金")
    assert budget.col == 1 and budget.row == total.row and budget.last_row == other.row
    income, expense = _at(grid, "按收入性质分"), _at(grid, "按支出性质分")
    assert income.row == expense.row and income.last_col + 1 == expense.col
    assert _at(grid, "其中：一般公共预算拨款").col == income.col
    assert _at(grid, "其中：基本支出").col == expense.col


def test_table_a_key_tasks_block() -> None:
    grid = table_a_grid(seed_filing())
    item, unit, goal = _at(grid, "事项"), _at(grid, "责任单位/科室"), _at(grid, "工作目标")
    assert item.row == unit.row == goal.row
    assert item.col < unit.col < goal.col
    label = _at(grid, "年度重点工作计划")
    assert label.col == 1 and label.row == item.row and label.rows == len(KEY_TASKS) + 1
    for offset, task in enumerate(KEY_TASKS, start=1):
        assert grid.value(item.row + offset, item.col) == task["item"]
        assert grid.value(item.row + offset, unit.col) == task["unit"]
        assert grid.value(item.row + offset, goal.col) == task["goal"]


def test_indicator_block_merges_levels() -> None:
    grid = table_a_grid(seed_filing())
    header = _at(grid, "一级指标")
    assert [grid.value(header.row, c) for c in range(2, 7)] == [
        "一级指标",
        "二级指标",
        "三级指标",
        "指标值",
        "备注",
    ]
    block = _at(grid, "年度绩效指标")
    assert block.col == 1 and block.row == header.row and block.rows == 10
    output, benefit = _at(grid, "产出指标"), _at(grid, "效益指标")
    assert (output.row, output.rows) == (header.row + 1, 4)
    assert (benefit.row, benefit.rows) == (header.row + 5, 5)
    economic = _at(grid, "经济效益")
    assert grid.value(economic.row, 4) == "/" and grid.value(economic.row, 5) == "/"


def test_several_rows_under_one_level2_merge_the_level2_label() -> None:
    filing = seed_filing()
    assert filing.table_a is not None
    state = filing.table_a.state
    extra = next(r for r in state.indicators if r.level2 == "quality")
    rows = list(state.indicators)
    rows.insert(
        rows.index(extra) + 1, extra.__class__(level2="quality", name="第二行", value="≥1次")
    )
    changed = filing.table_a.__class__(form_id=1, state=state.evolve(indicators=tuple(rows)))
    grid = table_a_grid(filing.__class__(**{**filing.__dict__, "table_a": changed}))
    quality = _at(grid, "产出质量")
    assert quality.rows == 2
    assert grid.value(quality.row + 1, 4) == "第二行"
    assert _at(grid, "产出指标").rows == 5


def test_table_c_pairs_and_goals() -> None:
    filing = seed_filing()
    grids = department_grids(filing)
    c = grids[2]
    assert c.name == "表C1 文明建设和文明创建"
    first = DIRECTIONS[0].answers
    assert c.value(1, 1) == "2021年专项资金支出方向绩效目标表"
    assert c.value(2, 5) == "金额单位：万元"
    assert _right_of(c, "支出方向（子项）").value == first["direction"]
    assert _right_of(c, "所属专项").value == first["special_fund"]
    assert _right_of(c, "项目金额").value == Decimal(first["amount"])
    assert _right_of(c, "项目实施期").value == "2021.1-2021.12"
    assert _right_of(c, "实施期绩效目标").value == first["period_goal"]
    assert _right_of(c, "年度绩效目标").value == first["annual_goal"]
    assert _at(c, "支出方向（子项）").row == _at(c, "所属专项").row


def test_table_b_rows() -> None:
    grid = table_b_grid(seed_filing(), "表B")
    assert [grid.value(3, c) for c in range(1, 6)] == [
        "序号",
        "支出方向（子项）",
        "金额",
        "实施期绩效目标",
        "年度绩效目标",
    ]
    assert grid.value(4, 2) == "合  计" and grid.value(4, 3) == Decimal(90)
    assert (grid.value(5, 1), grid.value(5, 2), grid.value(5, 3)) == (
        "一",
        "业务性专项经费",
        Decimal(15),
    )
    assert grid.value(6, 1) == Decimal(1) and grid.value(6, 2) == "文明建设和文明创建"
    assert (grid.value(9, 1), grid.value(9, 3)) == ("二", Decimal(75))
    assert grid.value(11, 2) == "宣传经费" and grid.value(11, 1) == Decimal(2)
    assert grid.print_title_rows == (1, 3)


def test_amount_styles_show_exactly_the_entered_decimals() -> None:
    assert decimals_of(Decimal("267.59151")) == 5
    assert decimals_of(Decimal("90.00")) == 0
    assert decimals_of(Decimal("1E+1")) == 0
    assert amount_style(Decimal("267.59151")) == "amount_5"
    assert amount_style(Decimal("0.000001")) == "amount_6"


def test_spans_share_columns() -> None:
    assert spans([200, 50, 500], 5) == [1, 1, 3]
    assert sum(spans([1, 1, 1], 10)) == 10
    with pytest.raises(ValueError):
        spans([1, 1, 1], 2)


def test_heights_grow_with_text() -> None:
    assert text_lines("短", 10) == 1
    assert text_lines("很" * 40, 10) > text_lines("很" * 10, 10)
    assert text_lines("a\nb", 30) == 2
    grid = table_a_grid(seed_filing())
    duties_row = _at(grid, "部门职责概述").row
    assert (grid.height(duties_row) or 0) > (grid.height(_at(grid, "部门名称").row) or 0)


def test_layout_2023_columns_and_orientation() -> None:
    layout = get_layout("2023")
    widths = column_widths(layout.table_a.indicators)
    assert len(widths) == 3 + 8
    grid = table_a_grid(seed_filing("2023"))
    assert grid.landscape
    assert not table_a_grid(seed_filing()).landscape


def test_sheet_names_are_short_unique_and_clean() -> None:
    taken: set[str] = set()
    first = sheet_name("表C1 a[b]:c*d?e/f\\g" + "长" * 40, taken)
    assert len(first) <= 31 and not set("[]:*?/\\") & set(first)
    again = sheet_name("表C1 a[b]:c*d?e/f\\g" + "长" * 40, taken)
    assert again != first and len(again) <= 31
    assert sheet_name("SHEET", {"sheet"}) != "SHEET"


def test_file_names() -> None:
    assert department_file_name(2021, SEED_DEPARTMENT) == f"2021_{SEED_DEPARTMENT}_绩效目标表.xlsx"
    assert (
        department_file_name(2021, 'a/b\\c:d*e?f"g<h>i|j')
        == "2021_a_b_c_d_e_f_g_h_i_j_绩效目标表.xlsx"
    )
    assert department_file_name(2021, "..") == "2021___绩效目标表.xlsx"
    assert consolidated_file_name(2021) == "2021_汇总.xlsx"
