"""The one place where grids become an openpyxl workbook.

Every style key becomes a workbook-level named style registered once, and cells refer to it by
name, so no per-cell style objects are created. User text is never a formula: a string that
openpyxl would take for one (it starts with `=`) is stored as a plain string cell.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import replace
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import Cell, MergedCell, WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.merge import MergedCellRange
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from exports.grid import FONT_NAME, STYLES, CellValue, Grid, PageGeometry, Stack
from exports.xmlsafe import xml_safe

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
PAGE = PageGeometry()


def named_style(key: str) -> NamedStyle:
    spec = STYLES[key]
    style = NamedStyle(name=key)
    style.font = Font(name=FONT_NAME, size=spec.size, bold=spec.bold)
    style.alignment = Alignment(
        horizontal=spec.horizontal, vertical=spec.vertical, wrap_text=spec.wrap, indent=spec.indent
    )
    if spec.border:
        style.border = BORDER
    style.number_format = spec.number_format
    return style


def set_default_font(workbook: Workbook) -> None:
    """Make 宋体 11 pt the workbook's default font, as in Chinese Excel.

    The default font sets the column width unit (the width of its "0") and the font of unstyled
    cells. openpyxl has no public setting for it: its first font and the Normal style are
    replaced; if a later openpyxl moves them, the workbook keeps Calibri and still works.
    """
    font = Font(name=FONT_NAME, size=11, family=3, charset=134)
    fonts = getattr(workbook, "_fonts", None)
    named = getattr(workbook, "_named_styles", None)
    if fonts is None or named is None or "Normal" not in named.names:
        return
    workbook._fonts = IndexedList([font, *list(fonts)[1:]])
    named["Normal"].font = font


def register_styles(workbook: Workbook, keys: Iterable[str]) -> None:
    known = set(workbook.named_styles)
    for key in sorted(set(keys)):
        if key not in known:
            workbook.add_named_style(named_style(key))


def cell_value(value: CellValue) -> str | Decimal | None:
    """Characters Excel cannot store (C0 controls, XML-forbidden) are replaced; the chat refuses
    them anyway."""
    return xml_safe(value)


def _set_print(ws: Worksheet, grid: Grid) -> None:
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if grid.landscape else "portrait"
    if grid.fit_to_width:
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
    ws.print_options.horizontalCentered = True
    margins = ws.page_margins
    margins.left = margins.right = PAGE.margin_side
    margins.top, margins.bottom = PAGE.margin_top, PAGE.margin_bottom
    margins.header = margins.footer = 0.3
    if grid.print_title_rows:
        first, last = grid.print_title_rows
        ws.print_title_rows = f"{first}:{last}"
    if grid.footer:
        ws.oddFooter.center.text = grid.footer


def _merge(ws: Worksheet, row: int, col: int, last_row: int, last_col: int, top: Cell) -> None:
    """Merge a range whose covered cells carry the top-left cell's (named, bordered) style.

    openpyxl's merge_cells recomputes the borders of every edge cell through style objects,
    which dominated writing time; giving each covered cell the top-left StyleArray is the same
    result (the style already has all four borders) for a fraction of the cost.
    """
    for r in range(row, last_row + 1):
        for c in range(col, last_col + 1):
            if r == row and c == col:
                continue
            covered = MergedCell(ws, row=r, column=c)
            covered._style = copy(top._style)
            ws._cells[(r, c)] = covered
    ws.merged_cells.add(
        MergedCellRange(
            ws, f"{get_column_letter(col)}{row}:{get_column_letter(last_col)}{last_row}"
        )
    )


def _fill_sheet(ws: Worksheet, grid: Grid) -> None:
    for index, width in enumerate(grid.column_widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    for row, height in grid.row_heights:
        ws.row_dimensions[row].height = height
    for cell in grid.cells:
        target = ws.cell(row=cell.row, column=cell.col)
        target.value = cell_value(cell.value)
        if target.data_type == "f":
            target.data_type = "s"
        target.style = cell.style
        if cell.merged:
            _merge(ws, cell.row, cell.col, cell.last_row, cell.last_col, target)
    # Assigned at once: RowBreak.append copies and re-checks every break already there.
    ws.row_breaks.brk = [Break(id=row) for row in grid.page_breaks]
    if grid.freeze:
        ws.freeze_panes = grid.freeze
    if grid.autofilter:
        ws.auto_filter.ref = grid.autofilter
    _set_print(ws, grid)


def write_workbook(grids: Sequence[Grid]) -> Workbook:
    """A workbook with one sheet per grid, in order."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    set_default_font(workbook)
    register_styles(workbook, (cell.style for grid in grids for cell in grid.cells))
    for grid in grids:
        _fill_sheet(workbook.create_sheet(title=grid.name), grid)
    return workbook


