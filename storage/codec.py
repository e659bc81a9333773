"""FormState <-> stored rows, without the ORM: every value round-trips exactly.

The records mirror the tables `answers`, `group_rows` and `indicator_rows` one to one, so that the
repository only copies fields and the diff between two states is a comparison of records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from dialogs.state import FormState, FormStatus, GroupRow, IndicatorRow
from dialogs.values import Answer, Comparator, Grade, Nature, Period, Reading, YearMonth

EMPTY_GROUP_POSITION = -1  # the marker row of a group that exists with no rows
SKIPPED_TEXT = "<skipped>"  # how the audit log shows a skipped optional answer


class AnswerType(StrEnum):
    STR = "str"
    DECIMAL = "decimal"
    PERIOD = "period"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class AnswerRecord:
    key: str
    type: AnswerType
    text: str | None  # None exactly when skipped


@dataclass(frozen=True)
class GroupRecord:
    group_key: str
    position: int
    cells: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class IndicatorRecord:
    position: int
    level2: str
    name: str
    value: str
    nature: str | None
    comparator: str | None
    number: Decimal | None
    unit: str | None
    grade: str | None
    sure: bool | None
    confirmed: bool | None
    remark: str | None
    explanation: str | None
    scoring: str | None
    weight: Decimal | None
    visited: tuple[str, ...]


@dataclass(frozen=True)
class EncodedState:
    cursor: str
    status: FormStatus
    answers: Mapping[str, AnswerRecord]
    groups: Mapping[tuple[str, int], GroupRecord]
    indicators: Mapping[int, IndicatorRecord]


def _text(value: str) -> str:
    """Refuse, on every database alike, text that PostgreSQL cannot hold: NUL characters and
    lone surrogates (not encodable as UTF-8)."""
    if "\x00" in value:
        raise ValueError("text with a NUL character cannot be stored")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("text with a lone surrogate cannot be stored") from error
    return value


def _optional_text(value: str | None) -> str | None:
    return None if value is None else _text(value)


def _decimal(value: Decimal | None) -> Decimal | None:
    if value is not None and not value.is_finite():
        raise ValueError(f"cannot store the non-finite decimal {value}")
    return value


_PERIOD = re.compile(r"^(-?\d+)\.(\d+)-(-?\d+)\.(\d+)$")


def format_period(period: Period) -> str:
    return str(period)  # 2021.1-2021.12


def parse_period(text: str) -> Period:
    match = _PERIOD.match(text)
    if match is None:
        raise ValueError(f"not a stored period: {text!r}")
    start_year, start_month, end_year, end_month = (int(part) for part in match.groups())
    return Period(YearMonth(start_year, start_month), YearMonth(end_year, end_month))


def encode_answer(key: str, value: Answer) -> AnswerRecord:
    if value is None:
        return AnswerRecord(_text(key), AnswerType.SKIPPED, None)
    if isinstance(value, str):
        return AnswerRecord(_text(key), AnswerType.STR, _text(value))
    if isinstance(value, Decimal):
        return AnswerRecord(_text(key), AnswerType.DECIMAL, str(_decimal(value)))
    if isinstance(value, Period):
        return AnswerRecord(_text(key), AnswerType.PERIOD, format_period(value))
    raise TypeError(f"cannot store an answer of type {type(value).__name__}")


def decode_answer(record: AnswerRecord) -> Answer:
    if record.type is AnswerType.SKIPPED:
        return None
    if record.text is None:
        raise ValueError(f"answer {record.key!r} of type {record.type} has no text")
    if record.type is AnswerType.STR:
        return record.text
    if record.type is AnswerType.DECIMAL:
        try:
            return Decimal(record.text)
        except InvalidOperation as error:
            raise ValueError(f"answer {record.key!r} is not a decimal") from error
    return parse_period(record.text)


def answer_text(record: AnswerRecord) -> str:
    """The audit log's text of an answer."""
    return SKIPPED_TEXT if record.text is None else record.text


def encode_groups(groups: Mapping[str, tuple[GroupRow, ...]]) -> dict[tuple[str, int], GroupRecord]:
    records: dict[tuple[str, int], GroupRecord] = {}
    for group_key, rows in groups.items():
        _text(group_key)
        if not rows:
            records[group_key, EMPTY_GROUP_POSITION] = GroupRecord(
                group_key, EMPTY_GROUP_POSITION, ()
            )
        for position, row in enumerate(rows):
            cells = tuple((_text(key), _text(value)) for key, value in row.cells)
            records[group_key, position] = GroupRecord(group_key, position, cells)
    return records


