"""Starting a round from the department's filing of an earlier round.

Tables are filed every year with mostly the same duties, tasks and indicators. `carry_over`
turns a form of an earlier round into a draft of the new one: what maps by key (texts, group
columns) or by role (二级指标, even across layouts whose labels differ) is copied; amounts and
periods are asked again (budgets change); what the new layout asks that the old did not (指标解释,
权重 …) is left open, so the engine asks exactly that. The texts still name the old year; they are
flagged (`year_mentions`) and updated on request (`with_year`), never silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

from dialogs.definition import FieldDef, FieldKind, FormDefinition, IndicatorColumn, Level2Role
from dialogs.parsing.indicator import read_indicator
from dialogs.state import FormState, GroupRow, IndicatorRow
from dialogs.steps import DONE_PREFIX, StepKind, done_key
from dialogs.values import Answer, Period, format_decimal

ASKED_AGAIN = (FieldKind.AMOUNT, FieldKind.PERIOD)  # budgets and periods change every year
_TEXT_COLUMNS = ("name", "value", "remark", "explanation", "scoring")
MAX_CHANGE_LINES = 30


@dataclass(frozen=True)
class CarriedForm:
    state: FormState  # a draft of the new round; its cursor is left to the engine's first open step
    not_copied: tuple[str, ...]  # official labels of what is asked again or new


def _year_pattern(year: int) -> re.Pattern[str]:
    # "2024年", "2024 年度", not "12024年" nor a 2024 that is an amount ("2024元").
    return re.compile(rf"(?<![0-9]){year}(?=\s*年)")


def _add(labels: list[str], label: str) -> None:
    if label not in labels:
        labels.append(label)


def _copied_value(field: FieldDef, old: FieldDef, value: Answer | None) -> Answer | None:
    if not isinstance(value, str) or old.kind is not field.kind:
        return None
    if field.max_length and len(value) > field.max_length:
        return None
    if field.kind is FieldKind.CHOICE and value not in field.choices:
        return None
    return value


def _carry_group(
    field: FieldDef, old: FieldDef, state: FormState, not_copied: list[str]
) -> tuple[tuple[GroupRow, ...], bool]:
    """The group's rows with the columns both layouts have (and whether it was finished)."""
    shared = {c.key for c in field.columns} & {c.key for c in old.columns}
    for column in field.columns:
        if column.key not in shared:
            _add(not_copied, f"{field.label}的{column.label}")
    rows = tuple(
        GroupRow(tuple((key, text) for key, text in row.cells if key in shared))
        for row in state.groups.get(field.key, ())
    )[: field.max_rows or None]
    finished = done_key(StepKind.GROUP_MORE, old.key) in state.values
    complete = all(len(row.cells) == len(field.columns) for row in rows)
    return rows, finished and complete


def _level2_by_role(definition: FormDefinition) -> dict[Level2Role, str]:
    return {level2.role: level2.key for _, level2 in definition.indicators.level2s()}


def _carry_indicators(
    source: FormDefinition, state: FormState, target: FormDefinition, not_copied: list[str]
) -> tuple[tuple[IndicatorRow, ...], dict[str, Answer]]:
    layout = target.indicators
    asked = {spec.column.value for spec in layout.asked_columns()}
    kept_columns = {IndicatorColumn(c) for c in asked} & {
        spec.column for spec in source.indicators.asked_columns()
    }
    for spec in layout.asked_columns():
        if spec.column not in kept_columns:
            _add(not_copied, f"年度绩效指标的{spec.label}")
    targets = _level2_by_role(target)
    rows: list[IndicatorRow] = []
    done: dict[str, Answer] = {}
    for level2_key in dict.fromkeys(row.level2 for row in state.indicators):
        try:
            old_level2 = source.indicators.level2(level2_key)
        except KeyError:
            continue
        new_key = targets.get(old_level2.role)
        if new_key is None:
            _add(not_copied, f"年度绩效指标的{old_level2.label}")
            continue
        old_rows = state.rows_of(level2_key)[: layout.max_rows_per_level2]
        for row in old_rows:
            rows.append(_carried_row(row, new_key, kept_columns, asked))
        if done_key(StepKind.INDICATOR_MORE, level2_key) in state.values:
            done[done_key(StepKind.INDICATOR_MORE, new_key)] = "1"
    return tuple(rows), done


