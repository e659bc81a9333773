"""Turn one free-text answer at one step into a typed value, or into problems.

Pure functions of (definition, state, step, text, context): nothing is stored here; the engine
applies an accepted value to a new state and leaves the old one untouched on refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from dialogs.actions import FilingContext
from dialogs.catalogue import Code, Problem
from dialogs.checks.indicators import check_cell, check_row, parse_weight
from dialogs.definition import (
    ColumnDef,
    FieldDef,
    FieldKind,
    FormDefinition,
    IndicatorColumn,
    Level2,
    SumRule,
)
from dialogs.parsing.amount import parse_amount
from dialogs.parsing.errors import ParseError
from dialogs.parsing.indicator import UNITS, read_indicator
from dialogs.parsing.period import parse_period
from dialogs.parsing.text import clean_text
from dialogs.state import FormState, IndicatorRow
from dialogs.steps import Step, StepKind
from dialogs.values import Answer, Nature, Reading, format_decimal


def example_text(example: str, year: int) -> str:
    return example.replace("{year}", str(year))


def problem_from(error: ParseError, label: str, example: str) -> Problem:
    params = {"field": label, "example": example, "text": "", **error.params}
    return Problem(error.code, params)


def parse_field(field: FieldDef, text: str, context: FilingContext) -> Answer | Problem:
    example = example_text(field.example, context.year)
    try:
        match field.kind:
            case FieldKind.AMOUNT:
                amount = parse_amount(text)
                if field.positive and amount <= 0:
                    return Problem(
                        Code.AMOUNT_NOT_POSITIVE, {"field": field.label, "example": example}
                    )
                return amount
            case FieldKind.PERIOD:
                return parse_period(text)
            case FieldKind.CHOICE:
                chosen = text.strip()
                if chosen not in field.choices:
                    choices = "、".join(field.choices)
                    return Problem(Code.CHOICE_INVALID, {"field": field.label, "choices": choices})
                return chosen
            case _:
                cleaned = clean_text(text, field.max_length)
    except ParseError as error:
        return problem_from(error, field.label, example)
    if field.unique_in_department:
        taken = {
            direction.name
            for direction in context.directions
            if direction.form_id != context.form_id
        }
        if cleaned in taken:
            return Problem(Code.DIRECTION_DUPLICATE, {"text": cleaned, "example": example})
    return cleaned


def parse_group_cell(column: ColumnDef, text: str, year: int) -> str | Problem:
    try:
        return clean_text(text, column.max_length)
    except ParseError as error:
        return problem_from(error, column.label, example_text(column.example, year))


def _amount_label(label: str) -> str:
    return label.removeprefix("其中：").strip()


def sum_problem(
    definition: FormDefinition, rule: SumRule, values: dict[str, Answer], asked: str
) -> Problem | None:
    """The mismatch of one sum rule, or None when it holds or a number is still unknown."""
    if any(key not in values for key in (rule.total, *rule.terms)):
        return None
    total = values[rule.total]
    if not isinstance(total, Decimal):
        return None
    terms = [(definition.field(key), values[key]) for key in rule.terms]
    amounts = [value if isinstance(value, Decimal) else Decimal(0) for _, value in terms]
    computed = sum(amounts, Decimal(0))
    if computed == total:
        return None
    expression = " + ".join(
        f"{_amount_label(field.label)} {format_decimal(amount)}"
        for (field, _), amount in zip(terms, amounts, strict=True)
    )
    total_label = _amount_label(definition.field(rule.total).label)
    return Problem(
        Code.SUM_MISMATCH,
        {
            "total_label": total_label,
            "group_label": rule.group_label,
            "expression": expression,
            "sum": format_decimal(computed),
            "total": format_decimal(total),
            "difference": format_decimal(abs(computed - total)),
            "field": _amount_label(definition.field(asked).label),
        },
        fix_step=Step(StepKind.FIELD, rule.total).address,
    )


def last_field_of(definition: FormDefinition, rule: SumRule) -> str:
    order = [field.key for field in definition.fields()]
    return max((rule.total, *rule.terms), key=order.index)


@dataclass(frozen=True)
class CellResult:
    row: IndicatorRow | None
    problems: tuple[Problem, ...]


def indicator_amount_bound(
    definition: FormDefinition, state: FormState
) -> tuple[Decimal | None, str]:
    key = definition.amount_field
    value = state.values.get(key) if key else None
    scope = definition.field(key).label if key else ""
    return (value if isinstance(value, Decimal) else None), scope


def answer_indicator_cell(
    definition: FormDefinition,
    state: FormState,
    level2: Level2,
    row: IndicatorRow,
    column: str,
    text: str,
    year: int,
) -> CellResult:
    """Validate one typed cell of an indicator row; returns the updated row or errors."""
    layout = definition.indicators
    spec = layout.column(IndicatorColumn(column))
    example = example_text(
        level2.example_name if column == IndicatorColumn.NAME else level2.example_value, year
    )
    try:
        cleaned = clean_text(text, spec.max_length)
    except ParseError as error:
        if error.code is Code.REQUIRED and column in (IndicatorColumn.NAME, IndicatorColumn.VALUE):
            return CellResult(None, tuple(check_cell(level2, column, "")))
        return CellResult(None, (problem_from(error, spec.label, example),))
    visited = tuple(dict.fromkeys((*row.visited, column)))
    if column in (IndicatorColumn.NAME, IndicatorColumn.VALUE):
        errors = tuple(p for p in check_cell(level2, column, cleaned) if p.is_error)
        if errors:
            return CellResult(None, errors)
    if column == IndicatorColumn.NAME:
        updated = replace(row, name=cleaned, visited=visited)
        if IndicatorColumn.VALUE.value in row.visited:
            updated = _with_reading(updated, updated.value)
        return CellResult(updated, ())
    if column == IndicatorColumn.VALUE:
        updated = _with_reading(replace(row, value=cleaned, visited=visited), cleaned)
        bound, scope = indicator_amount_bound(definition, state)
        level1 = layout.level1_of(level2.key)
        found = check_row(
            level1, level2, updated, year=year, amount_bound=bound, amount_scope=scope
        )
        errors = tuple(p for p in found if p.is_error)
        if errors:
            return CellResult(None, errors)
        return CellResult(updated, tuple(found))
    if column == IndicatorColumn.WEIGHT:
        try:
            weight = parse_weight(cleaned)
        except ParseError as error:
            return CellResult(None, (problem_from(error, spec.label, spec.example),))
        return CellResult(replace(row, weight=weight, visited=visited), ())
    if column == IndicatorColumn.EXPLANATION:
        return CellResult(replace(row, explanation=cleaned, visited=visited), ())
    if column == IndicatorColumn.SCORING:
        return CellResult(replace(row, scoring=cleaned, visited=visited), ())
    return CellResult(replace(row, remark=cleaned, visited=visited), ())


def _with_reading(row: IndicatorRow, value: str) -> IndicatorRow:
    reading = scaled_unit_reading(row.name, value, read_indicator(row.name, value))
    return replace(row, reading=reading)


# Magnitudes written before a unit: 万吨, 万人次, 亿人次, 万立方米.
MAGNITUDES = ("亿", "万")


def scaled_unit_reading(name: str, value: str, reading: Reading) -> Reading:
    """`reading`, made sure when its only doubt is a magnitude before a known unit.

    `≥5万吨` is 5 × 万 吨: the magnitude is no guess, so the value is as sure as the same text
    in the unit itself (`≥5吨`), and asking to confirm a reading identical to what was typed
    only costs a tap. The value is read again with the bare unit, so every other doubt (a
    hedge, contradictory bounds, a 三级指标 naming another target) still asks.
    """
    unit = reading.unit
    if reading.sure or reading.nature is not Nature.QUANTITATIVE or not unit or unit in UNITS:
        return reading
    for magnitude in MAGNITUDES:
        base = unit.removeprefix(magnitude)
        if base == unit or base.startswith(MAGNITUDES) or base not in UNITS or unit not in value:
            continue  # `亿万吨`: two magnitudes are a slip to confirm, not a unit
        plain = read_indicator(name, value.replace(unit, base, 1))
        same = (plain.comparator, plain.number, plain.unit) == (
            reading.comparator,
            reading.number,
            base,
        )
        if plain.sure and plain.nature is Nature.QUANTITATIVE and same:
            return replace(reading, sure=True)
    return reading
