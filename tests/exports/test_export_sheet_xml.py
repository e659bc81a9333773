"""The streamed writer (rows and merged ranges written as sheet XML, exports.sheet_xml) gives the
same cells as openpyxl's own writer: read back with openpyxl, every value, style, merge, row
height and print setting of a department's tables is the same either way."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.cell.read_only import ReadOnlyCell
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from exports.grid import GridBuilder, Stack
from exports.tables import department_grids
from exports.writer import stream_workbook, to_bytes, workbook_bytes
from tests.support.departments import varied_filing

LAYOUTS = (("2021", 2021), ("2023", 2024))


def _look(cell: SheetCell | ReadOnlyCell) -> tuple[object, ...]:
    font, align = cell.font, cell.alignment
    return (
        font.name,
        font.sz,
        font.b,
        align.horizontal,
        align.vertical,
        align.wrap_text,
        align.indent,
        cell.number_format,
        _edge(cell),
    )


def _edge(cell: SheetCell | ReadOnlyCell) -> str | None:
    border = cell.border
    side = border.left if border is not None else None
    return side.style if side is not None else None


def _cells(ws: ReadOnlyWorksheet) -> dict[str, object]:
    """The cells as stored (openpyxl's normal reader would give a merged range's borders to
    its covered cells whether or not they were written)."""
    cells = {}
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is not None or _edge(cell) is not None:
                cells[cell.coordinate] = (cell.value, _look(cell))
    return cells


def _sheet(ws: Worksheet) -> dict[str, object]:
    return {
        "merges": sorted(str(r) for r in ws.merged_cells.ranges),
        "heights": {r: d.height for r, d in ws.row_dimensions.items() if d.height is not None},
        "widths": {c: d.width for c, d in ws.column_dimensions.items() if d.width},
        "breaks": [b.id for b in ws.row_breaks.brk],
        "titles": ws.print_title_rows,
        "landscape": ws.page_setup.orientation,
        "fit": (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight),
    }


def _read(data: bytes) -> dict[str, dict[str, object]]:
    book = load_workbook(io.BytesIO(data))
    stored = load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: {**_sheet(ws), "cells": _cells(stored[ws.title])} for ws in book.worksheets}


@pytest.mark.parametrize(("key", "year"), LAYOUTS)
def test_streamed_tables_read_back_as_openpyxl_writes_them(key: str, year: int) -> None:
    grids = department_grids(varied_filing(key, year))
    normal = _read(workbook_bytes(grids))
    streamed = _read(to_bytes(stream_workbook(grids)))
    assert list(streamed) == list(normal)
    for name, sheet in normal.items():
        assert len(sheet["cells"]) > 20  # type: ignore[arg-type]
        for part, expected in sheet.items():
            assert streamed[name][part] == expected, (name, part)


def test_awkward_text_reaches_the_sheet_as_typed() -> None:
    texts = [
        "a & b < c > d",
        " leading and trailing ",
        "=SUM(A1:A2)",
        "line one\nline two",
        "控制\x07字符",
        "≤420元/亩",
    ]
    builder = GridBuilder(name="t", column_widths=(20.0, 12.0))
    for row, text in enumerate(texts, start=1):
        builder.put(row, 1, text, "text")
        builder.amount(row, 2, Decimal("12.345678") * row)
    grid = builder.build()
    ws = load_workbook(io.BytesIO(to_bytes(stream_workbook([Stack("s", (grid, grid))])))).active
    assert ws is not None
    got = [ws.cell(row=r, column=1).value for r in range(1, 2 * len(texts) + 1)]
    expected = [*texts[:4], "控制\ufffd字符", texts[5]]
    assert got == expected * 2
    assert ws.cell(row=3, column=1).data_type == "s"  # never a formula
    assert ws.cell(row=2, column=2).value == pytest.approx(24.691356)
    assert ws.cell(row=2, column=2).number_format == "0.000000"
