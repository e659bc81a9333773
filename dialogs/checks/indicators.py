"""The indicator rules of forms.md ("What makes an indicator acceptable").

* `check_cell`: one typed 三级指标 / 指标值 cell (empty or placeholder-only).
* `check_row`: one completed row (unit, cost bound, vague / not measurable, timeliness,
  satisfaction). 不适用 rows produce nothing.
* `check_table`: one table (output and benefit rows present, repeats, empty 二级, weights,
  unconfirmed readings).
* `check_department`: the directions of one department (identical indicator sets).

Each problem's `example` is taken from the same 二级指标 of the definition (`example_value` or
`example_name`, with `{year}` filled in), and the 一级/二级 labels it names are the layout's own
(产出时效 in 2021, 时效指标 in 2023), so advice always matches the row being fixed.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from dialogs.catalogue import Code, Problem
from dialogs.definition import (
    IndicatorColumn,
    IndicatorLayout,
    Level1,
    Level1Role,
    Level2,
    Level2Role,
)
from dialogs.parsing.amount import plain_decimal
from dialogs.parsing.errors import ParseError
from dialogs.parsing.indicator import TIME_UNITS, read_indicator
from dialogs.parsing.text import normalize_width, shorten
from dialogs.state import IndicatorRow
from dialogs.steps import Step, StepKind
from dialogs.values import Comparator, Nature, Reading, format_decimal

FIELD_LABELS = {"name": "三级指标", "value": "指标值"}
_PLACEHOLDER_CHARS = frozenset("-_*/\\—–…·.。、,，~ \u3000\t\n")
_PLACEHOLDER_WORDS = re.compile(r"(?:无|暂无|待定|略|空|不详|na|null|none|nil)+", re.IGNORECASE)
# Words that make a short value uncheckable at year end (`良好`, `按预算`, `全年`, `及时`, …).
_VAGUE = re.compile(
    r"良好|较好|很好|优良|高质量|按预算|按计划|按时|按期|按要求|按规定|全年|及时|有效|明显|显著|"
    r"稳步|逐步|持续|不断|进一步|大幅|较高|基本|提高|提升|改善|增强|加强|完成|达标|合格|到位|正常|"
    r"满意|积极|良性|规范"
)
_VAGUE_MAX_LENGTH = 20
_MONTH_WORD = r"(?:[0-9]{1,2}|十[一二]?|[一二三四五六七八九])"
_TIME = re.compile(
    r"[0-9]{4}\s*[年.\-/]\s*[0-9]{1,2}"
    rf"|(?<![0-9]){_MONTH_WORD}\s*月(?!份额)"
    r"|(?<![0-9零〇一二两三四五六七八九十百])[0-9零〇一二两三四五六七八九十百]+\s*(?:个月|个工作日|工作日|个小时|小时|天|日|周(?!年)|"
    r"个季度|季度|年内|年以内)"
    r"|[0-9]{4}\s*年\s*(?:底|末|内|前|终)"
    r"|年底|年末|年终|年中|年内|月底|月末|上半年|下半年|季度末|第?[一二三四1-4]季度"
)
_MONEY_SHIFT = {"万元": 0, "元": -4, "千元": -1, "亿元": 4}
_PERCENT = ("%", "‰")


def fill_year(text: str, year: int | None) -> str:
    """A definition example with its `{year}`; without a year, `{year}年` is left out."""
    if year is None:
        return text.replace("{year}年", "").replace("{year}", "")
    return text.replace("{year}", str(year))


def is_placeholder(text: str) -> bool:
    """Empty, or only `-` `_` `*` `/` `—` `…` and the like, or `无` / `暂无` / `待定` (repeated)."""
    kept = "".join(c for c in normalize_width(text) if c not in _PLACEHOLDER_CHARS)
    return not kept or bool(_PLACEHOLDER_WORDS.fullmatch(kept))


def is_vague(text: str) -> bool:
    """A short value made of words a reviewer cannot check (`良好`, `高质量完成`, `按预算`)."""
    stripped = text.strip()
    return len(stripped) <= _VAGUE_MAX_LENGTH and bool(_VAGUE.search(stripped))


def mentions_time(text: str) -> bool:
    """A date, month, deadline or duration (`2021年12月底前`, `12个月内`); `全年` is not one."""
    return bool(_TIME.search(normalize_width(text)))


def reading_of(row: IndicatorRow) -> Reading | None:
    """The stored reading, or one read now when the row has text but no reading yet."""
    if row.reading is not None:
        return row.reading
    if row.name.strip() or row.value.strip():
        return read_indicator(row.name, row.value)
    return None


def _applicable(row: IndicatorRow) -> bool:
    reading = reading_of(row)
    return reading is not None and reading.nature is not Nature.NOT_APPLICABLE


def _key(text: str) -> str:
    """Text compared for repeats: width-normalised, no inner spaces, no punctuation at ends."""
    squeezed = "".join(normalize_width(text).split())
    start, end = 0, len(squeezed)
    while start < end and unicodedata.category(squeezed[start])[0] in "PZ":
        start += 1
    while end > start and unicodedata.category(squeezed[end - 1])[0] in "PZ":
        end -= 1
    return squeezed[start:end]


# --- one cell -----------------------------------------------------------------------------------


def check_cell(
    level2: Level2, column: str, text: str, *, year: int | None = None, label: str | None = None
) -> list[Problem]:
    """INDICATOR_EMPTY for an empty or placeholder-only 三级指标 (`name`) or 指标值 (`value`)."""
    if text.strip() and not is_placeholder(text):
        return []
    is_name = column == "name"
    example = level2.example_name if is_name else level2.example_value
    params = {
        "field": label or FIELD_LABELS.get(str(column), str(column)),
        "level2": level2.label,
        "text": shorten(text),
        "example": fill_year(example, year),
    }
    return [Problem(Code.INDICATOR_EMPTY, params)]


# --- one row ------------------------------------------------------------------------------------


def amount_in_wan(reading: Reading) -> Decimal | None:
    """The reading's number in 万元 when its unit is money (元, 千元, 万元, 亿元), else None."""
    if reading.number is None or reading.unit not in _MONEY_SHIFT:
        return None
    return plain_decimal(reading.number.scaleb(_MONEY_SHIFT[reading.unit]))