def decode_groups(records: Iterable[GroupRecord]) -> dict[str, tuple[GroupRow, ...]]:
    rows: dict[str, list[GroupRow]] = {}
    for record in sorted(records, key=lambda item: (item.group_key, item.position)):
        group = rows.setdefault(record.group_key, [])
        if record.position != EMPTY_GROUP_POSITION:
            if record.position != len(group):
                raise ValueError(f"group {record.group_key!r} misses row {len(group)}")
            group.append(GroupRow(cells=record.cells))
    return {key: tuple(group) for key, group in rows.items()}


def cells_to_json(cells: tuple[tuple[str, str], ...]) -> list[list[str]]:
    return [[key, value] for key, value in cells]


def cells_from_json(data: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(data, list):
        raise ValueError("group row cells must be a JSON list")
    cells: list[tuple[str, str]] = []
    for pair in data:
        if not (
            isinstance(pair, list)
            and len(pair) == 2
            and isinstance(pair[0], str)
            and isinstance(pair[1], str)
        ):
            raise ValueError(f"group row cell must be [key, value], not {pair!r}")
        cells.append((pair[0], pair[1]))
    return tuple(cells)


def visited_from_json(data: object) -> tuple[str, ...]:
    if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
        raise ValueError("indicator row visited must be a JSON list of strings")
    return tuple(data)


def _value(member: StrEnum | None) -> str | None:
    return None if member is None else member.value


def encode_indicator(position: int, row: IndicatorRow) -> IndicatorRecord:
    reading = row.reading
    return IndicatorRecord(
        position=position,
        level2=_text(row.level2),
        name=_text(row.name),
        value=_text(row.value),
        nature=None if reading is None else reading.nature.value,
        comparator=_value(None if reading is None else reading.comparator),
        number=None if reading is None else _decimal(reading.number),
        unit=None if reading is None else _optional_text(reading.unit),
        grade=_value(None if reading is None else reading.grade),
        sure=None if reading is None else reading.sure,
        confirmed=None if reading is None else reading.confirmed,
        remark=_optional_text(row.remark),
        explanation=_optional_text(row.explanation),
        scoring=_optional_text(row.scoring),
        weight=_decimal(row.weight),
        visited=tuple(_text(column) for column in row.visited),
    )


def decode_indicator(record: IndicatorRecord) -> IndicatorRow:
    reading: Reading | None = None
    if record.nature is not None:
        reading = Reading(
            nature=Nature(record.nature),
            comparator=None if record.comparator is None else Comparator(record.comparator),
            number=record.number,
            unit=record.unit,
            grade=None if record.grade is None else Grade(record.grade),
            sure=bool(record.sure),
            confirmed=bool(record.confirmed),
        )
    return IndicatorRow(
        level2=record.level2,
        name=record.name,
        value=record.value,
        reading=reading,
        remark=record.remark,
        explanation=record.explanation,
        scoring=record.scoring,
        weight=record.weight,
        visited=record.visited,
    )


def indicator_text(record: IndicatorRecord) -> str:
    """The audit log's text of an indicator row: its columns as JSON."""
    data = {name: value for name, value in asdict(record).items() if name != "position"}
    return json.dumps(data, ensure_ascii=False, default=str, sort_keys=True)


def group_text(record: GroupRecord) -> str:
    return json.dumps(cells_to_json(record.cells), ensure_ascii=False)


def encode_state(state: FormState) -> EncodedState:
    return EncodedState(
        cursor=_text(state.cursor),
        status=state.status,
        answers={key: encode_answer(key, value) for key, value in state.values.items()},
        groups=encode_groups(state.groups),
        indicators={
            position: encode_indicator(position, row)
            for position, row in enumerate(state.indicators)
        },
    )


def decode_state(encoded: EncodedState, *, version: int) -> FormState:
    positions = sorted(encoded.indicators)
    if positions != list(range(len(positions))):
        raise ValueError(f"indicator rows have gaps: {positions}")
    return FormState(
        values={key: decode_answer(record) for key, record in encoded.answers.items()},
        groups=decode_groups(encoded.groups.values()),
        indicators=tuple(decode_indicator(encoded.indicators[p]) for p in positions),
        cursor=encoded.cursor,
        status=encoded.status,
        version=version,
    )


def snapshot(encoded: EncodedState) -> str:
    """The whole stored state as JSON (kept in the audit log when a form is deleted)."""
    data = {
        "cursor": encoded.cursor,
        "status": encoded.status.value,
        "answers": {key: [r.type.value, r.text] for key, r in sorted(encoded.answers.items())},
        "groups": [
            [r.group_key, r.position, cells_to_json(r.cells)]
            for _, r in sorted(encoded.groups.items())
        ],
        "indicators": [
            json.loads(indicator_text(encoded.indicators[p])) for p in sorted(encoded.indicators)
        ],
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True)
