"""The supervisor's round workbook: one file to review and to print a whole round.

- 说明: the year, the round, when the file was made (in the deployment's time zone, handed in
  as data: exports never read settings), how many departments and tables in which status;
- 部门整体: table A figures of every department, one row each, with its status;
- 支出方向: every expenditure direction (table C) of every department;
- 填报状态: every table of every department with status, last change and by whom;
- 表A / 表B / 表C: the official tables of every department that has started, one under another,
  each from a new page (as in the department workbook), so the round prints from one file.

List sheets have a title, a frozen header row with an autofilter, amounts headed with their
unit, and print landscape, one page wide, the header row repeated on every page. The workbook is
written in openpyxl's write-only mode (rows go to the file as they are made).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

from openpyxl.utils import get_column_letter

from dialogs.checks.indicators import QualityFigure
from dialogs.definition import FieldKind, Layout
from dialogs.filing import DepartmentFiling, FiledForm, directions_total
from dialogs.quality import department_quality
from dialogs.state import FormState, FormStatus
from exports.blocks import TITLE_HEIGHT
from exports.grid import Grid, GridBuilder, Stack
from exports.round_chart import add_round_chart
from exports.round_picture import filings_picture
from exports.table_b import table_b_grid
from exports.tables import SHEET_A, SHEET_C_PREFIX, direction_name, table_a_grid, table_c_grid
from exports.text_width import text_units
from exports.writer import stream_workbook, to_bytes

NOT_STARTED = "未开始"
HEADING = "list_heading"
TEXT = "list_text"
SHEET_COVER = "说明"
SHEET_FIGURES = "部门整体"
SHEET_DIRECTIONS = "支出方向"
SHEET_STATUS = "填报状态"
QUALITY_HEADERS = ("指标数", "可量化", "定性", "不适用", "待改进提示")
UNIT = "（万元）"
PAGE_FOOTER = "第 &P 页，共 &N 页"
TIME_FORMAT = "%Y-%m-%d %H:%M"
# A list column is as wide as its widest text, within these bounds; longer text wraps.
LIST_MIN_WIDTH = 6.0
LIST_MAX_WIDTH = 40.0
HEADER_ROW = 3  # title, round line, then the column headers
HEADER_LINES = 2

Row = Sequence[str | Decimal | int | None]


@dataclass(frozen=True)
class RoundHeader:
    """What the workbook says about itself: the round's year and title, and when it was made
    (an aware time already in the deployment's zone, JIXIAO_TIMEZONE)."""

    year: int
    title: str
    made_at: datetime

    @property
    def made(self) -> str:
        """`2024-03-01 09:30（UTC+08:00）`: the offset, since names such as CST are ambiguous."""
        text = self.made_at.strftime(TIME_FORMAT)
        offset = self.made_at.strftime("%z")
        return f"{text}（UTC{offset[:3]}:{offset[3:]}）" if offset else text

    def local(self, stamp: str) -> str:
        """A stored ISO time (storage keeps UTC) in the header's zone; other text unchanged."""
        try:
            moment = datetime.fromisoformat(stamp)
        except ValueError:
            return stamp
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.made_at.tzinfo).strftime(TIME_FORMAT)


def _status(form: FiledForm | None) -> str:
    return form.status.label if form is not None else NOT_STARTED


def _amount(state: FormState | None, key: str | None) -> Decimal | None:
    value = state.values.get(key) if state is not None and key else None
    return value if isinstance(value, Decimal) else None


def _text(state: FormState, key: str | None) -> str | None:
    value = state.values.get(key) if key else None
    return str(value) if value else None


