"""Reading exported workbooks in tests: values by label, merged ranges, whole-sheet dumps."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet


def load(data: bytes) -> Workbook:
    return load_workbook(io.BytesIO(data))


def merged_span(ws: Worksheet, row: int, col: int) -> tuple[int, int, int, int] | None:
    """(min_row, min_col, max_row, max_col) of the merged range starting at (row, col)."""
    for merged in ws.merged_cells.ranges:
        if merged.min_row == row and merged.min_col == col:
            return merged.min_row, merged.min_col, merged.max_row, merged.max_col
    return None


def covering(ws: Worksheet, row: int, col: int) -> Any:
    """The value shown at (row, col): the top-left value of a merged range covering it."""
    for merged in ws.merged_cells.ranges:
        if merged.min_row <= row <= merged.max_row and merged.min_col <= col <= merged.max_col:
            return ws.cell(row=merged.min_row, column=merged.min_col).value
    return ws.cell(row=row, column=col).value


def find(ws: Worksheet, value: Any) -> list[tuple[int, int]]:
    return [
        (cell.row, cell.column) for line in ws.iter_rows() for cell in line if cell.value == value
    ]


def find_one(ws: Worksheet, value: Any) -> tuple[int, int]:
    found = find(ws, value)
    assert found, f"{value!r} not on sheet {ws.title}"
    return found[0]


def right_of(ws: Worksheet, label: str) -> Any:
    """The value in the cell right of `label` (after the label's merged span)."""
    row, col = find_one(ws, label)
    span = merged_span(ws, row, col)
    last_col = span[3] if span else col
    return ws.cell(row=row, column=last_col + 1).value


def exact(value: Any) -> Decimal:
    """A numeric cell as the Decimal it was written from (openpyxl reads floats)."""
    assert isinstance(value, int | float), f"{value!r} is not a number"
    return Decimal(str(value))


def dump(data: bytes) -> dict[str, dict[tuple[int, int], Any]]:
    """Every non-empty cell value of every sheet."""
    workbook = load(data)
    return {
        ws.title: {
            (cell.row, cell.column): cell.value
            for line in ws.iter_rows()
            for cell in line
            if cell.value is not None
        }
        for ws in workbook.worksheets
    }
