"""Pieces shared by the grids of tables A and C: header lines, field rows, groups, indicators.

Both tables share one column plan: a label column, then 一级指标 and 二级指标, then the layout's
indicator columns (2021: 三级指标 · 指标值 · 备注; 2023 adds 指标值类型, 计量单位, 指标解释,
评（扣）分标准 and 权重). Every other block spreads its cells over those same columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal

from dialogs.definition import (
    FieldDef,
    FieldKind,
    IndicatorColumn,
    IndicatorLayout,
)
from dialogs.parsing.indicator import split_for_2023
from dialogs.state import FormState, GroupRow, IndicatorRow
from dialogs.values import Answer, Nature
from exports.grid import FIT, CellValue, GridBuilder
from exports.text_width import fits_one_line, text_lines, text_units

AMOUNT_UNIT = "金额单位：万元"
LEVEL1_HEADER = "一级指标"
LEVEL2_HEADER = "二级指标"
NOT_APPLICABLE_MARK = "/"
TITLE_HEIGHT = 36.0

LABEL_WIDTH = 20.0
LEVEL1_WIDTH = 10.0
LEVEL2_WIDTH = 12.0
# Widths of the indicator columns; the value column is narrower when 计量单位 has its own.
INDICATOR_WIDTHS: dict[IndicatorColumn, float] = {
    IndicatorColumn.NAME: 30.0,
    IndicatorColumn.VALUE_TYPE: 8.0,
    IndicatorColumn.VALUE: 20.0,
    IndicatorColumn.UNIT: 9.0,  # `万元/公里`, `元/人·月` on one line
    IndicatorColumn.EXPLANATION: 18.0,
    IndicatorColumn.SCORING: 18.0,
    IndicatorColumn.WEIGHT: 7.0,
    IndicatorColumn.REMARK: 10.0,
}
# Wide enough for a whole deadline (`2026年11月底前`), which the 2023 指标值 keeps as typed.
SPLIT_VALUE_WIDTH = 14.0
# A heading or 二级指标 name up to this wide gets a column wide enough for it (at 11 pt a CJK
# character is 1.875 units; LibreOffice fits 8 px a unit plus 2 px, see exports.grid).
NAME_LIMIT = 15.0
LABEL_PADDING = 0.5
NAME_WIDTH_WIDE = 24.0
# Wider than this many width units does not fit A4 portrait at a readable size: go landscape.
PORTRAIT_LIMIT = 110.0
CENTERED_COLUMNS = frozenset(
    {IndicatorColumn.VALUE_TYPE, IndicatorColumn.VALUE, IndicatorColumn.UNIT}
)
SHORT_KINDS = frozenset({FieldKind.TEXT, FieldKind.AMOUNT, FieldKind.PERIOD, FieldKind.CHOICE})


def _one_line(width: float, labels: Sequence[str]) -> float:
    """`width`, grown so that each of `labels` that can fit within `NAME_LIMIT` prints whole on
    one line (`可持续影响指标`, `指标值类型`); longer labels wrap."""
    for label in labels:
        need = text_units(label) + LABEL_PADDING
        if width < need <= NAME_LIMIT:
            width = need
    return round(width, 2)


def column_widths(layout: IndicatorLayout) -> tuple[float, ...]:
    """Label, 一级, 二级, then one width per indicator column of the layout."""
    split = layout.has(IndicatorColumn.UNIT)
    level2 = [child.label for _, child in layout.level2s()]
    widths = [LABEL_WIDTH, LEVEL1_WIDTH, _one_line(LEVEL2_WIDTH, level2)]
    for spec in layout.columns:
        width = INDICATOR_WIDTHS[spec.column]
        if split and spec.column is IndicatorColumn.VALUE:
            width = SPLIT_VALUE_WIDTH
        if split and spec.column is IndicatorColumn.NAME:
            width = NAME_WIDTH_WIDE
        widths.append(_one_line(width, [spec.label]))
    return tuple(widths)


def landscape(widths: Sequence[float]) -> bool:
    return sum(widths) > PORTRAIT_LIMIT


def spans(weights: Sequence[int], available: int) -> list[int]:
    """Split `available` columns among parts: one each, the rest to the most crowded part."""
    if len(weights) > available:
        raise ValueError(f"{len(weights)} parts do not fit in {available} columns")
    result = [1] * len(weights)
    for _ in range(available - len(weights)):
        crowded = max(range(len(weights)), key=lambda i: (weights[i] / result[i], -i))
        result[crowded] += 1
    return result


def compositions(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    """Every way to split `total` columns into `parts` contiguous spans of at least one."""
    if parts == 1:
        yield (total,)
        return
    for first in range(1, total - parts + 2):
        for rest in compositions(total - first, parts - 1):
            yield (first, *rest)


# A text this wide or narrower (about ten CJK characters) is a name: never broken across lines.
SHORT_TEXT_UNITS = 20.0


def group_spans(
    texts: Sequence[Sequence[str]], widths: Sequence[float], weights: Sequence[int]
) -> list[int]:
    """Columns for each group column, `texts` being its header and entries: no short text (a
    责任单位 name) broken when a split avoids it, then the fewest printed lines, then the split
    that follows the columns' lengths (`spans`)."""
    available = len(widths)
    preferred = spans(weights, available)
    best: tuple[tuple[int, int, int, int], list[int]] | None = None
    for split in compositions(available, len(texts)):
        col = 0
        broken = 0
        lines: list[list[int]] = []
        for column_texts, span in zip(texts, split, strict=True):
            width = sum(widths[col : col + span])
            col += span
            counts = [text_lines(text, width) if text else 1 for text in column_texts]
            broken += sum(
                1
                for text, count in zip(column_texts, counts, strict=True)
                if count > 1 and text_units(text) <= SHORT_TEXT_UNITS
            )
            lines.append(counts)
        rows = sum(max(row) for row in zip(*lines, strict=True))
        cells = sum(sum(counts) for counts in lines)
        distance = sum(abs(a - b) for a, b in zip(split, preferred, strict=True))
        score = (broken, rows, cells, distance)
        if best is None or score < best[0]:
            best = (score, list(split))
    assert best is not None
    return best[1]


