"""The grids of one department's workbook: table A, table B (computed) and one sheet per C.

Why one sheet per table C rather than all C tables stacked on one sheet with page breaks: each C
table is a document of its own (its own title, 项目主管部门 line and signature stamp), and a
sheet's repeated print-title rows can only be one range, so on a stacked sheet the pages of the
second table would repeat the first table's title. Separate sheets also print each table from a
fresh page, name the direction on the sheet tab, and give the importer one table per sheet.
"""

from __future__ import annotations

from dialogs.definition import FormDefinition
from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.state import FormState
from exports.blocks import LEVEL1_HEADER, column_widths, form_body, header_lines, landscape
from exports.grid import Grid, GridBuilder
from exports.names import sheet_name
from exports.table_b import table_b_grid

SHEET_A = "表A"
SHEET_B = "表B"
SHEET_C_PREFIX = "表C"


def _form_grid(
    name: str,
    definition: FormDefinition,
    state: FormState,
    department: str,
    year: int,
    with_unit: bool,
) -> Grid:
    widths = column_widths(definition.indicators)
    builder = GridBuilder(name=name, column_widths=widths)
    title = definition.title.format(year=year)
    header = definition.header.format(department=department)
    header_lines(builder, title, header, with_unit)
    sections = [(section.label, section.fields) for section in definition.sections]
    form_body(builder, sections, state, department, definition.indicators)
    return builder.build(print_title_rows=_continued_rows(builder), landscape=landscape(widths))


def _continued_rows(builder: GridBuilder) -> tuple[int, int] | None:
    """The rows repeated on the pages a table continues on: the indicator block's column
    headings (一级指标 · 二级指标 · 三级指标 …). The title prints once, on the first page; the
    applications repeat rows only from the page after they first appear."""
    for cell in builder.cells:
        if cell.value == LEVEL1_HEADER and cell.style == "heading":
            return (cell.row, cell.row)
    return None


def table_a_grid(filing: DepartmentFiling, name: str = SHEET_A) -> Grid:
    """部门整体支出绩效目标表; an empty table when the department has not started it."""
    state = filing.table_a.state if filing.table_a else FormState()
    definition = filing.layout.table_a
    return _form_grid(name, definition, state, filing.department, filing.year, with_unit=False)


def table_c_grid(filing: DepartmentFiling, form: FiledForm, name: str) -> Grid:
    """专项资金支出方向绩效目标表 of one expenditure direction."""
    definition = filing.layout.table_c
    return _form_grid(name, definition, form.state, filing.department, filing.year, with_unit=True)


def direction_name(filing: DepartmentFiling, form: FiledForm) -> str:
    key = filing.layout.table_c.instance_field
    value = form.state.values.get(key) if key else None
    return str(value) if value else ""


def department_grids(filing: DepartmentFiling) -> tuple[Grid, ...]:
    """Table A, table B, then each table C in filing order (sheet names unique, ≤31 chars)."""
    taken = {SHEET_A, SHEET_B}
    grids = [table_a_grid(filing), table_b_grid(filing, SHEET_B)]
    for number, form in enumerate(filing.directions, start=1):
        wanted = f"{SHEET_C_PREFIX}{number} {direction_name(filing, form)}".strip()
        grids.append(table_c_grid(filing, form, sheet_name(wanted, taken)))
    return tuple(grids)