class _StyledCells:
    """Write-only cells styled by key. Setting a named style looks it up by name on every cell;
    copying the StyleArray of one cell styled per key is the same result, several times faster."""

    def __init__(self, ws: WriteOnlyWorksheet, plain: frozenset[str]) -> None:
        self.ws = ws
        self.plain = plain
        self.templates: dict[str, WriteOnlyCell] = {}

    def make(self, value: CellValue, style: str) -> WriteOnlyCell | str | Decimal | None:
        value = cell_value(value)
        formula_like = isinstance(value, str) and value.startswith("=")
        if style in self.plain and not formula_like:
            return value
        written = WriteOnlyCell(self.ws, value=value)
        if written.data_type == "f":
            written.data_type = "s"
        if style not in self.plain:
            template = self.templates.get(style)
            if template is None:
                template = self.templates[style] = WriteOnlyCell(self.ws)
                template.style = style
            written._style = copy(template._style)
        return written


def _stream_part(
    ws: WriteOnlyWorksheet, grid: Grid, offset: int, width: int, cells: _StyledCells
) -> None:
    """Append the rows of `grid` below `offset` rows; merged ranges keep their borders."""
    for row, height in grid.row_heights:
        ws.row_dimensions[offset + row].height = height
    rows: dict[int, list[WriteOnlyCell | str | Decimal | None]] = {}
    for cell in grid.cells:
        for row in range(cell.row, cell.last_row + 1):
            if row not in rows:
                rows[row] = [None] * width
        rows[cell.row][cell.col - 1] = cells.make(cell.value, cell.style)
        if not cell.merged:
            continue
        bordered = STYLES[cell.style].border
        for row in range(cell.row, cell.last_row + 1):
            for col in range(cell.col, cell.last_col + 1):
                if bordered and (row, col) != (cell.row, cell.col):
                    rows[row][col - 1] = cells.make(None, cell.style)
        # The range set directly: MultiCellRange.add scans every range already there.
        ws.merged_cells.ranges.add(
            CellRange(
                min_col=cell.col,
                min_row=offset + cell.row,
                max_col=cell.last_col,
                max_row=offset + cell.last_row,
            )
        )
    for row in range(1, grid.max_row + 1):
        ws.append(rows.get(row, ()))


def _stream_sheet(workbook: Workbook, sheet: Grid | Stack, plain: frozenset[str]) -> None:
    ws = workbook.create_sheet(title=sheet.name)
    parts = sheet.parts if isinstance(sheet, Stack) else (sheet,)
    for index, width in enumerate(sheet.column_widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    if isinstance(sheet, Grid):
        if sheet.freeze:
            ws.freeze_panes = sheet.freeze
        if sheet.autofilter:
            ws.auto_filter.ref = sheet.autofilter
        _set_print(ws, sheet)
    else:
        _set_print(ws, replace(parts[0], landscape=sheet.landscape, print_title_rows=None))
    if sheet.footer:
        ws.oddFooter.center.text = sheet.footer
    ws.row_breaks.brk = [Break(id=row) for row in sheet.page_breaks]
    width = max((part.max_col for part in parts), default=0)
    offset = 0
    cells = _StyledCells(ws, plain)
    for part in parts:
        _stream_part(ws, part, offset, width, cells)
        offset += part.max_row


def stream_workbook(sheets: Sequence[Grid | Stack], plain: Iterable[str] = ()) -> Workbook:
    """A write-only workbook: rows go to the file as they are made, so a round of hundreds of
    departments stays small in memory. Cells whose style is in `plain` are written as bare
    values, the fastest path openpyxl has."""
    workbook = Workbook(write_only=True)
    set_default_font(workbook)
    keep_plain = frozenset(plain)
    register_styles(workbook, _styles(sheets) - keep_plain)
    for sheet in sheets:
        _stream_sheet(workbook, sheet, keep_plain)
    return workbook


def _styles(sheets: Sequence[Grid | Stack]) -> set[str]:
    keys: set[str] = set()
    for sheet in sheets:
        for part in sheet.parts if isinstance(sheet, Stack) else (sheet,):
            keys.update(cell.style for cell in part.cells)
    return keys


def to_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def workbook_bytes(grids: Sequence[Grid]) -> bytes:
    return to_bytes(write_workbook(grids))
