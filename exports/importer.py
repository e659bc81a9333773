"""Read a workbook in the official layout back into forms: table A and each table C.

The workbook may be one we exported or one made by hand in the same layout: sheets are told
apart by their title (`2021年部门整体支出绩效目标表`, `…专项资金支出方向绩效目标表`; table B is
computed, so its sheet is skipped), fields are found by their official label and read from the
cell to the label's right, the 年度重点工作计划 and 年度绩效指标 blocks by their header rows.
Every non-empty cell is parsed by the same functions as a chat answer (dialogs.answers); an empty
cell is an unanswered step, for the chat to ask. Any refusal is an `ImportProblem` naming sheet
and cell, and then nothing is returned but the problems.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from dialogs.actions import FilingContext
from dialogs.answers import answer_indicator_cell, parse_field, parse_group_cell
from dialogs.catalogue import Problem
from dialogs.definition import FieldDef, FieldKind, FormDefinition, IndicatorColumn, Layout
from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.parsing.indicator import join_2023
from dialogs.state import FormState, GroupRow, IndicatorRow
from dialogs.steps import StepKind, done_key
from dialogs.values import Answer, format_decimal
from exports.blocks import LEVEL1_HEADER, LEVEL2_HEADER, NOT_APPLICABLE_MARK

_SPACES = re.compile(r"\s+")
_WIDTH = str.maketrans({":": "：", "(": "（", ")": "）"})


def normalize_label(text: str) -> str:
    """Labels compare without whitespace and with full-width colon and brackets."""
    return _SPACES.sub("", text).translate(_WIDTH)


@dataclass(frozen=True)
class ImportProblem:
    sheet: str
    cell: str  # "C5"; empty when the problem concerns the whole sheet or workbook
    message: str

    def __str__(self) -> str:
        place = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        return f"{place}：{self.message}"


class _Sheet:
    """Cell texts of one worksheet, aware of merged ranges."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.name = ws.title
        self.max_row = ws.max_row
        self.max_col = ws.max_column
        self._spans: dict[tuple[int, int], tuple[int, int]] = {}
        self._owner: dict[tuple[int, int], tuple[int, int]] = {}
        for merged in ws.merged_cells.ranges:
            top_left = (merged.min_row, merged.min_col)
            self._spans[top_left] = (merged.max_row, merged.max_col)
            for row in range(merged.min_row, merged.max_row + 1):
                for col in range(merged.min_col, merged.max_col + 1):
                    self._owner[(row, col)] = top_left

    def owner(self, row: int, col: int) -> tuple[int, int]:
        return self._owner.get((row, col), (row, col))

    def last_col(self, row: int, col: int) -> int:
        return self._spans.get((row, col), (row, col))[1]

    def is_formula(self, row: int, col: int) -> bool:
        return bool(self.ws.cell(row=row, column=col).data_type == "f")

    def text(self, row: int, col: int) -> str:
        """The text of the cell covering (row, col); numbers exactly as entered, '' if empty."""
        top, left = self.owner(row, col)
        value = self.ws.cell(row=top, column=left).value
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int | float | Decimal):
            try:
                return format_decimal(Decimal(str(value)))
            except InvalidOperation:
                return str(value)
        return str(value).strip()

    def labels(self) -> Iterator[tuple[int, int, str]]:
        for row in self.ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.strip():
                    yield cell.row, cell.column, normalize_label(cell.value)


def coordinate(row: int, col: int) -> str:
    return f"{get_column_letter(col)}{row}"


