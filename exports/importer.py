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
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser

from dialogs.actions import FilingContext
from dialogs.answers import answer_indicator_cell, parse_field, parse_group_cell
from dialogs.catalogue import Code, Problem
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
    code: Code | None = None  # set for refusals of the whole file (dialogs.catalogue)

    def __str__(self) -> str:
        place = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        return f"{place}：{self.message}"


CellValue = str | int | float | Decimal | bool | datetime | date | time | timedelta | None


class _Sheet:
    """Cell texts of one worksheet, aware of merged ranges: plain data read within the limits
    of the layout (see `_read_sheet`), so nothing here can grow with what the file claims."""

    def __init__(
        self,
        name: str,
        cells: dict[tuple[int, int], tuple[CellValue, bool]],
        merges: list[tuple[int, int, int, int]],
    ) -> None:
        self.name = name
        self._cells = cells  # (row, col) -> (value, is a formula); non-empty cells only
        self.max_row = max((row for row, _ in cells), default=0)
        self.max_col = max((col for _, col in cells), default=0)
        self._spans: dict[tuple[int, int], tuple[int, int]] = {}
        self._owner: dict[tuple[int, int], tuple[int, int]] = {}
        for min_row, min_col, max_row, max_col in merges:
            top_left = (min_row, min_col)
            self._spans[top_left] = (max_row, max_col)
            for row in range(min_row, max_row + 1):
                for col in range(min_col, max_col + 1):
                    self._owner[(row, col)] = top_left

    def owner(self, row: int, col: int) -> tuple[int, int]:
        return self._owner.get((row, col), (row, col))

    def last_col(self, row: int, col: int) -> int:
        return self._spans.get((row, col), (row, col))[1]

    def is_formula(self, row: int, col: int) -> bool:
        return self._cells.get((row, col), (None, False))[1]

    def text(self, row: int, col: int) -> str:
        """The text of the cell covering (row, col); numbers exactly as entered, '' if empty."""
        value = self._cells.get(self.owner(row, col), (None, False))[0]
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
        for (row, col), (value, _) in sorted(self._cells.items()):
            if isinstance(value, str) and value.strip():
                yield row, col, normalize_label(value)


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


# --- bounding the work: checked before anything is parsed --------------------------------------

MAX_FILE_BYTES = 5 * 2**20  # official workbooks are a few dozen KB
# An official workbook unpacks to about 15 KB per sheet; reading 4 MB of XML takes seconds.
MAX_PART_BYTES = 4 * 2**20  # one part of the archive, uncompressed
MAX_ARCHIVE_BYTES = 16 * 2**20  # every part together, uncompressed
MAX_PARTS = 1000
MAX_SHEETS = 100
MAX_MERGES = 5000
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a compound file: .xls, or an encrypted .xlsx
_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")


@dataclass(frozen=True)
class SheetLimits:
    """How far a sheet of this layout can reach; nothing beyond is ever read."""

    rows: int
    columns: int

    @property
    def corner(self) -> str:
        return coordinate(self.rows, self.columns)


def sheet_limits(layout: Layout) -> SheetLimits:
    """Twice the largest table the layout's definitions allow (every field, every group and
    indicator row at its maximum), with room for a hand-made sheet's titles, notes, blank rows
    and columns split or shifted by hand."""
    rows = columns = 0
    for definition in (layout.table_a, layout.table_c):
        fields = list(definition.fields())
        groups = [f for f in fields if f.kind is FieldKind.GROUP]
        indicators = definition.indicators
        level2s = len(list(indicators.level2s()))
        rows = max(
            rows,
            len(fields)
            + sum(f.max_rows + 1 for f in groups)
            + level2s * indicators.max_rows_per_level2
            + 1,
        )
        widest = max([3 + len(indicators.columns), *(2 + len(f.columns) for f in groups)])
        columns = max(columns, widest)
    return SheetLimits(rows=2 * rows + 20, columns=2 * columns + 6)


class WorkbookRefused(Exception):
    """The file is refused before or while reading; nothing of it is used."""

    def __init__(self, problem: Problem, sheet: str = "工作簿") -> None:
        super().__init__(problem.message)
        self.problem = ImportProblem(sheet, "", problem.message, problem.code)


