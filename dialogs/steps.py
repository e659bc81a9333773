"""Step addresses and the ordered list of steps a form's current answers imply.

A step address is a short ASCII string stored as the form's cursor:
  f:<field>                  a scalar field
  g:<group>:<row>:<column>   a cell of a repeating group row
  g:<group>:more             "add another row or go on"
  i:<level2>:<row>:<column>  a cell of an indicator row (name, value, confirm, remark, …)
  i:<level2>:more            "add another indicator under this 二级 or go on"
  review                     the end: the whole form for review and submit
The ✏/🗑 buttons of a row name the row itself: g:<group>:<row> or i:<level2>:<row>
(`row_address`, read by `parse_row`). Addresses are written by `Step.address` and
`row_address` and read here only.
A cursor may carry the suffix `!edit`: the user jumped there from review, so after the answer
the engine goes to the first unanswered step (or back to review) instead of the next in order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from dialogs.definition import FieldDef, FieldKind, FormDefinition, IndicatorColumn, Section
from dialogs.state import FormState

REVIEW = "review"
EDIT_SUFFIX = "!edit"
CONFIRM = "confirm"
MORE = "more"
DONE_PREFIX = "_done."


class StepKind(StrEnum):
    FIELD = "f"
    GROUP_CELL = "g"
    GROUP_MORE = "gm"
    INDICATOR_CELL = "i"
    INDICATOR_MORE = "im"
    REVIEW = "review"


@dataclass(frozen=True)
class Step:
    """A parsed step address."""

    kind: StepKind
    key: str = ""  # field key, group key or 二级 key
    row: int = 0
    column: str = ""

    @property
    def address(self) -> str:
        match self.kind:
            case StepKind.FIELD:
                return f"f:{self.key}"
            case StepKind.GROUP_CELL:
                return f"g:{self.key}:{self.row}:{self.column}"
            case StepKind.GROUP_MORE:
                return f"g:{self.key}:{MORE}"
            case StepKind.INDICATOR_CELL:
                return f"i:{self.key}:{self.row}:{self.column}"
            case StepKind.INDICATOR_MORE:
                return f"i:{self.key}:{MORE}"
            case _:
                return REVIEW


REVIEW_STEP = Step(StepKind.REVIEW)


_CELLS = {"g": StepKind.GROUP_CELL, "i": StepKind.INDICATOR_CELL}
_MORE = {"g": StepKind.GROUP_MORE, "i": StepKind.INDICATOR_MORE}
_ROW_PREFIX = {
    StepKind.GROUP_CELL: "g",
    StepKind.GROUP_MORE: "g",
    StepKind.INDICATOR_CELL: "i",
    StepKind.INDICATOR_MORE: "i",
}


def _row_number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


def parse_address(address: str) -> Step | None:
    """The step an address names, or None for anything malformed (a forged or stale cursor)."""
    address = address.removesuffix(EDIT_SUFFIX)
    if address == REVIEW:
        return REVIEW_STEP
    prefix, *rest = address.split(":")
    if prefix == StepKind.FIELD.value and len(rest) == 1:
        return Step(StepKind.FIELD, rest[0])
    if prefix in _CELLS and len(rest) == 2 and rest[1] == MORE:
        return Step(_MORE[prefix], rest[0])
    if prefix in _CELLS and len(rest) == 3:
        row = _row_number(rest[1])
        return None if row is None else Step(_CELLS[prefix], rest[0], row, rest[2])
    return None


def row_address(step_kind: StepKind, key: str, row: int) -> str:
    """The target of a row's ✏ and 🗑 buttons: the row of a group or of a 二级指标."""
    return f"{_ROW_PREFIX[step_kind]}:{key}:{row}"


def parse_row(address: str) -> Step | None:
    """A row target (`row_address`) as the cell step of that row without a column, or None."""
    prefix, *rest = address.split(":")
    if prefix not in _CELLS or len(rest) != 2:
        return None
    row = _row_number(rest[1])
    return None if row is None else Step(_CELLS[prefix], rest[0], row)


def is_editing(cursor: str) -> bool:
    return cursor.endswith(EDIT_SUFFIX)


def done_key(step_kind: StepKind, key: str) -> str:
    prefix = "g" if step_kind in (StepKind.GROUP_CELL, StepKind.GROUP_MORE) else "i"
    return f"{DONE_PREFIX}{prefix}.{key}"


def is_done(state: FormState, step_kind: StepKind, key: str) -> bool:
    return done_key(step_kind, key) in state.values


def indicator_columns(definition: FormDefinition) -> tuple[str, ...]:
    """The asked columns of an indicator row in asking order, with `confirm` after `value`."""
    columns: list[str] = []
    for spec in definition.indicators.asked_columns():
        columns.append(spec.column.value)
        if spec.column is IndicatorColumn.VALUE:
            columns.append(CONFIRM)
    # name and value first whatever the printed order: the value is judged with the name.
    ordered = [IndicatorColumn.NAME.value, IndicatorColumn.VALUE.value, CONFIRM]
    return tuple(ordered + [c for c in columns if c not in ordered])