def _has_time(row: IndicatorRow, reading: Reading) -> bool:
    if reading.nature is Nature.QUANTITATIVE and reading.unit in TIME_UNITS:
        return True
    return mentions_time(row.name) or mentions_time(row.value)


def check_row(
    level1: Level1,
    level2: Level2,
    row: IndicatorRow,
    *,
    year: int,
    amount_bound: Decimal | None,
    amount_scope: str,
) -> list[Problem]:
    """The rules on one completed row (its reading is read now if missing).

    Errors: INDICATOR_UNIT_MISSING (a number without unit; a percentage is a unit),
    INDICATOR_COST_ABOVE_AMOUNT (a cost-role amount in 元/万元 above `amount_bound`, whatever the
    comparator: a bound or a target above the money available cannot be right).
    Warnings: INDICATOR_VAGUE (a short vague value taken as 定性) or else INDICATOR_NOT_MEASURABLE
    (any other 定性: grades, sentences), never both; INDICATOR_TIMELINESS_NO_DATE;
    INDICATOR_SATISFACTION_NO_PERCENT. `level1` is accepted for rules keyed on the 一级指标.
    """
    del level1  # every current rule is keyed on the 二级指标's role
    reading = reading_of(row)
    if reading is None or reading.nature is Nature.NOT_APPLICABLE:
        return []
    text = shorten(row.value, 40)
    example = fill_year(level2.example_value, year)
    base = {"level2": level2.label, "text": text, "example": example}
    found: list[Problem] = []
    quantitative = reading.nature is Nature.QUANTITATIVE
    if quantitative and reading.number is not None and not reading.unit:
        found.append(Problem(Code.INDICATOR_UNIT_MISSING, base))
    wan = amount_in_wan(reading) if quantitative else None
    cost = level2.role is Level2Role.COST
    if cost and amount_bound is not None and wan is not None and wan > amount_bound:
        bound = format_decimal(amount_bound)
        params = {
            "level2": level2.label,
            "bound": format_decimal(wan),
            "scope": amount_scope or "本表",
            "amount": bound,
            "example": f"{Comparator.LE.value}{bound}万元",
        }
        found.append(Problem(Code.INDICATOR_COST_ABOVE_AMOUNT, params))
    if reading.nature is Nature.QUALITATIVE:
        code = Code.INDICATOR_VAGUE if is_vague(row.value) else Code.INDICATOR_NOT_MEASURABLE
        found.append(Problem(code, base))
    if level2.role is Level2Role.TIMELINESS and not _has_time(row, reading):
        pair = shorten(f"{row.name.strip()}：{row.value.strip()}", 40)
        params = {"level2": level2.label, "text": pair, "example": example}
        found.append(Problem(Code.INDICATOR_TIMELINESS_NO_DATE, params))
    if level2.role is Level2Role.SATISFACTION and not (quantitative and reading.unit in _PERCENT):
        found.append(
            Problem(Code.INDICATOR_SATISFACTION_NO_PERCENT,
                    {"level2": level2.label, "text": text, "example": example})
        )
    return found


# --- one table ----------------------------------------------------------------------------------


def _first_example(level1: Level1, year: int | None) -> str:
    if not level1.children:
        return level1.label
    child = level1.children[0]
    return f"{child.label}：{child.example_name}，{fill_year(child.example_value, year)}"