def answer_value(field: FieldDef, state: FormState, department: str) -> CellValue:
    """A stored answer as a cell value: amounts stay Decimal, everything else is text."""
    if field.calculate == "department_name":
        return department
    value: Answer = state.values.get(field.key)
    if value is None or isinstance(value, Decimal):
        return value
    return str(value) or None


def field_style(field: FieldDef) -> str:
    return "text" if field.kind is FieldKind.LONG_TEXT else FIT


def header_lines(builder: GridBuilder, title: str, header: str, with_unit: bool) -> tuple[int, int]:
    """The title line and the 填报单位/项目主管部门 line (with 金额单位 on its right)."""
    first = builder.line(title, "title", height=TITLE_HEIGHT)
    row = builder.row
    if with_unit:
        builder.put(row, 1, header, "header_left", cols=builder.columns - 2)
        builder.put(row, builder.columns - 1, AMOUNT_UNIT, "header_right", cols=2)
    else:
        builder.put(row, 1, header, "header_left", cols=builder.columns)
    builder.row += 1
    return first, row


def _put_value(
    builder: GridBuilder, row: int, col: int, value: CellValue, style: str, cols: int
) -> None:
    if isinstance(value, Decimal):
        builder.amount(row, col, value, cols=cols)
    else:
        builder.put(row, col, value, style, cols=cols)


def _label_span(builder: GridBuilder, col: int, label: str, available: int) -> int:
    """Columns from `col` a label needs to print on one line (`项目实施期` over a narrow 计量单位
    column), leaving at least one column of the `available` for its value."""
    for span in range(1, available):
        if fits_one_line(label, sum(builder.column_widths[col - 1 : col - 1 + span])):
            return span
    return 1