def _field_steps(definition: FormDefinition, field: FieldDef, state: FormState) -> list[Step]:
    if not field.asked:
        return []
    if field.kind is FieldKind.GROUP:
        group_rows = state.groups.get(field.key, ())
        steps = [
            Step(StepKind.GROUP_CELL, field.key, index, column.key)
            for index in range(len(group_rows))
            for column in field.columns
        ]
        if not group_rows:
            steps.append(Step(StepKind.GROUP_CELL, field.key, 0, field.columns[0].key))
        steps.append(Step(StepKind.GROUP_MORE, field.key))
        return steps
    if field.kind is FieldKind.INDICATORS:
        steps = []
        columns = indicator_columns(definition)
        for _, level2 in definition.indicators.level2s():
            rows = state.rows_of(level2.key)
            if rows and rows[0].not_applicable:
                steps.append(Step(StepKind.INDICATOR_CELL, level2.key, 0, "name"))
                continue
            for index, row in enumerate(rows):
                for column in columns:
                    if column == CONFIRM and (row.reading is None or row.reading.sure):
                        continue
                    steps.append(Step(StepKind.INDICATOR_CELL, level2.key, index, column))
            if not rows:
                steps.append(Step(StepKind.INDICATOR_CELL, level2.key, 0, "name"))
            steps.append(Step(StepKind.INDICATOR_MORE, level2.key))
        return steps
    return [Step(StepKind.FIELD, field.key)]


class _Memo(threading.local):
    """What was derived from the last few states (per thread): rendering one answer asks for
    the steps of the same state a dozen times (the cursor check, the progress, the section
    marks, the buttons). States are immutable values, and an entry holds its state and
    definition, so their identity stays a sound key while the entry lives."""

    SIZE = 4

    def __init__(self) -> None:
        self.entries: list[tuple[FormState, FormDefinition, dict[object, object]]] = []

    def of(self, definition: FormDefinition, state: FormState) -> dict[object, object]:
        for entry in self.entries:
            if entry[0] is state and entry[1] is definition:
                return entry[2]
        derived: dict[object, object] = {}
        self.entries = [(state, definition, derived), *self.entries[: self.SIZE - 1]]
        return derived


_MEMO = _Memo()
T = TypeVar("T")


def _remembered(
    definition: FormDefinition,
    state: FormState,
    key: tuple[str, Section],
    kind: type[T],
    derive: Callable[[], T],
) -> T:
    """`derive()` for this state and definition, computed once while the state is recent."""
    derived = _MEMO.of(definition, state)
    memo_key = (key[0], id(key[1]))
    found = derived.get(memo_key)
    if not isinstance(found, kind):
        found = derived[memo_key] = derive()
    return found


def section_steps(definition: FormDefinition, section: Section, state: FormState) -> list[Step]:
    def derive() -> tuple[Step, ...]:
        return tuple(
            step for field in section.fields for step in _field_steps(definition, field, state)
        )

    return list(_remembered(definition, state, ("steps", section), tuple, derive))


def asked_sections(definition: FormDefinition) -> tuple[Section, ...]:
    return tuple(s for s in definition.sections if any(f.asked for f in s.fields))


def all_steps(definition: FormDefinition, state: FormState) -> list[Step]:
    steps: list[Step] = []
    for section in asked_sections(definition):
        steps.extend(section_steps(definition, section, state))
    return steps


def section_of_step(definition: FormDefinition, step: Step) -> Section | None:
    if step.kind is StepKind.REVIEW:
        return None
    if step.kind in (StepKind.INDICATOR_CELL, StepKind.INDICATOR_MORE):
        for section in definition.sections:
            if any(f.kind is FieldKind.INDICATORS for f in section.fields):
                return section
        return None
    try:
        return definition.section_of(step.key)
    except KeyError:
        return None


def is_visited(definition: FormDefinition, state: FormState, step: Step) -> bool:
    """Whether a step has been answered or skipped."""
    match step.kind:
        case StepKind.FIELD:
            return step.key in state.values
        case StepKind.GROUP_CELL:
            group_rows = state.groups.get(step.key, ())
            return step.row < len(group_rows) and group_rows[step.row].get(step.column) is not None
        case StepKind.GROUP_MORE | StepKind.INDICATOR_MORE:
            return is_done(state, step.kind, step.key)
        case StepKind.INDICATOR_CELL:
            rows = state.rows_of(step.key)
            if step.row >= len(rows):
                return False
            row = rows[step.row]
            if step.column == CONFIRM:
                return row.reading is not None and (row.reading.sure or row.reading.confirmed)
            return row.not_applicable or step.column in row.visited
        case _:
            return False


def section_complete(definition: FormDefinition, section: Section, state: FormState) -> bool:
    def derive() -> bool:
        steps = section_steps(definition, section, state)
        return all(is_visited(definition, state, s) for s in steps)

    return _remembered(definition, state, ("complete", section), bool, derive)


def keepable(definition: FormDefinition, state: FormState, step: Step) -> bool:
    """An answered question (a copied or revisited one) that may be passed as it stands."""
    kinds = (StepKind.FIELD, StepKind.GROUP_CELL, StepKind.INDICATOR_CELL)
    return step.kind in kinds and step.column != CONFIRM and is_visited(definition, state, step)
