"""The rows of a streamed sheet as worksheet XML, written straight to openpyxl's sheet file.

openpyxl builds the package of the round workbook (styles, sheet setup, merges, print settings,
the chart); only the `<sheetData>` of its streamed sheets is written here, as text. Going through
openpyxl's write-only cells costs a cell object, a style lookup and an XML element per cell, which
made writing the round workbook five times slower than bare openpyxl. The text written is what
openpyxl 3.1 writes for the same cells (inline strings, `t="n"` numbers through its own
`safe_string`, the same row attributes); tests read the result back with openpyxl.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path

from openpyxl.cell.cell import ERROR_CODES
from openpyxl.compat.strings import safe_string
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from exports.grid import STYLES, Grid
from exports.xmlsafe import xml_safe

PlainValue = str | Decimal | int | None
MAX_TEXT = 32767  # Excel's limit; openpyxl truncates longer text the same way
EMPTY_SHEET_DATA = re.compile(r"<sheetData\s*/>|<sheetData>\s*</sheetData>")
# The first element the schema puts after mergeCells; openpyxl always writes pageMargins.
AFTER_MERGES = re.compile(
    r"<(?:phoneticPr|conditionalFormatting|dataValidations|hyperlinks|printOptions|pageMargins)\b"
)


def _escape(text: str) -> str:
    """As ElementTree escapes element text."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


class CellText:
    """The XML of one cell, given its value and style id (None: unstyled)."""

    def __init__(self, columns: int) -> None:
        self.letters = [""] + [get_column_letter(col) for col in range(1, columns + 1)]

    def __call__(self, row: int, col: int, value: PlainValue, style: int | None) -> str:
        ref = f'r="{self.letters[col]}{row}"'
        styled = f' s="{style}"' if style is not None else ""
        if value is None:
            return f'<c {ref}{styled} t="n" />' if styled else ""
        if not isinstance(value, str):
            return f'<c {ref}{styled} t="n"><v>{safe_string(value)}</v></c>'
        value = value[:MAX_TEXT]
        if value in ERROR_CODES:
            return f'<c {ref}{styled} t="e"><v>{_escape(value)}</v></c>'
        stripped = value.strip()
        space = ' xml:space="preserve"' if stripped and stripped != value else ""
        return f'<c {ref}{styled} t="inlineStr"><is><t{space}>{_escape(value)}</t></is></c>'


def part_rows(
    grid: Grid, offset: int, style_ids: Mapping[str, int | None], cell_text: CellText
) -> Iterator[str]:
    """The `<row>` elements of `grid` placed `offset` rows down; the covered cells of a merged
    range carry its style when it is bordered, so the range keeps its borders."""
    rows: dict[int, dict[int, str]] = {}
    for cell in grid.cells:
        style = style_ids[cell.style]
        first = offset + cell.row
        value = xml_safe(cell.value)
        rows.setdefault(first, {})[cell.col] = cell_text(first, cell.col, value, style)
        if not cell.merged or not STYLES[cell.style].border or style is None:
            continue
        for row in range(first, offset + cell.last_row + 1):
            line = rows.setdefault(row, {})
            for col in range(cell.col, cell.last_col + 1):
                if row != first or col != cell.col:
                    line[col] = cell_text(row, col, None, style)
    heights = dict(grid.row_heights)
    for row in range(1, grid.max_row + 1):
        at = offset + row
        height = heights.get(row)
        size = f' ht="{safe_string(height)}" customHeight="1"' if height is not None else ""
        written = rows.get(at)
        cells = "".join(written[col] for col in sorted(written)) if written else ""
        yield f'<row r="{at}"{size}>{cells}</row>'


def plain_rows(
    first: int, rows: Sequence[Sequence[PlainValue]], cell_text: CellText
) -> Iterator[str]:
    """Unstyled rows from row `first` on, as openpyxl appends plain values."""
    for at, values in enumerate(rows, start=first):
        cells = "".join(cell_text(at, col, value, None) for col, value in enumerate(values, 1))
        yield f'<row r="{at}">{cells}</row>'


def merge_refs(parts: Sequence[Grid]) -> Iterator[str]:
    """`A1:H1` for each merged range of `parts` stacked one under another."""
    offset = 0
    for part in parts:
        for cell in part.cells:
            if cell.merged:
                first = get_column_letter(cell.col) + str(offset + cell.row)
                last = get_column_letter(cell.last_col) + str(offset + cell.last_row)
                yield f"{first}:{last}"
        offset += part.max_row


def write_sheet_data(ws: WriteOnlyWorksheet, rows: Iterator[str], merges: Sequence[str]) -> None:
    """Close `ws` (openpyxl writes the sheet with no rows and no merged ranges), then put
    `rows` into its sheetData and `merges` where the schema has them."""
    ws.close()
    path = Path(ws._writer.out)
    text = path.read_text(encoding="utf-8")
    found = EMPTY_SHEET_DATA.search(text)
    later = AFTER_MERGES.search(text, found.end()) if found else None
    if found is None or later is None or "<mergeCells" in text:
        raise RuntimeError(f"unexpected sheet XML from openpyxl in {ws.title!r}")
    with path.open("w", encoding="utf-8") as out:
        out.write(text[: found.start()])
        out.write("<sheetData>")
        for row in rows:
            out.write(row)
        out.write("</sheetData>")
        out.write(text[found.end() : later.start()])
        if merges:
            out.write(f'<mergeCells count="{len(merges)}">')
            out.write("".join(f'<mergeCell ref="{ref}" />' for ref in merges))
            out.write("</mergeCells>")
        out.write(text[later.start() :])
