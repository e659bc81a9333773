"""A grid as plain text, for a chat or a terminal: the same cells the workbook prints.

Table B is computed from the C tables; showing it before export must show exactly what the
export will print, so it is rendered from the grid the workbook is built from, not recomputed.
"""

from __future__ import annotations

from decimal import Decimal

from dialogs.filing import DepartmentFiling
from exports.grid import CellValue, Grid, exact
from exports.table_b import table_b_grid
from exports.tables import SHEET_B

SEPARATOR = " | "


def _shown(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(exact(value), "f")
    return value.replace("\r\n", " ").replace("\n", " ")  # one line per row here


def grid_lines(grid: Grid) -> list[str]:
    """One line per row that has a value: the row's cells left to right, a merged cell once."""
    lines = []
    for row in range(1, grid.max_row + 1):
        cells = sorted((c for c in grid.cells if c.row == row), key=lambda c: c.col)
        texts = [_shown(cell.value) for cell in cells]
        while texts and not texts[-1]:
            texts.pop()
        if texts:
            lines.append(SEPARATOR.join(texts))
    return lines


def table_b_lines(filing: DepartmentFiling) -> list[str]:
    """表B 专项资金预算绩效目标汇总表 as the department's workbook prints it."""
    return grid_lines(table_b_grid(filing, SHEET_B))
