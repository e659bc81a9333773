"""Excel exports: a department's official tables, the supervisor's round workbook, and import.

`exports` reads `dialogs` only (never storage): the bot hands it `DepartmentFiling` values.

    department_workbook(filing) -> bytes          # 表A, 表B (computed), one sheet per 表C
    consolidated_workbook(layout, filings) -> bytes   # exports.consolidated
    import_workbook(data, layout, department, year)   # exports.importer
    department_file_name(year, department), consolidated_file_name(year)  # exports.names
"""

from __future__ import annotations

from dialogs.filing import DepartmentFiling
from exports.tables import department_grids
from exports.writer import workbook_bytes


def department_workbook(filing: DepartmentFiling) -> bytes:
    """The department's workbook as .xlsx bytes."""
    return workbook_bytes(department_grids(filing))