def field_rows(
    builder: GridBuilder, fields: Sequence[FieldDef], state: FormState, department: str
) -> None:
    """Plain fields: short ones two to a row (label, value, label, value), long ones alone."""
    content = builder.columns - 1
    first_value = content // 2  # the left value of a pair; the right label takes one column
    pending: list[FieldDef] = []

    def flush() -> None:
        while pending:
            pair = pending[:2]
            del pending[:2]
            row = builder.row
            left = pair[0]
            builder.put(row, 1, left.label, "label")
            if len(pair) == 1:
                value = answer_value(left, state, department)
                _put_value(builder, row, 2, value, field_style(left), content)
            else:
                right = pair[1]
                value = answer_value(left, state, department)
                _put_value(builder, row, 2, value, FIT, first_value)
                label_cols = _label_span(
                    builder, 2 + first_value, right.label, content - first_value
                )
                builder.put(row, 2 + first_value, right.label, "label", cols=label_cols)
                rest = content - first_value - label_cols
                value = answer_value(right, state, department)
                _put_value(builder, row, 2 + first_value + label_cols, value, FIT, rest)
            builder.row += 1

    for field in fields:
        if field.kind in SHORT_KINDS:
            pending.append(field)
            continue
        flush()
        row = builder.row
        builder.put(row, 1, field.label, "label")
        value = answer_value(field, state, department)
        _put_value(builder, row, 2, value, field_style(field), content)
        builder.row += 1
    flush()


def budget_block(
    builder: GridBuilder, label: str, fields: Sequence[FieldDef], state: FormState
) -> None:
    """年度预算申请（万元）: the total, then each group_label (按收入性质分 …) as a column pair."""
    content = builder.columns - 1
    left = (content + 1) // 2
    halves = [(2, left), (2 + left, content - left)]
    first = builder.row
    for field in (f for f in fields if not f.group_label):
        row = builder.row
        builder.put(row, 2, field.label, "label", cols=left - 1)
        builder.amount(row, 1 + left, _amount(state, field.key), cols=content - left + 1)
        builder.row += 1
    groups: dict[str, list[FieldDef]] = {}
    for field in fields:
        if field.group_label:
            groups.setdefault(field.group_label, []).append(field)
    names = list(groups)
    for band in range(0, len(names), 2):
        band_names = names[band : band + 2]
        header_row = builder.row
        depth = max(len(groups[name]) for name in band_names)
        for (col, width), name in zip(halves, band_names, strict=False):
            builder.put(header_row, col, name, "label", cols=width)
        for (col, width), name in zip(halves, band_names, strict=False):
            members = groups[name]
            for offset in range(depth):
                row = header_row + 1 + offset
                member = members[offset] if offset < len(members) else None
                builder.put(row, col, member.label if member else None, "text", cols=width - 1)
                value = _amount(state, member.key) if member else None
                builder.amount(row, col + width - 1, value)
        if len(band_names) == 1:  # keep the right half bordered
            builder.put(header_row, halves[1][0], None, "label", rows=depth + 1, cols=halves[1][1])
        builder.row = header_row + depth + 1
    builder.put(first, 1, label, "label", rows=builder.row - first)
    builder.keep_together(first, builder.row - 1)


def _amount(state: FormState, key: str) -> Decimal | None:
    value = state.values.get(key)
    return value if isinstance(value, Decimal) else None


def group_block(
    builder: GridBuilder, label: str, field: FieldDef, rows: Sequence[GroupRow]
) -> None:
    """年度重点工作计划: a header row of the column labels, then one row per entry."""
    texts = [
        [column.label] + [entry.get(column.key) or "" for entry in rows] for column in field.columns
    ]
    weights = [column.max_length for column in field.columns]
    widths = group_spans(texts, builder.column_widths[1:], weights)
    first = builder.row
    col = 2
    for column, width in zip(field.columns, widths, strict=True):
        builder.put(first, col, column.label, "heading", cols=width)
        col += width
    # One alignment per column: centred only when every entry of the column fits on one line.
    styles = []
    col = 2
    for column, width in zip(field.columns, widths, strict=True):
        span = sum(builder.column_widths[col - 1 : col - 1 + width])
        entries = [entry.get(column.key) or "" for entry in rows]
        short = column.kind is FieldKind.TEXT and all(fits_one_line(t, span) for t in entries)
        styles.append("center" if short else "text")
        col += width
    for index, entry in enumerate(rows or (GroupRow(),)):
        row = first + 1 + index
        col = 2
        for column, width, style in zip(field.columns, widths, styles, strict=True):
            builder.put(row, col, entry.get(column.key), style, cols=width)
            col += width
    builder.row = first + 1 + max(len(rows), 1)
    builder.put(first, 1, label, "label", rows=builder.row - first)
    builder.keep_together(first, first + 1)  # never a header alone at the foot of a page