def _carried_row(
    row: IndicatorRow, level2: str, kept: set[IndicatorColumn], asked: set[str]
) -> IndicatorRow:
    if row.not_applicable:
        return IndicatorRow.not_applicable_row(level2)

    def kept_text(column: IndicatorColumn, value: str | None) -> str | None:
        return value if column in kept else None

    weight: Decimal | None = row.weight if IndicatorColumn.WEIGHT in kept else None
    return IndicatorRow(
        level2=level2,
        name=row.name,
        value=row.value,
        reading=row.reading,
        remark=kept_text(IndicatorColumn.REMARK, row.remark),
        explanation=kept_text(IndicatorColumn.EXPLANATION, row.explanation),
        scoring=kept_text(IndicatorColumn.SCORING, row.scoring),
        weight=weight,
        visited=tuple(c for c in row.visited if c in asked and IndicatorColumn(c) in kept),
    )


def carry_over(source: FormDefinition, state: FormState, target: FormDefinition) -> CarriedForm:
    """A draft of `target` from a form of `source` (an earlier round's definition)."""
    values: dict[str, Answer] = {}
    groups: dict[str, tuple[GroupRow, ...]] = {}
    indicators: tuple[IndicatorRow, ...] = ()
    not_copied: list[str] = []
    for field in target.fields():
        if not field.asked:
            continue
        if field.kind in ASKED_AGAIN:
            _add(not_copied, field.label)
            continue
        try:
            old = source.field(field.key)
        except KeyError:
            old = None
        if field.kind is FieldKind.INDICATORS:
            indicators, done = _carry_indicators(source, state, target, not_copied)
            values.update(done)
            continue
        if old is None or old.kind is not field.kind:
            _add(not_copied, field.label)
            continue
        if field.kind is FieldKind.GROUP:
            rows, finished = _carry_group(field, old, state, not_copied)
            if rows:
                groups[field.key] = rows
            if finished:
                values[done_key(StepKind.GROUP_MORE, field.key)] = "1"
            continue
        value = _copied_value(field, old, state.values.get(field.key))
        if value is None:
            _add(not_copied, field.label)
        else:
            values[field.key] = value
    carried = FormState(values=values, groups=groups, indicators=indicators)
    return CarriedForm(state=carried, not_copied=tuple(not_copied))


# --- texts that still name the old year ------------------------------------------------------


def _texts(definition: FormDefinition, state: FormState) -> Iterator[tuple[str, str]]:
    """(official label, text) of every typed text of the form."""
    for field in definition.fields():
        if field.kind in (FieldKind.TEXT, FieldKind.LONG_TEXT, FieldKind.CHOICE):
            value = state.values.get(field.key)
            if isinstance(value, str):
                yield field.label, value
        elif field.kind is FieldKind.GROUP:
            for number, group_row in enumerate(state.groups.get(field.key, ()), start=1):
                for _, text in group_row.cells:
                    yield f"{field.label}第{number}条", text
        elif field.kind is FieldKind.INDICATORS:
            for row in state.indicators:
                for column in _TEXT_COLUMNS:
                    cell = getattr(row, column)
                    if isinstance(cell, str):
                        yield f"年度绩效指标「{row.name}」", cell


def year_mentions(definition: FormDefinition, state: FormState, year: int) -> tuple[str, ...]:
    """Where the form's texts name `year` (each place once, in form order)."""
    pattern = _year_pattern(year)
    found: list[str] = []
    for label, text in _texts(definition, state):
        if pattern.search(text):
            _add(found, label)
    return tuple(found)


