"""The round workbook a supervisor prints: a cover naming the round and when it was made (in the
deployment's zone), and the official tables of every department, each from a new page."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl.utils import get_column_letter

from dialogs.filing import DepartmentFiling
from exports.consolidated import RoundHeader, consolidated_workbook, official_stacks
from exports.grid import Grid, GridBuilder, Stack
from exports.tables import department_grids
from tests.support.departments import varied_filing
from tests.support.sheets import find, load

LAYOUTS = (("2021", 2021), ("2023", 2024))
# 16:05 UTC on 31 December is already the next day in Urumqi (UTC+6) and Shanghai (UTC+8).
MADE_UTC = datetime(2024, 12, 31, 16, 5, tzinfo=UTC)


def _round(key: str, year: int) -> list[DepartmentFiling]:
    first = varied_filing(key, year)
    second = varied_filing(key, year, department="市林业局")
    second = replace(second, directions=second.directions[:1])
    idle = replace(first, department="尚未填报的部门", table_a=None, directions=())
    return [first, second, idle]


@pytest.fixture(params=LAYOUTS, ids=[key for key, _ in LAYOUTS])
def round_book(request: pytest.FixtureRequest) -> tuple[list[DepartmentFiling], bytes]:
    key, year = request.param
    filings = _round(key, year)
    header = RoundHeader(
        year, f"{year}年度部门预算绩效目标申报", MADE_UTC.astimezone(ZoneInfo("Asia/Urumqi"))
    )
    return filings, consolidated_workbook(filings[0].layout, filings, header)


def test_cover_names_year_round_and_local_time(
    round_book: tuple[list[DepartmentFiling], bytes],
) -> None:
    filings, data = round_book
    year = filings[0].year
    cover = load(data)["说明"]
    assert cover["A1"].value == f"{year}年预算绩效目标汇总（{year}年度部门预算绩效目标申报）"
    lines = {row[0].value: row[1].value for row in cover.iter_rows(min_row=2)}
    assert lines["年度"] == f"{year}年"
    assert lines["填报轮次"] == f"{year}年度部门预算绩效目标申报"
    assert lines["生成时间"] == "2024-12-31 22:05（UTC+06:00）"
    assert lines["部门数"].startswith("3 个（已开始填报 2 个")
    assert lines["金额单位"] == "万元"


def test_every_started_department_prints_its_official_tables(
    round_book: tuple[list[DepartmentFiling], bytes],
) -> None:
    filings, data = round_book
    book = load(data)
    layout = filings[0].layout
    year = filings[0].year
    a, b, c = book.worksheets[4:]
    assert a.title == f"表A {layout.table_a.name}"
    titles_a = find(a, layout.table_a.title.format(year=year))
    titles_b = find(b, layout.summary.title.format(year=year))
    titles_c = find(c, layout.table_c.title.format(year=year))
    assert len(titles_a) == 2 and len(titles_b) == 2  # not the department that never started
    assert len(titles_c) == len(filings[0].directions) + 1
    for ws, titles in ((a, titles_a), (b, titles_b), (c, titles_c)):
        breaks = {brk.id for brk in ws.row_breaks.brk}
        for row, _ in titles[1:]:
            assert row - 1 in breaks, (ws.title, row)  # each table from a new page
        assert ws.print_title_rows is None  # a table's title is printed once, on its own page
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.oddFooter.center.text
    assert find(a, f"填报单位：（盖章）{filings[1].department}")
    own = department_grids(filings[0])  # each prints as in the department workbook
    for ws, grid in ((a, own[0]), (b, own[1]), (c, own[2])):
        assert ws.page_setup.orientation == ("landscape" if grid.landscape else "portrait")


def test_stacked_tables_are_the_department_workbook_tables(
    round_book: tuple[list[DepartmentFiling], bytes],
) -> None:
    """Same values and the same merged ranges, shifted down, as in the department workbook."""
    filings, data = round_book
    book = load(data)
    table_a = department_grids(filings[1])[0]
    ws = book.worksheets[4]
    offset = find(ws, table_a.value(1, 1))[1][0] - 1  # the second department's table A
    merges = {str(r) for r in ws.merged_cells.ranges}
    for cell in table_a.cells:
        value = ws.cell(row=offset + cell.row, column=cell.col).value
        if isinstance(cell.value, Decimal):
            assert Decimal(str(value)) == cell.value
        else:
            assert value == cell.value
        if cell.merged:
            ref = (
                f"{get_column_letter(cell.col)}{offset + cell.row}:"
                f"{get_column_letter(cell.last_col)}{offset + cell.last_row}"
            )
            assert ref in merges


def test_no_number_too_narrow_on_any_sheet(
    round_book: tuple[list[DepartmentFiling], bytes],
) -> None:
    _, data = round_book
    book = load(data)
    checked = 0
    for ws in book.worksheets:
        spans = {(r.min_row, r.min_col): r.max_col for r in ws.merged_cells.ranges}
        for line in ws.iter_rows():
            for cell in line:
                if not isinstance(cell.value, int | float):
                    continue
                fmt = cell.number_format
                decimals = len(fmt.split(".", 1)[1]) if "." in fmt else 0
                shown = f"{Decimal(str(cell.value)):.{decimals}f}"
                last = spans.get((cell.row, cell.column), cell.column)
                width = sum(
                    ws.column_dimensions[get_column_letter(col)].width or 8.43
                    for col in range(cell.column, last + 1)
                )
                assert width >= len(shown) + 1, (ws.title, cell.coordinate, shown, width)
                checked += 1
    assert checked > 50


def _grid(name: str, rows: int, width: float, breaks: tuple[int, ...] = ()) -> Grid:
    builder = GridBuilder(name=name, column_widths=(width, 5.0))
    for row in range(1, rows + 1):
        builder.put(row, 1, f"{name}{row}", "text")
    return replace(builder.build(), page_breaks=breaks)


def test_stack_breaks_before_each_part_and_takes_the_widest_columns() -> None:
    stack = Stack("s", (_grid("a", 10, 8.0, (4,)), _grid("b", 7, 12.0), _grid("c", 3, 9.0, (1,))))
    assert stack.page_breaks == (4, 10, 17, 18)
    assert stack.column_widths == (12.0, 5.0)
    assert [offset for offset, _ in stack.offsets()] == [0, 10, 17]


def test_official_stacks_skip_departments_that_never_started() -> None:
    filings = _round("2023", 2024)
    stacks = official_stacks(filings[0].layout, filings)
    assert [len(stack.parts) for stack in stacks] == [2, 2, len(filings[0].directions) + 1]
