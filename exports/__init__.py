"""Excel exports: a department's official tables, the supervisor's round workbook, and import.

`exports` reads `dialogs` only (never storage): the bot hands it `DepartmentFiling` values.

    department_workbook(filing) -> bytes          # 表A, 表B (computed), one sheet per 表C
    consolidated_workbook(layout, filings, header) -> bytes   # exports.consolidated
    import_workbook(data, layout, department, year)   # exports.importer
    department_file_name(year, department), consolidated_file_name(year)  # exports.names
    department_tables(filing), table_workbook(filing, index)  # one table alone, for previews
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.filing import DepartmentFiling
from exports.grid import Grid
from exports.tables import department_grids
from exports.writer import workbook_bytes


def department_workbook(filing: DepartmentFiling) -> bytes:
    """The department's workbook as .xlsx bytes."""
    return workbook_bytes(department_grids(filing))


@dataclass(frozen=True)
class TableSheet:
    """One official table of a department's workbook, on its own (a preview shows one table)."""

    name: str  # the sheet's name: 表A, 表B, 表C1 <direction>
    title: str  # the printed title, e.g. 2024年部门整体支出绩效目标表

    def caption(self, page: int, pages: int) -> str:
        suffix = f" · 第{page}/{pages}页" if pages > 1 else ""
        return f"{self.name} · {self.title}{suffix}"


def department_tables(filing: DepartmentFiling) -> tuple[TableSheet, ...]:
    """The tables of the department's workbook, in sheet order."""
    return tuple(TableSheet(grid.name, _title_of(grid)) for grid in department_grids(filing))


def table_workbook(filing: DepartmentFiling, index: int) -> bytes:
    """One table of the department's workbook as a workbook of its own (IndexError if none)."""
    return workbook_bytes((department_grids(filing)[index],))


def _title_of(grid: Grid) -> str:
    first = grid.at(1, 1)
    return str(first.value) if first is not None and first.value is not None else grid.name
