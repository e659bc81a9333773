"""The supervisor's round workbook for 200 departments: content, filters, frozen rows, speed."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.state import FormStatus
from exports.consolidated import consolidated_workbook
from tests.support.seed import SEED_DEPARTMENT, seed_filing
from tests.support.sheets import exact, load

DEPARTMENTS = 200
STATUSES = list(FormStatus)


def _filings(count: int) -> list[DepartmentFiling]:
    seed = seed_filing()
    assert seed.table_a is not None
    filings = []
    for index in range(count):
        status = STATUSES[index % len(STATUSES)]
        table_a = (
            None
            if index % 50 == 49
            else replace(
                seed.table_a,
                status=status,
                updated_by=f"填报人{index}",
                updated_at="2021-03-01 10:00",
            )
        )
        directions = tuple(
            FiledForm(form_id=100 * index + n, state=form.state, status=status, updated_by="张三")
            for n, form in enumerate(seed.directions)
        )
        filings.append(
            replace(
                seed,
                department=f"{SEED_DEPARTMENT}{index:03d}",
                table_a=table_a,
                directions=directions,
            )
        )
    return filings


@pytest.fixture(scope="module")
def book_bytes() -> bytes:
    filings = _filings(DEPARTMENTS)
    return consolidated_workbook(filings[0].layout, filings)


def test_sheets_headers_filters_and_frozen_rows(book_bytes: bytes) -> None:
    book = load(book_bytes)
    assert book.sheetnames == ["部门整体", "支出方向", "填报状态"]
    figures, directions, status = book.worksheets
    assert [c.value for c in figures[1]] == [
        "部门名称",
        "资金总额",
        "一般公共预算拨款",
        "政府性基金拨款",
        "其他资金",
        "基本支出",
        "项目支出",
        "支出方向金额合计",
        "支出方向数",
        "状态",
        "指标数",
        "可量化",
        "定性",
        "不适用",
        "待改进提示",
    ]
    assert [c.value for c in directions[1]] == [
        "部门名称",
        "所属专项",
        "支出方向（子项）",
        "项目金额",
        "实施期绩效目标",
        "年度绩效目标",
        "绩效指标数",
        "状态",
    ]
    assert [c.value for c in status[1]] == ["部门名称", "表格", "状态", "最后修改时间", "修改人"]
    # The list ends at its last department; the round chart's data table follows a blank row.
    list_rows = {figures: DEPARTMENTS + 1, directions: DEPARTMENTS * 5 + 1}
    list_rows[status] = DEPARTMENTS * 6 + 1
    assert figures.cell(DEPARTMENTS + 2, 1).value is None
    assert directions.max_row == list_rows[directions] and status.max_row == list_rows[status]
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2"
        last_col = ws.cell(row=1, column=ws.max_column).column_letter
        assert ws.auto_filter.ref == f"A1:{last_col}{list_rows[ws]}"


def test_figures_are_exact_numbers(book_bytes: bytes) -> None:
    book = load(book_bytes)
    figures = book["部门整体"]
    row = [c.value for c in figures[2]]
    assert row[0] == f"{SEED_DEPARTMENT}000"
    assert exact(row[1]) == Decimal("267.59151")
    assert figures["B2"].number_format == "0.00000"
    assert row[3] is None and row[4] is None
    assert exact(row[5]) == Decimal("177.59151")
    assert exact(row[7]) == 90 and row[8] == 5 and row[9] == "草稿"
    # The seed's quality figure: 9 rows in A and in each of the 5 C tables.
    total, measurable, qualitative, not_applicable, warnings = (exact(v) for v in row[10:15])
    assert total == 54 and measurable + qualitative + not_applicable == total
    assert not_applicable == 1 + 2 * 5 and warnings > 0  # A: 经济效益; C: 经济 and 生态
    not_started = [c.value for c in figures[51]]
    assert not_started[1] is None and not_started[9] == "未开始"
    directions = book["支出方向"]
    first = [c.value for c in directions[2]]
    assert first[1:4] == ["业务性专项经费", "文明建设和文明创建", 6]
    assert first[6] == 7 and first[7] == "草稿"
    status = book["填报状态"]
    assert [c.value for c in status[2]] == [
        f"{SEED_DEPARTMENT}000",
        "表A 部门整体支出绩效目标表",
        "草稿",
        "2021-03-01 10:00",
        "填报人0",
    ]
    assert [c.value for c in status[3]][1:3] == ["表C1 文明建设和文明创建", "草稿"]


def test_formula_like_department_name_is_text() -> None:
    seed = seed_filing()
    book = load(consolidated_workbook(seed.layout, [replace(seed, department="=HYPERLINK(1)")]))
    cell = book["部门整体"]["A2"]
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s"