def indicator_cells(layout: IndicatorLayout, row: IndicatorRow | None) -> list[CellValue]:
    """The printed cells of one indicator row, in the layout's column order."""
    if row is None:
        return [None] * len(layout.columns)
    if row.not_applicable:
        return [
            NOT_APPLICABLE_MARK
            if spec.column in (IndicatorColumn.NAME, IndicatorColumn.VALUE)
            else None
            for spec in layout.columns
        ]
    value_text, unit = row.value, ""
    if row.reading is not None and layout.has(IndicatorColumn.UNIT):
        value_text, unit = split_for_2023(row.reading, row.value, row.name)
    cells: list[CellValue] = []
    for spec in layout.columns:
        column = spec.column
        if column is IndicatorColumn.VALUE:
            cells.append(value_text or None)
        elif column is IndicatorColumn.UNIT:
            cells.append(unit or None)
        elif column is IndicatorColumn.VALUE_TYPE:
            nature = row.reading.nature if row.reading else None
            typed = nature in (Nature.QUANTITATIVE, Nature.QUALITATIVE)
            cells.append(nature.value if nature is not None and typed else None)
        elif column is IndicatorColumn.WEIGHT:
            cells.append(row.weight)
        else:
            cells.append(row.text(column.value) or None)
    return cells


def indicator_block(
    builder: GridBuilder, label: str, layout: IndicatorLayout, rows: Sequence[IndicatorRow]
) -> None:
    """年度绩效指标: header row, then each 一级 merged over its 二级, each 二级 over its rows."""
    first = builder.row
    builder.put(first, 2, LEVEL1_HEADER, "heading")
    builder.put(first, 3, LEVEL2_HEADER, "heading")
    for offset, spec in enumerate(layout.columns):
        builder.put(first, 4 + offset, spec.label, "heading")
    row = first + 1
    for level1 in layout.levels:
        level1_first = row
        for level2 in level1.children:
            own: list[IndicatorRow | None] = [r for r in rows if r.level2 == level2.key]
            own = own or [None]
            builder.put(row, 3, level2.label, "center", rows=len(own))
            for entry in own:
                for offset, (spec, value) in enumerate(
                    zip(layout.columns, indicator_cells(layout, entry), strict=True)
                ):
                    style = FIT if spec.column in CENTERED_COLUMNS else "text"
                    if entry is not None and entry.not_applicable:
                        style = "center"
                    _put_value(builder, row, 4 + offset, value, style, 1)
                row += 1
        builder.put(level1_first, 2, level1.label, "center", rows=row - level1_first)
        # The header goes with the first 一级指标; each 一级指标 stays on one page if it can.
        builder.keep_together(first if level1 is layout.levels[0] else level1_first, row - 1)
    # Never the headings alone at the foot of a page, however long the first 一级指标.
    builder.keep_together(first, first + 1)
    builder.row = row
    builder.put(first, 1, label, "label", rows=row - first)


def form_body(
    builder: GridBuilder,
    sections: Sequence[tuple[str, Sequence[FieldDef]]],
    state: FormState,
    department: str,
    layout: IndicatorLayout,
) -> None:
    """Every section of a form definition, in order, each as the block its fields call for."""
    for label, fields in sections:
        kinds = {field.kind for field in fields}
        if FieldKind.INDICATORS in kinds:
            indicator_block(builder, label, layout, state.indicators)
        elif FieldKind.GROUP in kinds:
            group = next(f for f in fields if f.kind is FieldKind.GROUP)
            group_block(builder, label, group, state.groups.get(group.key, ()))
        elif any(field.group_label for field in fields):
            budget_block(builder, label, fields, state)
        else:
            field_rows(builder, fields, state, department)