@dataclass
class _Reader:
    """Reads one form sheet against one definition, collecting problems."""

    sheet: _Sheet
    definition: FormDefinition
    context: FilingContext
    problems: list[ImportProblem] = field(default_factory=list)

    def problem(self, row: int, col: int, message: str) -> None:
        cell = coordinate(row, col) if row else ""
        self.problems.append(ImportProblem(self.sheet.name, cell, message))

    def refuse(self, row: int, col: int, found: Problem | tuple[Problem, ...]) -> None:
        for one in found if isinstance(found, tuple) else (found,):
            self.problem(row, col, one.message)

    def cell_text(self, row: int, col: int) -> str | None:
        """The text at (row, col), or None (with a problem) when the cell holds a formula."""
        if self.sheet.is_formula(*self.sheet.owner(row, col)):
            self.problem(row, col, "单元格是公式，请改为直接填写的内容。")
            return None
        return self.sheet.text(row, col)

    # --- where things are -----------------------------------------------------------------

    def find_row(self, *labels: str) -> dict[str, tuple[int, int]] | None:
        """The first row holding every one of `labels`: label -> (row, col)."""
        wanted = {normalize_label(label): label for label in labels}
        rows: dict[int, dict[str, tuple[int, int]]] = {}
        for row, col, text in self.sheet.labels():
            if text in wanted:
                found = rows.setdefault(row, {})
                found.setdefault(wanted[text], (row, col))
                if len(found) == len(wanted):
                    return found
        return None

    def find_label(self, label: str, before: int) -> tuple[int, int] | None:
        target = normalize_label(label)
        for row, col, text in self.sheet.labels():
            if row < before and text == target:
                return row, col
        return None

    # --- the form -------------------------------------------------------------------------

    def read(self) -> FormState:
        indicator_header = self.indicator_header()
        group_fields = [f for f in self.definition.fields() if f.kind is FieldKind.GROUP]
        group_headers = {f.key: self.find_row(*(c.label for c in f.columns)) for f in group_fields}
        starts = [row for found in group_headers.values() if found for row, _ in found.values()]
        if indicator_header:
            starts.append(min(row for row, _ in indicator_header.values()))
        first_block = min(starts, default=self.sheet.max_row + 1)
        values: dict[str, Answer] = {}
        label_rows = []
        for one in self.definition.fields():
            if one.kind in (FieldKind.GROUP, FieldKind.INDICATORS) or not one.asked:
                continue
            place = self.find_label(one.label, before=first_block)
            if place is None:
                self.problem(0, 0, f"找不到「{one.label}」。")
                continue
            label_rows.append(place[0])
            self.read_field(one, place, values)
        state = FormState(values=values)
        for one in group_fields:
            header = group_headers[one.key]
            if header is None:
                columns = "、".join(c.label for c in one.columns)
                self.problem(0, 0, f"找不到「{one.label}」的表头（{columns}）。")
                continue
            header_row = min(row for row, _ in header.values())
            following = [r for r in [*label_rows, *starts] if r > header_row]
            end = min(following, default=self.sheet.max_row + 1)
            state = self.read_group(one, header, end, state)
        if indicator_header is None:
            labels = "、".join((LEVEL1_HEADER, LEVEL2_HEADER, *self.indicator_labels()))
            self.problem(0, 0, f"找不到「年度绩效指标」的表头（{labels}）。")
            return state
        return self.read_indicators(indicator_header, state)

    def read_field(self, one: FieldDef, place: tuple[int, int], values: dict[str, Answer]) -> None:
        row, col = place
        value_col = self.sheet.last_col(row, col) + 1
        text = self.cell_text(row, value_col)
        if text is None:
            return
        if not text:
            if not one.required:
                values[one.key] = None  # an optional answer left out: skipped
            return
        parsed = parse_field(one, text, self.context)
        if isinstance(parsed, Problem):
            self.refuse(row, value_col, parsed)
        else:
            values[one.key] = parsed

    def read_group(
        self, one: FieldDef, header: dict[str, tuple[int, int]], end: int, state: FormState
    ) -> FormState:
        header_row = min(row for row, _ in header.values())
        rows: list[GroupRow] = []
        for row in range(header_row + 1, end):
            entry = GroupRow()
            for column in one.columns:
                col = header[column.label][1]
                text = self.cell_text(row, col)
                if not text:
                    continue
                parsed = parse_group_cell(column, text, self.context.year)
                if isinstance(parsed, Problem):
                    self.refuse(row, col, parsed)
                else:
                    entry = entry.with_cell(column.key, parsed)
            if entry.cells:
                rows.append(entry)
        if not rows:
            return state
        values = {**state.values, done_key(StepKind.GROUP_MORE, one.key): "1"}
        return replace(state, values=values, groups={**state.groups, one.key: tuple(rows)})

    # --- 年度绩效指标 ---------------------------------------------------------------------

    def indicator_labels(self) -> list[str]:
        return [spec.label for spec in self.definition.indicators.columns]

    def indicator_header(self) -> dict[str, tuple[int, int]] | None:
        return self.find_row(LEVEL1_HEADER, LEVEL2_HEADER, *self.indicator_labels())

    def read_indicators(self, header: dict[str, tuple[int, int]], state: FormState) -> FormState:
        layout = self.definition.indicators
        level2_by_label = {normalize_label(level2.label): level2 for _, level2 in layout.level2s()}
        level2_col = header[LEVEL2_HEADER][1]
        columns = {spec.column: header[spec.label][1] for spec in layout.columns}
        header_row = min(row for row, _ in header.values())
        rows: list[IndicatorRow] = []
        for row in range(header_row + 1, self.sheet.max_row + 1):
            texts: dict[IndicatorColumn, str] = {}
            for column, col in columns.items():
                text = self.cell_text(row, col)
                texts[column] = text or ""
            if not any(texts.values()):
                continue
            label = self.sheet.text(row, level2_col)
            level2 = level2_by_label.get(normalize_label(label))
            if level2 is None:
                self.problem(row, level2_col, f"二级指标“{label}”不是本表格式中的二级指标。")
                continue
            name = texts[IndicatorColumn.NAME]
            value = texts[IndicatorColumn.VALUE]
            if name == NOT_APPLICABLE_MARK and value == NOT_APPLICABLE_MARK:
                rows.append(IndicatorRow.not_applicable_row(level2.key))
                continue
            if IndicatorColumn.UNIT in texts and value != NOT_APPLICABLE_MARK:
                value = indicator_value(name, value, texts[IndicatorColumn.UNIT])
            entry = IndicatorRow(level2=level2.key)
            for spec in layout.asked_columns():
                text = value if spec.column is IndicatorColumn.VALUE else texts[spec.column]
                if not text:
                    if not spec.required:  # an optional cell left empty: skipped
                        entry = replace(entry, visited=(*entry.visited, spec.column.value))
                    continue
                result = answer_indicator_cell(
                    self.definition,
                    state,
                    level2,
                    entry,
                    spec.column.value,
                    text,
                    self.context.year,
                )
                if result.row is None:
                    self.refuse(row, columns[spec.column], result.problems)
                    break
                entry = result.row
            rows.append(entry)
        values = dict(state.values)
        for key in dict.fromkeys(row.level2 for row in rows):
            own = [r for r in rows if r.level2 == key]
            if any(r.not_applicable for r in own) and len(own) > 1:
                label = layout.level2(key).label
                self.problem(
                    header_row, level2_col, f"「{label}」已标为不适用（/），不能再有其他三级指标。"
                )
            values[done_key(StepKind.INDICATOR_MORE, key)] = "1"
        return replace(state, values=values, indicators=tuple(rows))


