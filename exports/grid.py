"""The cell grid of one sheet as plain data: what goes where, merged how, styled by which key.

Table builders produce `Grid` values (pure, testable without files); `exports.writer` is the only
place that turns them into an openpyxl workbook. Style keys name entries of `STYLES`, which are
plain data too, so that row heights can be estimated here from the font size of each cell.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property

from dialogs.values import format_decimal
from exports.text_width import (
    CLOSING_PUNCTUATION,
    DIGIT_PIXELS,
    fits_one_line,
    lone_punctuation,
    text_lines,
    text_units,
)

CellValue = str | Decimal | None

# Not a style of its own: centred when the value fits on one line, else left-aligned text.
FIT = "fit"

FONT_NAME = "宋体"
MAX_DECIMALS = 6


@dataclass(frozen=True)
class StyleSpec:
    """How one style key prints; the writer registers each as a workbook named style."""

    size: float = 11
    bold: bool = False
    horizontal: str = "left"
    vertical: str = "center"
    wrap: bool = True
    border: bool = True
    number_format: str = "General"
    indent: int = 0  # left indent levels (about 10 px each)


def _amount_styles() -> dict[str, StyleSpec]:
    styles = {}
    for decimals in range(MAX_DECIMALS + 1):
        number_format = "0" if decimals == 0 else "0." + "0" * decimals
        styles[f"amount_{decimals}"] = StyleSpec(horizontal="center", number_format=number_format)
    return styles


STYLES: dict[str, StyleSpec] = {
    "title": StyleSpec(size=16, bold=True, horizontal="center", border=False),
    "header_left": StyleSpec(horizontal="left", border=False),
    "header_right": StyleSpec(horizontal="right", border=False),
    "label": StyleSpec(horizontal="center"),
    "heading": StyleSpec(horizontal="center", bold=True),
    "text": StyleSpec(horizontal="left"),
    # `text` indented, for a text whose closing punctuation would otherwise print alone.
    "text_indent1": StyleSpec(horizontal="left", indent=1),
    "text_indent2": StyleSpec(horizontal="left", indent=2),
    "center": StyleSpec(horizontal="center"),
    # List sheets (the round workbook): bordered, long text wraps in its bounded column.
    "list_heading": StyleSpec(horizontal="center", bold=True),
    "list_text": StyleSpec(horizontal="left"),
    **_amount_styles(),
}


def decimals_of(value: Decimal) -> int:
    """How many decimals `value` was entered with, trailing zeros dropped (267.59150 -> 4)."""
    text = format_decimal(value)
    return len(text.split(".", 1)[1]) if "." in text else 0


def amount_style(value: Decimal) -> str:
    """The style key whose number format shows exactly the entered decimals of `value`."""
    return f"amount_{min(decimals_of(value), MAX_DECIMALS)}"


def exact(value: Decimal) -> Decimal:
    """`value` as the cell holds it: no exponent, no trailing zeros (1E+1 -> 10)."""
    return Decimal(format_decimal(value))


@dataclass(frozen=True)
class Cell:
    """One value at (row, col), 1-based; spans more rows/columns when merged."""

    row: int
    col: int
    value: CellValue
    style: str
    rows: int = 1
    cols: int = 1

    @property
    def last_row(self) -> int:
        return self.row + self.rows - 1

    @property
    def last_col(self) -> int:
        return self.col + self.cols - 1

    @property
    def merged(self) -> bool:
        return self.rows > 1 or self.cols > 1


@dataclass(frozen=True)
class Grid:
    """One printed table (one worksheet)."""

    name: str  # the sheet's name
    column_widths: tuple[float, ...]  # Excel width units per column, from column 1
    cells: tuple[Cell, ...]
    row_heights: tuple[tuple[int, float], ...] = ()  # (row, points)
    print_title_rows: tuple[int, int] | None = None
    page_breaks: tuple[int, ...] = ()  # a page ends after each of these rows
    landscape: bool = False
    fit_to_width: bool = True
    freeze: str | None = None  # top-left cell of the scrolling area, e.g. "A2"
    autofilter: str | None = None
    footer: str | None = None  # printed at the foot of every page (&P page, &N pages)

    @cached_property
    def max_row(self) -> int:
        return max((cell.row + cell.rows - 1 for cell in self.cells), default=0)

    @cached_property
    def max_col(self) -> int:
        last = max((cell.col + cell.cols - 1 for cell in self.cells), default=0)
        return max(len(self.column_widths), last)

    def at(self, row: int, col: int) -> Cell | None:
        """The cell whose top-left corner is (row, col)."""
        for cell in self.cells:
            if cell.row == row and cell.col == col:
                return cell
        return None

    def covering(self, row: int, col: int) -> Cell | None:
        """The cell that covers (row, col), merged or not."""
        for cell in self.cells:
            if cell.row <= row <= cell.last_row and cell.col <= col <= cell.last_col:
                return cell
        return None

    def value(self, row: int, col: int) -> CellValue:
        cell = self.at(row, col)
        return cell.value if cell else None

    def find(self, value: CellValue) -> Iterator[Cell]:
        return (cell for cell in self.cells if cell.value == value)

    def merges(self) -> tuple[Cell, ...]:
        return tuple(cell for cell in self.cells if cell.merged)

    def height(self, row: int) -> float | None:
        return dict(self.row_heights).get(row)


@dataclass(frozen=True)
class Stack:
    """Printed tables one under another on one sheet, each from a new page (the round workbook
    prints every department's table A from one sheet). Columns take the widest part's width."""

    name: str
    parts: tuple[Grid, ...]
    footer: str | None = None

    @property
    def column_widths(self) -> tuple[float, ...]:
        count = max((len(part.column_widths) for part in self.parts), default=0)
        return tuple(
            max(part.column_widths[i] for part in self.parts if i < len(part.column_widths))
            for i in range(count)
        )

    @property
    def landscape(self) -> bool:
        return any(part.landscape for part in self.parts)

    def offsets(self) -> Iterator[tuple[int, Grid]]:
        """(rows above, part) for each part."""
        offset = 0
        for part in self.parts:
            yield offset, part
            offset += part.max_row

    @property
    def page_breaks(self) -> tuple[int, ...]:
        """Each part's own breaks, and a break after every part but the last."""
        breaks: list[int] = []
        for offset, part in self.offsets():
            if offset:
                breaks.append(offset)
            breaks += [offset + row for row in part.page_breaks]
        return tuple(breaks)


# Excel and LibreOffice show `###` for a number wider than its cell (numbers never wrap); a
# digit of the printing font may be a little wider than the width unit, hence the margin.
NUMBER_MARGIN = 1.5
BOLD_FACTOR = 1.1


def shown_text(value: CellValue, style: str) -> str:
    """The text a cell shows: numbers as their number format prints them (`0.000000`)."""
    if value is None:
        return ""
    if not isinstance(value, Decimal):
        return value
    number_format = STYLES[style].number_format
    if number_format.startswith("0"):
        decimals = len(number_format.split(".", 1)[1]) if "." in number_format else 0
        return f"{value:.{decimals}f}"
    return format_decimal(value)


def unbroken_width(cell: Cell) -> float | None:
    """The width `cell` needs when its text cannot wrap (numbers, no-wrap styles), else None."""
    spec = STYLES[cell.style]
    if cell.value is None or (spec.wrap and not isinstance(cell.value, Decimal)):
        return None
    lines = shown_text(cell.value, cell.style).split("\n")
    units = max(text_units(line) for line in lines) * spec.size / 11
    if spec.bold:
        units *= BOLD_FACTOR
    return units + NUMBER_MARGIN


def fitted_widths(widths: tuple[float, ...], cells: Iterable[Cell]) -> tuple[float, ...]:
    """`widths` widened so that every cell that cannot wrap shows its whole text: a single
    column grows to its widest such text, a merged range grows in its last column."""
    result = list(widths)
    merged: list[tuple[Cell, float]] = []
    for cell in cells:
        need = unbroken_width(cell)
        if need is None:
            continue
        if cell.cols == 1:
            result[cell.col - 1] = max(result[cell.col - 1], need)
        else:
            merged.append((cell, need))
    for cell, need in merged:
        have = sum(result[cell.col - 1 : cell.last_col])
        if need > have:
            result[cell.last_col - 1] += need - have
    return tuple(round(width, 2) for width in result)


NUDGES = tuple(n / 2 for n in range(1, 13))  # width units a column may grow to avoid that
INDENTED = {"text": ("text_indent1", "text_indent2")}


def _lone_cells(widths: Sequence[float], cells: Sequence[Cell]) -> int:
    return sum(
        1
        for cell in cells
        if isinstance(cell.value, str)
        and lone_punctuation(
            cell.value, sum(widths[cell.col - 1 : cell.last_col]), STYLES[cell.style].size
        )
    )


def without_lone_punctuation(widths: tuple[float, ...], cells: Iterable[Cell]) -> tuple[float, ...]:
    """`widths` with columns widened a little where that keeps a text's closing punctuation on
    the line of the character before it (the fewest such texts, then the least widening)."""
    candidates = [
        cell
        for cell in cells
        if isinstance(cell.value, str)
        and STYLES[cell.style].wrap
        and cell.value.rstrip()[-1:] in CLOSING_PUNCTUATION
    ]
    result = list(widths)
    for col in range(len(result)):
        # Only the texts over this column change with its width.
        spanning = [c for c in candidates if c.col - 1 <= col <= c.last_col - 1]
        lone = _lone_cells(result, spanning) if spanning else 0
        if not lone:
            continue
        base, best = result[col], (lone, 0.0)
        for nudge in NUDGES:
            result[col] = base + nudge
            count = _lone_cells(result, spanning)
            if count < best[0]:
                best = (count, nudge)
            if not count:
                break
        result[col] = base + best[1]
    return tuple(result)


def indent_lone_punctuation(widths: tuple[float, ...], cells: Iterable[Cell]) -> list[Cell]:
    """Cells whose text would still end on a lone `。` get an indented style: a slightly
    narrower line moves the character before it down too."""
    result = []
    for cell in cells:
        if cell.style not in INDENTED or not isinstance(cell.value, str):
            result.append(cell)
            continue
        spec = STYLES[cell.style]
        width = sum(widths[cell.col - 1 : cell.last_col])
        if lone_punctuation(cell.value, width, spec.size):
            for level, style in enumerate(INDENTED[cell.style], start=1):
                if not lone_punctuation(cell.value, width, spec.size, level):
                    cell = replace(cell, style=style)
                    break
        result.append(cell)
    return result


LINE_POINTS = 16.0  # one line of 11 pt CJK text with leading (宋体 in Excel, Noto in LibreOffice)
PADDING_POINTS = 6.0


def needed_height(cell: Cell, widths: tuple[float, ...]) -> float:
    if cell.value is None:
        return 0.0
    spec = STYLES[cell.style]
    if not spec.wrap:
        return LINE_POINTS * spec.size / 11 + PADDING_POINTS
    text = format_decimal(cell.value) if isinstance(cell.value, Decimal) else cell.value
    width = widths[cell.col - 1] if cell.cols == 1 else sum(widths[cell.col - 1 : cell.last_col])
    return text_lines(text, width, spec.size) * LINE_POINTS * spec.size / 11 + PADDING_POINTS


@dataclass(frozen=True)
class PageGeometry:
    """A4 with the writer's margins, for placing page breaks where a block would be split."""

    landscape: bool = False
    margin_side: float = 0.5  # inches
    margin_top: float = 0.6
    margin_bottom: float = 0.6
    safety: float = 0.95  # Excel and LibreOffice round the fit-to-width scale differently

    @property
    def printable(self) -> tuple[float, float]:
        """(width, height) in points inside the margins."""
        width, height = (A4_POINTS[1], A4_POINTS[0]) if self.landscape else A4_POINTS
        return (
            width - 2 * self.margin_side * 72,
            height - (self.margin_top + self.margin_bottom) * 72,
        )

    def scale(self, widths: tuple[float, ...]) -> float:
        """The fit-to-width scale: Excel shows a column of width w as w*8+5 pixels."""
        table = sum((w * DIGIT_PIXELS + 5) * 0.75 for w in widths)
        return min(1.0, math.floor(self.printable[0] / table * 100) / 100)

    def breaks(
        self,
        heights: dict[int, float],
        widths: tuple[float, ...],
        titles: tuple[int, int] | None,
        keep: list[tuple[int, int]],
    ) -> tuple[int, ...]:
        """Rows after which to force a page break so no `keep` range is split needlessly.

        A range moves to a new page only when the page it would start on is at least
        `MIN_PAGE_FILL` used: a page is never left mostly empty, a longer range breaks inside
        (where a table has them, its column headings repeat as print titles on the next page).
        Title rows repeat at the top of every page after the one they first print on (Excel
        and LibreOffice alike), so they take room only from the pages that follow them."""
        scale = self.scale(widths)
        full = (self.printable[1] * self.safety) / scale
        repeated = sum(heights.get(r, 0) for r in range(titles[0], titles[1] + 1)) if titles else 0
        starts = {
            first: sum(heights.get(r, 0) for r in range(first, last + 1)) for first, last in keep
        }
        breaks: list[int] = []
        used = 0.0
        for row in range(1, max(heights) + 1):
            base = repeated if titles and row > titles[1] else 0.0
            height = heights.get(row, 0)
            together = starts.get(row)
            filled = used - base
            if (
                together is not None
                and filled >= MIN_PAGE_FILL * (full - base)
                and full - base >= together > full - used
            ):
                breaks.append(row - 1)  # the block would be split: start it on a new page
                used = base
            elif used + height > full:
                used = base  # the application breaks here by itself
            used += height
        return tuple(breaks)


A4_POINTS = (595.3, 841.9)
# A block is moved to the next page only from a page at least this much used.
MIN_PAGE_FILL = 0.5


@dataclass
class GridBuilder:
    """Collects cells row by row; `build` estimates row heights so nothing is cut off."""

    name: str
    column_widths: tuple[float, ...]
    cells: list[Cell] = field(default_factory=list)
    fixed_heights: dict[int, float] = field(default_factory=dict)
    keep: list[tuple[int, int]] = field(default_factory=list)
    row: int = 1  # the next free row

    @property
    def columns(self) -> int:
        return len(self.column_widths)

    def put(
        self, row: int, col: int, value: CellValue, style: str, rows: int = 1, cols: int = 1
    ) -> Cell:
        if isinstance(value, Decimal):
            value = exact(value)
        if value == "":
            value = None
        if style == FIT:
            width = sum(self.column_widths[col - 1 : col - 1 + cols])
            one_line = value is None or fits_one_line(str(value), width)
            style = "center" if one_line else "text"
        cell = Cell(row=row, col=col, value=value, style=style, rows=rows, cols=cols)
        self.cells.append(cell)
        return cell

    def amount(self, row: int, col: int, value: Decimal | None, cols: int = 1) -> Cell:
        if value is None:
            return self.put(row, col, None, "center", cols=cols)
        return self.put(row, col, value, amount_style(value), cols=cols)

    def line(self, value: CellValue, style: str, height: float | None = None) -> int:
        """A full-width line (title, header) on the next row; returns its row."""
        row = self.row
        self.put(row, 1, value, style, cols=self.columns)
        if height is not None:
            self.fixed_heights[row] = height
        self.row += 1
        return row

    def keep_together(self, first: int, last: int) -> None:
        """Rows `first`..`last` should print on one page (a block header with its first rows)."""
        self.keep.append((first, last))

    def build(
        self,
        *,
        print_title_rows: tuple[int, int] | None = None,
        landscape: bool = False,
        freeze: str | None = None,
        autofilter: str | None = None,
        estimate_heights: bool = True,
        footer: str | None = None,
    ) -> Grid:
        """The grid; `estimate_heights=False` for one-line list sheets (default heights)."""
        widths = fitted_widths(self.column_widths, self.cells)
        cells = self.cells
        if estimate_heights:  # printed tables, not one-line lists
            widths = without_lone_punctuation(widths, cells)
            cells = indent_lone_punctuation(widths, cells)
        heights = self._heights(widths) if estimate_heights else ()
        breaks: tuple[int, ...] = ()
        if self.keep and heights:
            page = PageGeometry(landscape=landscape)
            breaks = page.breaks(dict(heights), widths, print_title_rows, self.keep)
        return Grid(
            name=self.name,
            column_widths=widths,
            cells=tuple(cells),
            row_heights=heights,
            print_title_rows=print_title_rows,
            page_breaks=breaks,
            landscape=landscape,
            freeze=freeze,
            autofilter=autofilter,
            footer=footer,
        )

    def _heights(self, widths: tuple[float, ...]) -> tuple[tuple[int, float], ...]:
        heights: dict[int, float] = {}
        last = max((cell.last_row for cell in self.cells), default=0)
        for row in range(1, last + 1):
            heights[row] = LINE_POINTS + PADDING_POINTS
        # Single-row cells first, then cells merged over several rows grow their last row.
        merged = []
        for cell in self.cells:
            if cell.rows > 1:
                merged.append(cell)
                continue
            need = needed_height(cell, widths)
            if need > heights[cell.row]:
                heights[cell.row] = need
        for cell in sorted(merged, key=lambda c: c.rows):
            need = needed_height(cell, widths)
            have = sum(heights[r] for r in range(cell.row, cell.last_row + 1))
            if need > have:
                heights[cell.last_row] += need - have
        heights.update(self.fixed_heights)
        return tuple((row, round(height, 1)) for row, height in sorted(heights.items()))
