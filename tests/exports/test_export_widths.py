"""No number cell is too narrow for its text (Excel and LibreOffice print `###` then), on every
sheet of both layouts: checked on the grids (pure) and on the workbook read back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from dialogs.filing import DepartmentFiling
from exports import department_workbook
from exports.grid import NUMBER_MARGIN, Cell, Grid, GridBuilder, fitted_widths
from exports.tables import department_grids
from exports.text_width import text_units
from tests.support.departments import varied_filing
from tests.support.sheets import load

LAYOUTS = (("2021", 2021), ("2023", 2024))


@pytest.fixture(params=LAYOUTS, ids=[key for key, _ in LAYOUTS])
def filing(request: pytest.FixtureRequest) -> DepartmentFiling:
    key, year = request.param
    return varied_filing(key, year)


def _shown(value: Decimal, number_format: str) -> str:
    decimals = len(number_format.split(".", 1)[1]) if "." in number_format else 0
    return f"{value:.{decimals}f}"


def _span_width(grid: Grid, cell: Cell) -> float:
    return sum(grid.column_widths[cell.col - 1 : cell.last_col])


def test_every_number_fits_its_cell_in_the_grids(filing: DepartmentFiling) -> None:
    numbers = 0
    for grid in department_grids(filing):
        for cell in grid.cells:
            if isinstance(cell.value, Decimal):
                numbers += 1
                text = f"{cell.value}"
                assert _span_width(grid, cell) >= text_units(text) + 1, (grid.name, text)
    assert numbers > 10


def _sheet_width(ws: Worksheet, first: int, last: int) -> float:
    total = 0.0
    for col in range(first, last + 1):
        width = ws.column_dimensions[get_column_letter(col)].width
        total += width if width else 8.43
    return total


def test_every_number_fits_its_cell_in_the_workbook(filing: DepartmentFiling) -> None:
    book = load(department_workbook(filing))
    six_decimals = 0
    for ws in book.worksheets:
        spans = {(r.min_row, r.min_col): r.max_col for r in ws.merged_cells.ranges}
        for line in ws.iter_rows():
            for cell in line:
                if not isinstance(cell.value, int | float):
                    continue
                shown = _shown(Decimal(str(cell.value)), cell.number_format)
                six_decimals += shown.endswith("678") or shown.endswith("891")
                last = spans.get((cell.row, cell.column), cell.column)
                width = _sheet_width(ws, cell.column, last)
                assert width >= len(shown) + 1, (ws.title, cell.coordinate, shown, width)
    assert six_decimals >= 3


def test_columns_grow_to_the_widest_number_and_merges_in_their_last_column() -> None:
    builder = GridBuilder(name="t", column_widths=(5.0, 5.0, 5.0))
    builder.amount(1, 1, Decimal("12345.123456"))
    builder.amount(2, 1, Decimal("1"))
    builder.amount(3, 2, Decimal("123456789.123456"), cols=2)
    builder.put(4, 3, "很长的一段会换行的说明文字", "text")
    widths = builder.build().column_widths
    assert widths[0] == pytest.approx(12 + NUMBER_MARGIN)
    assert widths[1] == 5.0
    assert widths[1] + widths[2] == pytest.approx(16 + NUMBER_MARGIN)


def test_fitted_widths_keep_wide_enough_columns() -> None:
    cell = Cell(row=1, col=1, value=Decimal("1.5"), style="amount_1")
    assert fitted_widths((20.0,), [cell]) == (20.0,)