def check_table(
    layout: IndicatorLayout,
    rows: Sequence[IndicatorRow],
    *,
    weighted: bool,
    year: int | None = None,
) -> list[Problem]:
    """INDICATOR_NO_OUTPUT / INDICATOR_NO_BENEFIT (errors), WEIGHT_SUM (error when `weighted`),
    INDICATOR_LEVEL2_EMPTY (error: one problem listing every 二级指标 with neither a row nor the
    不适用 choice), INDICATOR_REPEATED and INDICATOR_UNCONFIRMED (warnings)."""
    labels = {level2.key: level2.label for _, level2 in layout.level2s()}
    applicable = [row for row in rows if row.level2 in labels and _applicable(row)]
    found: list[Problem] = []
    missing_codes = {Level1Role.OUTPUT: Code.INDICATOR_NO_OUTPUT,
                     Level1Role.BENEFIT: Code.INDICATOR_NO_BENEFIT}
    for level1 in layout.levels:
        code = missing_codes.get(level1.role)
        keys = {child.key for child in level1.children}
        if code is not None and not any(row.level2 in keys for row in applicable):
            params = {"level1": level1.label, "example": _first_example(level1, year)}
            found.append(Problem(code, params))
    if weighted:
        total = sum((row.weight or Decimal(0) for row in applicable), Decimal(0))
        if total != 100:
            found.append(Problem(Code.WEIGHT_SUM, {"sum": format_decimal(total)}))
    seen: dict[str, list[IndicatorRow]] = {}
    for row in applicable:
        if _key(row.name):
            seen.setdefault(_key(row.name), []).append(row)
    for same in seen.values():
        if len(same) > 1:
            where = "、".join(dict.fromkeys(labels[row.level2] for row in same))
            params = {"text": shorten(same[0].name, 40), "level2": where}
            found.append(Problem(Code.INDICATOR_REPEATED, params))
    present = {row.level2 for row in rows}
    missing = [level2 for _, level2 in layout.level2s() if level2.key not in present]
    if missing:
        # One problem naming every 二级指标 still open, so submit lists them all at once.
        names = "、".join(f"「{level2.label}」" for level2 in missing)
        first = Step(StepKind.INDICATOR_CELL, missing[0].key, 0, IndicatorColumn.NAME.value).address
        found.append(Problem(Code.INDICATOR_LEVEL2_EMPTY, {"level2": names}, fix_step=first))
    for row in rows:
        reading = row.reading
        if row.level2 in labels and reading and not reading.sure and not reading.confirmed:
            params = {
                "level2": labels[row.level2],
                "text": shorten(row.value, 40),
                "reading": reading.describe(),
            }
            found.append(Problem(Code.INDICATOR_UNCONFIRMED, params))
    return found


# --- one department -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectionIndicators:
    """The indicator rows of one expenditure direction (支出方向（子项）) of a department."""

    name: str
    rows: Sequence[IndicatorRow]


def _signature(direction: DirectionIndicators) -> frozenset[tuple[tuple[str, str, str], int]]:
    counts = Counter(
        (row.level2, _key(row.name), _key(row.value)) for row in direction.rows if _applicable(row)
    )
    return frozenset(counts.items())


def check_department(directions: Sequence[DirectionIndicators]) -> list[Problem]:
    """INDICATOR_DIRECTIONS_IDENTICAL for directions whose applicable rows (二级, 三级指标, 指标值)
    are the same multiset; each later one is reported against the first of its kind."""
    first: dict[frozenset[tuple[tuple[str, str, str], int]], DirectionIndicators] = {}
    found: list[Problem] = []
    for direction in directions:
        signature = _signature(direction)
        if not signature:
            continue
        if signature in first:
            other = first[signature]
            params = {"text": direction.name, "other": other.name}
            found.append(Problem(Code.INDICATOR_DIRECTIONS_IDENTICAL, params))
        else:
            first[signature] = direction
    return found


# --- weights and the quality figure -------------------------------------------------------------

_WEIGHT = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]{1,2})?|\.[0-9]{1,2})\s*%?")


def parse_weight(text: str) -> Decimal:
    """A 权重 from 0 to 100 (at most 2 decimals, an optional `%`); else ParseError WEIGHT_FORMAT."""
    match = _WEIGHT.fullmatch(normalize_width(text).strip())
    weight = plain_decimal(Decimal(match["number"])) if match else None
    if weight is None or not 0 <= weight <= 100:
        raise ParseError(Code.WEIGHT_FORMAT, {"text": shorten(text)})
    return weight


@dataclass(frozen=True)
class QualityFigure:
    """How checkable a table's indicators are, shown at review."""

    total: int
    measurable: int
    qualitative: int
    not_applicable: int
    warnings: int = 0


def quality_figure(rows: Sequence[IndicatorRow], warnings: int = 0) -> QualityFigure:
    """Counts over rows with content: measurable (定量 with unit), 定性, 不适用. A number without
    unit counts in `total` only (it is an error and is not stored by the engine)."""
    readings = [reading for reading in map(reading_of, rows) if reading is not None]
    return QualityFigure(
        total=len(readings),
        measurable=sum(1 for reading in readings if reading.measurable),
        qualitative=sum(1 for reading in readings if reading.nature is Nature.QUALITATIVE),
        not_applicable=sum(1 for r in readings if r.nature is Nature.NOT_APPLICABLE),
        warnings=warnings,
    )