def _size_text(size: int) -> str:
    if size >= 2**20:
        return f"{size / 2**20:.1f} MB"
    return f"{max(1, size // 2**10)} KB"


def workbook_bytes(source: bytes | BinaryIO | Path) -> bytes:
    """The file's bytes, refused unread when it is over MAX_FILE_BYTES."""
    if isinstance(source, Path):
        size = source.stat().st_size
        if size > MAX_FILE_BYTES:
            raise WorkbookRefused(too_large_file(size))
        return source.read_bytes()
    data = source if isinstance(source, bytes) else source.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise WorkbookRefused(too_large_file(len(data)))
    return data


def too_large_file(size: int) -> Problem:
    params = {"size": _size_text(size), "limit": _size_text(MAX_FILE_BYTES)}
    return Problem(Code.IMPORT_FILE_TOO_LARGE, params)


def _not_workbook(detail: str) -> WorkbookRefused:
    return WorkbookRefused(Problem(Code.IMPORT_NOT_WORKBOOK, {"detail": detail}))


def check_archive(data: bytes) -> None:
    """Refuse what is not an xlsx archive, or one whose parts would unpack too large.

    The sizes come from the zip's central directory; the zip reader never returns more than
    the size declared there (a part that unpacks to more fails its checksum), so checking the
    declared sizes bounds what reading can unpack."""
    if data.startswith(OLE_MAGIC):
        encrypted = _ENCRYPTION_STREAM in data
        raise WorkbookRefused(
            Problem(Code.IMPORT_ENCRYPTED if encrypted else Code.IMPORT_OLD_FORMAT)
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _not_workbook("文件不是 .xlsx 格式（无法按 zip 打开）") from None
    if len(parts) > MAX_PARTS:
        raise WorkbookRefused(
            Problem(
                Code.IMPORT_ARCHIVE_TOO_LARGE,
                {"part": f"{len(parts)} 个部件", "size": "", "limit": str(MAX_PARTS)},
            )
        )
    total = 0
    for part in parts:
        if part.flag_bits & 0x1:
            raise WorkbookRefused(Problem(Code.IMPORT_ENCRYPTED))
        if part.file_size > MAX_PART_BYTES:
            raise WorkbookRefused(_archive_too_large(part.filename, part.file_size, MAX_PART_BYTES))
        total += part.file_size
    if total > MAX_ARCHIVE_BYTES:
        raise WorkbookRefused(_archive_too_large("合计", total, MAX_ARCHIVE_BYTES))
    if "[Content_Types].xml" not in {part.filename for part in parts}:
        raise _not_workbook("压缩包中没有工作簿的内容（缺少 [Content_Types].xml）")


def _archive_too_large(part: str, size: int, limit: int) -> Problem:
    params = {"part": part[:60], "size": _size_text(size), "limit": _size_text(limit)}
    return Problem(Code.IMPORT_ARCHIVE_TOO_LARGE, params)


def _sheet_too_large(name: str, extent: str, limits: SheetLimits) -> WorkbookRefused:
    params = {
        "sheet": name[:31],
        "extent": extent,
        "rows": str(limits.rows),
        "columns": str(limits.columns),
        "corner": limits.corner,
    }
    return WorkbookRefused(Problem(Code.IMPORT_SHEET_TOO_LARGE, params), sheet=name[:31])


def _read_sheet(workbook: Workbook, ws: ReadOnlyWorksheet, limits: SheetLimits) -> _Sheet:
    """One pass over the sheet's XML stream, keeping only cells within `limits`: the sheet's
    claimed dimension is checked first, and a non-empty cell beyond the limits refuses it."""
    declared_rows, declared_cols = ws.max_row or 0, ws.max_column or 0
    if declared_rows > limits.rows or declared_cols > limits.columns:
        corner = coordinate(max(declared_rows, 1), max(declared_cols, 1))
        raise _sheet_too_large(ws.title, f"A1:{corner}", limits)
    cells: dict[tuple[int, int], tuple[CellValue, bool]] = {}
    # openpyxl's own read-only row reader (ReadOnlyWorksheet._cells_by_row) drives this parser
    # too; using it directly also gives the merged ranges, which read-only mode does not keep.
    parser = WorkSheetParser(
        ws._get_source(),
        ws._shared_strings,
        data_only=False,
        epoch=workbook.epoch,
        date_formats=workbook._date_formats,
        timedelta_formats=workbook._timedelta_formats,
    )
    # A valid sheet has each cell once; a stream repeating rows within the limits would make
    # the parse cost grow with the file instead of the layout.
    budget = 2 * limits.rows * limits.columns
    try:
        for _, row in parser.parse():
            budget -= len(row)
            if budget < 0:
                raise _sheet_too_large(ws.title, "重复的行或单元格", limits)
            for cell in row:
                value = cell["value"]
                if value is None or value == "":
                    continue
                position = (int(cell["row"]), int(cell["column"]))
                if position[0] > limits.rows or position[1] > limits.columns:
                    raise _sheet_too_large(ws.title, f"A1:{coordinate(*position)}", limits)
                cells[position] = (value, cell["data_type"] == "f")
    finally:
        parser.source.close()
    merges: list[tuple[int, int, int, int]] = []
    ranges = parser.merged_cells.mergeCell if parser.merged_cells is not None else []
    if len(ranges) > MAX_MERGES:
        raise _sheet_too_large(ws.title, f"{len(ranges)} 个合并单元格", limits)
    area = 0
    for merged in ranges:
        try:
            bounds = range_boundaries(merged.ref)
        except (TypeError, ValueError):
            continue
        min_col, min_row, max_col, max_row = (int(b or 0) for b in bounds)
        if min_row > limits.rows or min_col > limits.columns or min_row < 1 or min_col < 1:
            continue  # starts beyond what is read: covers nothing we read
        max_row, max_col = min(max_row, limits.rows), min(max_col, limits.columns)
        area += (max_row - min_row + 1) * (max_col - min_col + 1)
        if area > 4 * limits.rows * limits.columns:  # overlapping ranges, not a real table
            raise _sheet_too_large(ws.title, f"合并单元格 {merged.ref}", limits)
        merges.append((min_row, min_col, max_row, max_col))
    return _Sheet(ws.title, cells, merges)


def _out_of_memory(error: BaseException) -> bool:
    """zlib reports an allocation refused under the reader's budget as its own error
    ("insufficient memory"), not as MemoryError: it is the budget all the same."""
    return isinstance(error, zlib.error) and "memory" in str(error).lower()


def _load(data: bytes, limits: SheetLimits) -> list[_Sheet]:
    check_archive(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except MemoryError:
        raise  # the reader's budget, reported as such by exports.import_worker
    except Exception as error:  # openpyxl raises many kinds for a damaged or foreign file
        if _out_of_memory(error):
            raise MemoryError from error
        raise _not_workbook(f"文件已损坏或不是 Excel 工作簿（{type(error).__name__}）") from None
    try:
        sheets = [ws for ws in workbook.worksheets if isinstance(ws, ReadOnlyWorksheet)]
        if len(sheets) > MAX_SHEETS:
            params = {"count": str(len(sheets)), "limit": str(MAX_SHEETS)}
            raise WorkbookRefused(Problem(Code.IMPORT_TOO_MANY_SHEETS, params))
        read = []
        for ws in sheets:
            try:
                read.append(_read_sheet(workbook, ws, limits))
            except (WorkbookRefused, MemoryError):
                raise
            except Exception as error:  # a damaged sheet part
                if _out_of_memory(error):
                    raise MemoryError from error
                raise _not_workbook(
                    f"工作表“{ws.title[:31]}”已损坏（{type(error).__name__}）"
                ) from None
        return read
    finally:
        workbook.close()


def import_workbook(
    source: bytes | BinaryIO | Path, layout: Layout, department: str, year: int
) -> DepartmentFiling | list[ImportProblem]:
    """The filing a workbook holds (forms have form_id 0: the caller matches C tables to its
    stored forms by 支出方向（子项）), or every problem found, each naming sheet and cell."""
    try:
        sheets = _load(workbook_bytes(source), sheet_limits(layout))
    except WorkbookRefused as refused:
        return [refused.problem]
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