def _header_units(label: str) -> float:
    """A header takes two lines: `资金总额` over `（万元）`, or its two halves."""
    if UNIT in label:
        return max(text_units(label.removesuffix(UNIT)), text_units(UNIT))
    return text_units(label[: -(-len(label) // HEADER_LINES)])


def _list_widths(headers: Sequence[str], rows: Sequence[Row]) -> tuple[float, ...]:
    """Each column as wide as its widest text, within the list bounds (longer text wraps); a
    header may take two lines. Numbers are widened further by the grid when they need it."""
    widths = []
    for col, label in enumerate(headers):
        widest = _header_units(label)
        for values in rows:
            value = values[col]
            if isinstance(value, str):
                widest = max(widest, text_units(value))
        widths.append(min(max(widest + 1.0, LIST_MIN_WIDTH), LIST_MAX_WIDTH))
    return tuple(widths)


def _list_grid(
    name: str, title: str, header: RoundHeader, labels: Sequence[str], rows: Sequence[Row]
) -> Grid:
    builder = GridBuilder(name=name, column_widths=_list_widths(labels, rows))
    builder.line(title, "title", height=TITLE_HEIGHT)
    builder.line(f"{header.title} · 金额单位：万元 · 生成时间：{header.made}", "header_left")
    for col, label in enumerate(labels, start=1):
        builder.put(HEADER_ROW, col, label, HEADING)
    for index, values in enumerate(rows, start=HEADER_ROW + 1):
        for col, value in enumerate(values, start=1):
            if isinstance(value, int):
                value = Decimal(value)
            if isinstance(value, Decimal):
                builder.amount(index, col, value)
            else:
                builder.put(index, col, value, TEXT)
    last = f"{get_column_letter(len(labels))}{len(rows) + HEADER_ROW}"
    return builder.build(
        print_title_rows=(HEADER_ROW, HEADER_ROW),
        landscape=True,
        freeze=f"B{HEADER_ROW + 1}",
        autofilter=f"A{HEADER_ROW}:{last}",
        footer=f"{title} {PAGE_FOOTER}",
    )


def figures_grid(
    layout: Layout,
    filings: Sequence[DepartmentFiling],
    header: RoundHeader,
    qualities: Sequence[QualityFigure] | None = None,
) -> Grid:
    """部门整体: 部门名称, each amount of table A, the directions' sum and count, 状态, and the
    department's indicator quality figure (the autofilter lets a supervisor sort by it).
    `qualities`: the figures of `filings` if already computed (they cost most of the rows)."""
    amounts = [f for f in layout.table_a.fields() if f.kind is FieldKind.AMOUNT]
    labels = ["部门名称"]
    labels += [f.label.removeprefix("其中：") + UNIT for f in amounts]
    labels += ["支出方向金额合计" + UNIT, "支出方向数", "状态", *QUALITY_HEADERS]
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
    title = f"{header.year}年部门整体支出汇总"
    return _list_grid(SHEET_FIGURES, title, header, labels, rows)


def directions_grid(
    layout: Layout, filings: Sequence[DepartmentFiling], header: RoundHeader
) -> Grid:
    """支出方向: one row per table C of every department."""
    definition = layout.table_c
    period_key, annual_key = layout.summary.goal_fields
    amount_label = (
        definition.field(definition.amount_field).label if definition.amount_field else ""
    )
    labels = [
        "部门名称",
        definition.field(definition.group_field).label if definition.group_field else "",
        definition.field(definition.instance_field or "").label,
        amount_label + UNIT,
        definition.field(period_key).label,
        definition.field(annual_key).label,
        "绩效指标数",
        "状态",
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
    title = f"{header.year}年专项资金支出方向汇总"
    return _list_grid(SHEET_DIRECTIONS, title, header, labels, rows)


def status_grid(layout: Layout, filings: Sequence[DepartmentFiling], header: RoundHeader) -> Grid:
    """填报状态: every table of every department (表A first, then each 表C)."""
    labels = ["部门名称", "表格", "状态", "最后修改时间", "修改人"]
    rows: list[Row] = []
    for filing in filings:
        a = filing.table_a
        table = f"{SHEET_A} {layout.table_a.name}"
        changed, by = (header.local(a.updated_at), a.updated_by) if a is not None else (None, None)
        rows.append([filing.department, table, _status(a), changed or None, by or None])
        for number, form in enumerate(filing.directions, start=1):
            table = f"{SHEET_C_PREFIX}{number} {direction_name(filing, form)}"
            changed = header.local(form.updated_at) or None
            rows.append([filing.department, table, _status(form), changed, form.updated_by or None])
    title = f"{header.year}年绩效目标表填报状态"
    return _list_grid(SHEET_STATUS, title, header, labels, rows)


def _forms(filings: Sequence[DepartmentFiling]) -> list[FiledForm]:
    forms: list[FiledForm] = []
    for filing in filings:
        if filing.table_a is not None:
            forms.append(filing.table_a)
        forms.extend(filing.directions)
    return forms


def cover_grid(layout: Layout, filings: Sequence[DepartmentFiling], header: RoundHeader) -> Grid:
    """说明: what this workbook is, when it was made, and where each part is."""
    started = [f for f in filings if _started(f)]
    forms = _forms(filings)
    counts = "，".join(
        f"{status.label} {sum(1 for f in forms if f.status is status)}" for status in FormStatus
    )
    lines: list[tuple[str, str]] = [
        ("年度", f"{header.year}年"),
        ("填报轮次", header.title),
        ("表式", layout.name),
        ("生成时间", header.made),
        (
            "部门数",
            f"{len(filings)} 个（已开始填报 {len(started)} 个，"
            f"未开始 {len(filings) - len(started)} 个）",
        ),
        ("表格数", f"{len(forms)} 张（{counts}）"),
        ("金额单位", "万元"),
        (SHEET_FIGURES, "各部门表A金额、支出方向合计与指标质量，每部门一行"),
        (SHEET_DIRECTIONS, "各部门每个专项资金支出方向（表C），每个一行"),
        (SHEET_STATUS, "各部门每张表的状态、最后修改时间和修改人"),
        (
            _stack_name(SHEET_A, layout.table_a.name),
            "各部门" + layout.table_a.name + "，每部门从新的一页开始",
        ),
        (
            _stack_name("表B", layout.summary.name),
            "各部门" + layout.summary.name + "（由表C汇总生成）",
        ),
        (_stack_name("表C", layout.table_c.name), "各部门各支出方向的" + layout.table_c.name),
        ("备注", "未开始填报的部门只列在清单中，不打印空白表格。"),
    ]
    builder = GridBuilder(name=SHEET_COVER, column_widths=(30.0, 60.0))
    builder.line(f"{header.year}年预算绩效目标汇总（{header.title}）", "title", height=TITLE_HEIGHT)
    for label, text in lines:
        row = builder.row
        builder.put(row, 1, label, "label")
        builder.put(row, 2, text, "text")
        builder.row += 1
    return builder.build(footer=PAGE_FOOTER)


def _started(filing: DepartmentFiling) -> bool:
    return filing.table_a is not None or bool(filing.directions)


def _stack_name(prefix: str, name: str) -> str:
    return f"{prefix} {name}"


def official_stacks(layout: Layout, filings: Sequence[DepartmentFiling]) -> tuple[Stack, ...]:
    """表A, 表B and 表C of every department that has started, each table from a new page."""
    started = [f for f in filings if _started(f)]
    a = Stack(
        _stack_name(SHEET_A, layout.table_a.name),
        tuple(table_a_grid(f) for f in started),
        footer=PAGE_FOOTER,
    )
    b = Stack(
        _stack_name("表B", layout.summary.name),
        tuple(table_b_grid(f, "表B") for f in started if f.directions),
        footer=PAGE_FOOTER,
    )
    c_tables: list[Grid] = []
    for filing in started:
        c_tables += (table_c_grid(filing, form, SHEET_C_PREFIX) for form in filing.directions)
    c = Stack(_stack_name("表C", layout.table_c.name), tuple(c_tables), footer=PAGE_FOOTER)
    return tuple(stack for stack in (a, b, c) if stack.parts)


def consolidated_grids(
    layout: Layout,
    filings: Sequence[DepartmentFiling],
    header: RoundHeader,
    qualities: Sequence[QualityFigure] | None = None,
) -> tuple[Grid, ...]:
    """The cover and the three list sheets."""
    return (
        cover_grid(layout, filings, header),
        figures_grid(layout, filings, header, qualities),
        directions_grid(layout, filings, header),
        status_grid(layout, filings, header),
    )


def consolidated_workbook(
    layout: Layout,
    filings: Sequence[DepartmentFiling],
    header: RoundHeader,
    *,
    deadline_passed: bool = False,
) -> bytes:
    """`{年度}_汇总.xlsx` (see exports.names) for one round's layout and departments; the cover
    sheet carries the chart of the round (exports.round_chart), overdue if `deadline_passed`."""
    qualities = [department_quality(filing) for filing in filings]  # for the list and the chart
    grids = consolidated_grids(layout, filings, header, qualities)
    book = stream_workbook([*grids, *official_stacks(layout, filings)])
    picture = filings_picture(
        filings, title=header.title, qualities=qualities, deadline_passed=deadline_passed
    )
    cover = book.workbook.worksheets[0]
    add_round_chart(cover, picture, after_row=grids[0].max_row, write=partial(book.add_rows, cover))
    return to_bytes(book)
