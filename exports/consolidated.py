"""The supervisor's round workbook: every department of one round on three list sheets.

- 部门整体: table A figures of every department, one row each, with its status;
- 支出方向: every expenditure direction (table C) of every department;
- 填报状态: every table of every department with status, last change and by whom.

Each sheet has a frozen header row and an autofilter. The workbook is written in openpyxl's
write-only mode; text cells are bare values and only the header row and the amounts carry a
(shared, named) style, so writing costs about what bare openpyxl costs for the same cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from openpyxl.utils import get_column_letter

from dialogs.checks.indicators import QualityFigure
from dialogs.definition import FieldKind, Layout
from dialogs.filing import DepartmentFiling, FiledForm, directions_total
from dialogs.quality import department_quality
from dialogs.state import FormState
from exports.grid import Grid, GridBuilder
from exports.round_chart import add_round_chart
from exports.round_picture import filings_picture
from exports.tables import SHEET_A, SHEET_C_PREFIX, direction_name
from exports.writer import stream_workbook, to_bytes

NOT_STARTED = "未开始"
HEADING = "list_heading"
TEXT = "list_text"
SHEET_FIGURES = "部门整体"
SHEET_DIRECTIONS = "支出方向"
SHEET_STATUS = "填报状态"
QUALITY_HEADERS = ("指标数", "可量化", "定性", "不适用", "待改进提示")

Row = Sequence[str | Decimal | int | None]


def _status(form: FiledForm | None) -> str:
    return form.status.label if form is not None else NOT_STARTED


def _amount(state: FormState | None, key: str | None) -> Decimal | None:
    value = state.values.get(key) if state is not None and key else None
    return value if isinstance(value, Decimal) else None


def _text(state: FormState, key: str | None) -> str | None:
    value = state.values.get(key) if key else None
    return str(value) if value else None


def _list_grid(name: str, headers: Sequence[tuple[str, float]], rows: Sequence[Row]) -> Grid:
    builder = GridBuilder(name=name, column_widths=tuple(width for _, width in headers))
    for col, (label, _) in enumerate(headers, start=1):
        builder.put(1, col, label, HEADING)
    for index, values in enumerate(rows, start=2):
        for col, value in enumerate(values, start=1):
            if value is None:
                continue
            if isinstance(value, int):
                value = Decimal(value)
            if isinstance(value, Decimal):
                builder.amount(index, col, value)
            else:
                builder.put(index, col, value, TEXT)
    last = f"{get_column_letter(len(headers))}{len(rows) + 1}"
    return builder.build(freeze="A2", autofilter=f"A1:{last}", estimate_heights=False)


def figures_grid(
    layout: Layout,
    filings: Sequence[DepartmentFiling],
    qualities: Sequence[QualityFigure] | None = None,
) -> Grid:
    """部门整体: 部门名称, each amount of table A, the directions' sum and count, 状态, and the
    department's indicator quality figure (the autofilter lets a supervisor sort by it).
    `qualities`: the figures of `filings` if already computed (they cost most of the rows)."""
    amounts = [f for f in layout.table_a.fields() if f.kind is FieldKind.AMOUNT]
    headers = [("部门名称", 30.0)]
    headers += [(f.label.removeprefix("其中："), 14.0) for f in amounts]
    headers += [("支出方向金额合计", 16.0), ("支出方向数", 10.0), ("状态", 10.0)]
    headers += [(label, 10.0) for label in QUALITY_HEADERS]
    rows: list[Row] = []
    for index, filing in enumerate(filings):
        state = filing.table_a.state if filing.table_a else None
        row: list[str | Decimal | int | None] = [filing.department]
        row += [_amount(state, f.key) for f in amounts]
        row += [directions_total(layout, filing.directions), len(filing.directions)]
        row.append(_status(filing.table_a))
        quality = qualities[index] if qualities is not None else department_quality(filing)
        row += [
            quality.total,
            quality.measurable,
            quality.qualitative,
            quality.not_applicable,
            quality.warnings,
        ]
        rows.append(row)
    return _list_grid(SHEET_FIGURES, headers, rows)


def directions_grid(layout: Layout, filings: Sequence[DepartmentFiling]) -> Grid:
    """支出方向: one row per table C of every department."""
    definition = layout.table_c
    period_key, annual_key = layout.summary.goal_fields
    headers = [
        ("部门名称", 30.0),
        (definition.field(definition.group_field).label if definition.group_field else "", 18.0),
        (definition.field(definition.instance_field or "").label, 20.0),
        (definition.field(definition.amount_field).label if definition.amount_field else "", 12.0),
        (definition.field(period_key).label, 40.0),
        (definition.field(annual_key).label, 40.0),
        ("绩效指标数", 10.0),
        ("状态", 10.0),
    ]
    rows: list[Row] = []
    for filing in filings:
        for form in filing.directions:
            state = form.state
            applicable = sum(1 for r in state.indicators if not r.not_applicable and r.name)
            rows.append(
                [
                    filing.department,
                    _text(state, definition.group_field),
                    _text(state, definition.instance_field),
                    _amount(state, definition.amount_field),
                    _text(state, period_key),
                    _text(state, annual_key),
                    applicable,
                    _status(form),
                ]
            )
    return _list_grid(SHEET_DIRECTIONS, headers, rows)


def status_grid(layout: Layout, filings: Sequence[DepartmentFiling]) -> Grid:
    """填报状态: every table of every department (表A first, then each 表C)."""
    headers = [
        ("部门名称", 30.0),
        ("表格", 28.0),
        ("状态", 10.0),
        ("最后修改时间", 20.0),
        ("修改人", 16.0),
    ]
    rows: list[Row] = []
    for filing in filings:
        a = filing.table_a
        table = f"{SHEET_A} {layout.table_a.name}"
        changed, by = (a.updated_at, a.updated_by) if a is not None else (None, None)
        rows.append([filing.department, table, _status(a), changed, by])
        for number, form in enumerate(filing.directions, start=1):
            table = f"{SHEET_C_PREFIX}{number} {direction_name(filing, form)}"
            rows.append([filing.department, table, _status(form), form.updated_at, form.updated_by])
    return _list_grid(SHEET_STATUS, headers, rows)


def consolidated_grids(
    layout: Layout,
    filings: Sequence[DepartmentFiling],
    qualities: Sequence[QualityFigure] | None = None,
) -> tuple[Grid, ...]:
    return (
        figures_grid(layout, filings, qualities),
        directions_grid(layout, filings),
        status_grid(layout, filings),
    )


def consolidated_workbook(
    layout: Layout, filings: Sequence[DepartmentFiling], *, deadline_passed: bool = False
) -> bytes:
    """`{年度}_汇总.xlsx` (see exports.names) for one round's layout and departments; the first
    sheet carries the chart of the round (exports.round_chart), overdue if `deadline_passed`."""
    qualities = [department_quality(filing) for filing in filings]  # for the list and the chart
    grids = consolidated_grids(layout, filings, qualities)
    workbook = stream_workbook(grids, plain=(TEXT,))
    picture = filings_picture(filings, qualities=qualities, deadline_passed=deadline_passed)
    first = grids[0]  # the chart beside the list, the data table under it
    add_round_chart(
        workbook.worksheets[0], picture, after_row=first.max_row, anchor=(2, first.max_col + 2)
    )
    return to_bytes(workbook)