def with_year(state: FormState, old: int, new: int) -> FormState:
    """Every `old`年 in the form's texts made `new`年 (indicator readings read again)."""
    pattern = _year_pattern(old)

    def moved(text: str) -> str:
        return pattern.sub(str(new), text)

    values: dict[str, Answer] = {
        key: moved(value) if isinstance(value, str) and not key.startswith(DONE_PREFIX) else value
        for key, value in state.values.items()
    }
    groups = {
        key: tuple(GroupRow(tuple((k, moved(v)) for k, v in row.cells)) for row in rows)
        for key, rows in state.groups.items()
    }
    indicators = tuple(_row_with_year(row, moved) for row in state.indicators)
    return replace(state, values=values, groups=groups, indicators=indicators)


def _row_with_year(row: IndicatorRow, moved: Callable[[str], str]) -> IndicatorRow:
    if row.not_applicable:
        return row
    name, value = moved(row.name), moved(row.value)
    changes: dict[str, object] = {
        column: moved(getattr(row, column))
        for column in ("remark", "explanation", "scoring")
        if getattr(row, column) is not None
    }
    if (name, value) != (row.name, row.value):
        reading = read_indicator(name, value)
        if row.reading is not None and row.reading.confirmed:
            reading = replace(reading, confirmed=True)
        changes.update(name=name, value=value, reading=reading)
    return replace(row, **changes)  # type: ignore[arg-type]


# --- what changed against last year ----------------------------------------------------------


def _shown(value: Answer | None) -> str:
    if value is None:
        return "（未填）"
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, Period):
        return str(value)
    return value


def changes_since(
    source: FormDefinition, previous: FormState, target: FormDefinition, state: FormState
) -> tuple[str, ...]:
    """Lines saying what this form changed against the earlier round's (for review)."""
    lines: list[str] = []
    for field in target.fields():
        if not field.asked:
            continue
        try:
            old = source.field(field.key)
        except KeyError:
            continue
        if field.kind is FieldKind.GROUP:
            before = previous.groups.get(old.key, ())
            after = state.groups.get(field.key, ())
            if before != after:
                lines.append(f"{field.label}：上年 {len(before)} 条，今年 {len(after)} 条")
        elif field.kind is FieldKind.INDICATORS:
            lines.extend(_indicator_changes(source, previous, target, state))
        else:
            then, now = previous.values.get(old.key), state.values.get(field.key)
            if then == now:
                continue
            if field.kind is FieldKind.LONG_TEXT and then is not None and now is not None:
                lines.append(f"{field.label}：已修改")
            else:
                lines.append(f"{field.label}：{_shown(then)} → {_shown(now)}")
    if len(lines) > MAX_CHANGE_LINES:
        lines = [*lines[:MAX_CHANGE_LINES], f"…… 另有 {len(lines) - MAX_CHANGE_LINES} 处变化"]
    return tuple(lines)


def _indicator_changes(
    source: FormDefinition, previous: FormState, target: FormDefinition, state: FormState
) -> Iterator[str]:
    targets = _level2_by_role(target)

    def keyed(
        definition: FormDefinition, rows: tuple[IndicatorRow, ...], mapped: bool
    ) -> dict[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        for row in rows:
            if row.not_applicable:
                continue
            try:
                role = definition.indicators.level2(row.level2).role
            except KeyError:
                continue
            level2 = targets.get(role) if mapped else row.level2
            if level2 is not None:
                found[(level2, row.name)] = row.value
        return found

    before = keyed(source, previous.indicators, mapped=True)
    after = keyed(target, state.indicators, mapped=False)
    for key, value in after.items():
        if key not in before:
            yield f"新增指标「{key[1]}」：{value}"
        elif before[key] != value:
            yield f"指标「{key[1]}」：{before[key]} → {value}"
    for key, value in before.items():
        if key not in after:
            yield f"删除指标「{key[1]}」（上年：{value}）"