def indicator_value(name: str, value: str, unit: str) -> str:
    """The 指标值 a user typed, from a sheet that prints 计量单位 apart (2023 layout)."""
    return join_2023(name, value, unit)


def _title_of(sheet: _Sheet) -> str:
    for row in range(1, min(sheet.max_row, 3) + 1):
        for col in range(1, sheet.max_col + 1):
            text = normalize_label(sheet.text(row, col))
            if text:
                return text
    return ""


def _load(source: bytes | BinaryIO | Path) -> list[_Sheet]:
    stream: BinaryIO | Path = io.BytesIO(source) if isinstance(source, bytes) else source
    workbook = load_workbook(stream, data_only=False)
    return [_Sheet(ws) for ws in workbook.worksheets]


def import_workbook(
    source: bytes | BinaryIO | Path, layout: Layout, department: str, year: int
) -> DepartmentFiling | list[ImportProblem]:
    """The filing a workbook holds (forms have form_id 0: the caller matches C tables to its
    stored forms by 支出方向（子项）), or every problem found, each naming sheet and cell."""
    try:
        sheets = _load(source)
    except Exception as error:  # openpyxl raises many kinds for a file that is not xlsx
        return [
            ImportProblem("工作簿", "", f"无法读取：{type(error).__name__}，请上传 .xlsx 文件。")
        ]
    context = FilingContext(year=year, department_name=department)
    problems: list[ImportProblem] = []
    table_a: FormState | None = None
    directions: list[FormState] = []
    seen: dict[str, str] = {}
    for sheet in sheets:
        title = _title_of(sheet)
        definition = next(
            (d for d in (layout.table_a, layout.table_c) if title.endswith(d.name)), None
        )
        if definition is None:
            continue  # table B (computed) or a sheet of the user's own
        expected = normalize_label(definition.title.format(year=year))
        if title != expected:
            problems.append(ImportProblem(sheet.name, "A1", f"标题应为“{expected}”。"))
            continue
        reader = _Reader(sheet, definition, context)
        state = reader.read()
        problems.extend(reader.problems)
        if definition is layout.table_a:
            if table_a is not None:
                problems.append(
                    ImportProblem(sheet.name, "A1", "工作簿中有两张部门整体支出绩效目标表。")
                )
            table_a = state
            continue
        key = definition.instance_field or ""
        name = str(state.values.get(key) or "")
        if name and name in seen:
            message = f"支出方向“{name}”与工作表“{seen[name]}”重复。"
            problems.append(ImportProblem(sheet.name, "", message))
        seen.setdefault(name, sheet.name)
        directions.append(state)
    if table_a is None and not directions:
        names = f"{layout.table_a.name}或{layout.table_c.name}"
        problems.append(ImportProblem("工作簿", "", f"没有找到{year}年的{names}。"))
    if problems:
        return problems
    return DepartmentFiling(
        department=department,
        year=year,
        layout=layout,
        table_a=FiledForm(form_id=0, state=table_a) if table_a is not None else None,
        directions=tuple(FiledForm(form_id=0, state=state) for state in directions),
    )
