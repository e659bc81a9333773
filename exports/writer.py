"""The one place where grids become an openpyxl workbook.

Every style key becomes a workbook-level named style registered once, and cells refer to it by
name, so no per-cell style objects are created. User text is never a formula: a string that
openpyxl would take for one (it starts with `=`) is stored as a plain string cell.

A department's workbook goes through openpyxl's cells. The round workbook (hundreds of
departments) is streamed: openpyxl writes the package and each sheet's setup, and the rows and
merged ranges are written as sheet XML (exports.sheet_xml), the same cells for a fraction of
the cost of a cell object per cell.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from copy import copy
from dataclasses import dataclass, field, replace
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import Cell, MergedCell, WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.merge import MergedCellRange
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from exports.grid import FONT_NAME, STYLES, CellValue, Grid, PageGeometry, Stack
from exports.sheet_xml import (
    CellText,
    PlainValue,
    merge_refs,
    part_rows,
    plain_rows,
    write_sheet_data,
)
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


class _StyleIds(dict[str, int | None]):
    """The cell style id of each named style key (None: written bare), registered on first use
    (so in the order the cells are written, as openpyxl would): a cell styled once per key
    registers the style, and every cell of that key refers to the same id."""

    def __init__(self, ws: WriteOnlyWorksheet, plain: frozenset[str]) -> None:
        super().__init__()
        self.ws = ws
        self.plain = plain

    def __missing__(self, key: str) -> int | None:
        if key in self.plain:
            self[key] = None
            return None
        template = WriteOnlyCell(self.ws)
        template.style = key
        self[key] = template.style_id
        return self[key]


@dataclass
class StreamedWorkbook:
    """A write-only workbook whose sheets get their rows when it is saved (exports.sheet_xml),
    so that sheets can still be given pictures or charts (`workbook`) until then."""

    workbook: Workbook
    sheets: list[tuple[WriteOnlyWorksheet, Grid | Stack]]
    style_ids: Mapping[str, int | None]
    # Unstyled rows below a sheet's grid (a chart's data table), by sheet title.
    below: dict[str, tuple[int, list[Sequence[PlainValue]]]] = field(default_factory=dict)

    def add_rows(
        self, ws: WriteOnlyWorksheet, first_row: int, rows: Sequence[Sequence[PlainValue]]
    ) -> None:
        """Plain values from `first_row` on, under the rows of the sheet's grid."""
        self.below[ws.title] = (first_row, list(rows))

    def finish(self) -> Workbook:
        for ws, sheet in self.sheets:
            parts = sheet.parts if isinstance(sheet, Stack) else (sheet,)
            extra = self.below.get(ws.title, (0, []))
            width = max([part.max_col for part in parts] + [len(row) for row in extra[1]])
            rows = self._rows(parts, extra, CellText(width))
            write_sheet_data(ws, rows, list(merge_refs(parts)))
        self.sheets = []
        return self.workbook

    def _rows(
        self,
        parts: Sequence[Grid],
        extra: tuple[int, list[Sequence[PlainValue]]],
        cell_text: CellText,
    ) -> Iterator[str]:
        offset = 0
        for part in parts:
            yield from part_rows(part, offset, self.style_ids, cell_text)
            offset += part.max_row
        first, rows = extra
        if rows and first <= offset:
            raise ValueError(f"rows from {first} would overwrite the grid's {offset} rows")
        yield from plain_rows(first, rows, cell_text)


def _stream_sheet(workbook: Workbook, sheet: Grid | Stack) -> WriteOnlyWorksheet:
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
    return ws


def stream_workbook(sheets: Sequence[Grid | Stack], plain: Iterable[str] = ()) -> StreamedWorkbook:
    """A write-only workbook: rows go to the sheet files as they are made, so a round of
    hundreds of departments stays small in memory. Cells whose style is in `plain` are written
    as bare values."""
    workbook = Workbook(write_only=True)
    set_default_font(workbook)
    keep_plain = frozenset(plain)
    register_styles(workbook, _styles(sheets) - keep_plain)
    made = [(_stream_sheet(workbook, sheet), sheet) for sheet in sheets]
    ids = _StyleIds(made[0][0], keep_plain) if made else {}
    return StreamedWorkbook(workbook, made, ids)


def _styles(sheets: Sequence[Grid | Stack]) -> set[str]:
    keys: set[str] = set()
    for sheet in sheets:
        for part in sheet.parts if isinstance(sheet, Stack) else (sheet,):
            keys.update(cell.style for cell in part.cells)
    return keys


def to_bytes(workbook: Workbook | StreamedWorkbook) -> bytes:
    if isinstance(workbook, StreamedWorkbook):
        workbook = workbook.finish()
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def workbook_bytes(grids: Sequence[Grid]) -> bytes:
    return to_bytes(write_workbook(grids))
