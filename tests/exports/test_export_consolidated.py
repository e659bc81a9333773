"""The supervisor's round workbook: list sheets' content, filters, frozen rows, print setup."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.state import FormStatus
from exports.consolidated import RoundHeader, consolidated_workbook
from tests.support.seed import SEED_DEPARTMENT, seed_filing
from tests.support.sheets import exact, load

DEPARTMENTS = 30  # the 500-department size is in bench/export.py
STATUSES = list(FormStatus)
# 02:30 UTC is 10:30 in Shanghai: the workbook must say the local time.
MADE = datetime(2021, 3, 1, 2, 30, tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai"))
HEADER = RoundHeader(2021, "2021年度预算绩效目标申报", MADE)
HEAD = 3  # the header row of the list sheets (title and round line above)


def _filings(count: int) -> list[DepartmentFiling]:
    seed = seed_filing()
    assert seed.table_a is not None
    filings = []
    for index in range(count):
        status = STATUSES[index % len(STATUSES)]
        table_a = (
            None
            if index % 10 == 9
            else replace(
                seed.table_a,
                status=status,
                updated_by=f"填报人{index}",
                updated_at="2021-03-01T02:00+00:00",
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
    return consolidated_workbook(filings[0].layout, filings, HEADER)


def test_sheets_headers_filters_and_frozen_rows(book_bytes: bytes) -> None:
    book = load(book_bytes)
    assert book.sheetnames == [
        "说明",
        "部门整体",
        "支出方向",
        "填报状态",
        "表A 部门整体支出绩效目标表",
        "表B 专项资金预算绩效目标汇总表",
        "表C 专项资金支出方向绩效目标表",
    ]
    figures, directions, status = book.worksheets[1:4]
    assert [c.value for c in figures[HEAD]] == [
        "部门名称",
        "资金总额（万元）",
        "一般公共预算拨款（万元）",
        "政府性基金拨款（万元）",
        "其他资金（万元）",
        "基本支出（万元）",
        "项目支出（万元）",
        "支出方向金额合计（万元）",
        "支出方向数",
        "状态",
        "指标数",
        "可量化",
        "定性",
        "不适用",
        "待改进提示",
    ]
    assert [c.value for c in directions[HEAD]] == [
        "部门名称",
        "所属专项",
        "支出方向（子项）",
        "项目金额（万元）",
        "实施期绩效目标",
        "年度绩效目标",
        "绩效指标数",
        "状态",
    ]
    assert [c.value for c in status[HEAD]] == ["部门名称", "表格", "状态", "最后修改时间", "修改人"]
    assert figures.max_row == DEPARTMENTS + HEAD
    assert directions.max_row == DEPARTMENTS * 5 + HEAD
    assert status.max_row == DEPARTMENTS * 6 + HEAD
    for ws in (figures, directions, status):
        assert ws.freeze_panes == f"B{HEAD + 1}"
        last = ws.cell(row=HEAD, column=ws.max_column).column_letter
        assert ws.auto_filter.ref == f"A{HEAD}:{last}{ws.max_row}"
        assert ws.print_title_rows == f"${HEAD}:${HEAD}"
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws["A1"].value.startswith("2021年") and "10:30（UTC+08:00）" in ws["A2"].value


def test_figures_are_exact_numbers(book_bytes: bytes) -> None:
    book = load(book_bytes)
    figures = book["部门整体"]
    row = [c.value for c in figures[HEAD + 1]]
    assert row[0] == f"{SEED_DEPARTMENT}000"
    assert exact(row[1]) == Decimal("267.59151")
    assert figures[f"B{HEAD + 1}"].number_format == "0.00000"
    assert row[3] is None and row[4] is None
    assert exact(row[5]) == Decimal("177.59151")
    assert exact(row[7]) == 90 and row[8] == 5 and row[9] == "草稿"
    # The seed's quality figure: 9 rows in A and in each of the 5 C tables.
    total, measurable, qualitative, not_applicable, warnings = (exact(v) for v in row[10:15])
    assert total == 54 and measurable + qualitative + not_applicable == total
    assert not_applicable == 1 + 2 * 5 and warnings > 0  # A: 经济效益; C: 经济 and 生态
    not_started = [c.value for c in figures[HEAD + 10]]
    assert not_started[1] is None and not_started[9] == "未开始"
    directions = book["支出方向"]
    first = [c.value for c in directions[HEAD + 1]]
    assert first[1:4] == ["业务性专项经费", "文明建设和文明创建", 6]
    assert first[6] == 7 and first[7] == "草稿"
    status = book["填报状态"]
    assert [c.value for c in status[HEAD + 1]] == [
        f"{SEED_DEPARTMENT}000",
        "表A 部门整体支出绩效目标表",
        "草稿",
        "2021-03-01 10:00",  # stored 02:00 UTC, shown in Shanghai time
        "填报人0",
    ]
    assert [c.value for c in status[HEAD + 2]][1:3] == ["表C1 文明建设和文明创建", "草稿"]


def test_formula_like_department_name_is_text() -> None:
    seed = seed_filing()
    filings = [replace(seed, department="=HYPERLINK(1)")]
    book = load(consolidated_workbook(seed.layout, filings, HEADER))
    cell = book["部门整体"][f"A{HEAD + 1}"]
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s"
