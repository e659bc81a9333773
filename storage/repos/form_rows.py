"""The rows under a form (answers, group rows, indicator rows): read in bulk, written as a diff."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Row, and_, bindparam, delete, select
from sqlalchemy.orm import Session

from storage import codec
from storage.codec import AnswerRecord, AnswerType, EncodedState, GroupRecord, IndicatorRecord
from storage.models import AnswerRow, FormColumns, GroupRowRow, IndicatorRowRow
from storage.repos._sql import run
from storage.repos.audit import AuditChange

K = TypeVar("K")
R = TypeVar("R")


@dataclass(frozen=True)
class _Table(Generic[K, R]):
    """How one child table stores a record under key K, and how the audit log names it.
    Its statements are built once (storage.repos._sql.run): the rows of some forms, the
    delete of one record (the key's columns as parameters), the insert."""

    model: Any
    key_columns: tuple[str, ...]
    key_params: Callable[[K], tuple[object, ...]]
    to_row: Callable[[int, R], dict[str, Any]]
    field_key: Callable[[K], str]
    audit_text: Callable[[R], str]
    select_rows: Any = field(init=False, repr=False, compare=False)
    delete_one: Any = field(init=False, repr=False, compare=False)
    insert: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table = self.model.__table__
        key: list[ColumnElement[bool]] = [
            table.c[name] == bindparam(f"k_{name}") for name in self.key_columns
        ]
        rows = select(table).where(table.c.form_id.in_(bindparam("form_ids", expanding=True)))
        forget = delete(table).where(table.c.form_id == bindparam("k_form_id"), and_(*key))
        object.__setattr__(self, "select_rows", rows)
        object.__setattr__(self, "delete_one", forget)
        object.__setattr__(self, "insert", table.insert())

    def delete_params(self, form_id: int, key: K) -> dict[str, object]:
        values = dict(zip(self.key_columns, self.key_params(key), strict=True))
        return {"k_form_id": form_id, **{f"k_{name}": v for name, v in values.items()}}


def _answer_row(form_id: int, record: AnswerRecord) -> dict[str, Any]:
    return {"form_id": form_id, "key": record.key, "type": record.type.value, "text": record.text}


def _group_row(form_id: int, record: GroupRecord) -> dict[str, Any]:
    return {
        "form_id": form_id,
        "group_key": record.group_key,
        "position": record.position,
        "cells": codec.cells_to_json(record.cells),
    }


def _indicator_row(form_id: int, record: IndicatorRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in IndicatorRecord.__dataclass_fields__}
    values["visited"] = list(record.visited)
    return {"form_id": form_id, **values}


def _indicator_record(row: Row[Any]) -> IndicatorRecord:
    """A Core row of the indicator rows table (`INDICATORS.select_rows`)."""
    values = {name: getattr(row, name) for name in IndicatorRecord.__dataclass_fields__}
    values["visited"] = codec.visited_from_json(row.visited)
    return IndicatorRecord(**values)


ANSWERS: _Table[str, AnswerRecord] = _Table(
    AnswerRow, ("key",), lambda key: (key,), _answer_row, str, codec.answer_text
)
GROUPS: _Table[tuple[str, int], GroupRecord] = _Table(
    GroupRowRow,
    ("group_key", "position"),
    lambda key: key,
    _group_row,
    lambda key: f"{key[0]}[{key[1]}]",
    codec.group_text,
)
INDICATORS: _Table[int, IndicatorRecord] = _Table(
    IndicatorRowRow,
    ("position",),
    lambda position: (position,),
    _indicator_row,
    lambda position: f"indicators[{position}]",
    codec.indicator_text,
)


def _changes(old: Mapping[K, R], new: Mapping[K, R]) -> Iterator[tuple[K, R | None, R | None]]:
    """Changed keys in the new state's order, then the removed ones."""
    for key in [*new, *(key for key in old if key not in new)]:
        before, after = old.get(key), new.get(key)
        if before != after:
            yield key, before, after


class FormRows:
    def __init__(self, session: Session) -> None:
        self.session = session

    def read(self, forms: Sequence[FormColumns]) -> dict[int, EncodedState]:
        """The stored states of `forms`, with three queries whatever their number."""
        ids = [form.id for form in forms]
        answers: dict[int, dict[str, AnswerRecord]] = {form_id: {} for form_id in ids}
        groups: dict[int, dict[tuple[str, int], GroupRecord]] = {form_id: {} for form_id in ids}
        indicators: dict[int, dict[int, IndicatorRecord]] = {form_id: {} for form_id in ids}
        if ids:
            params = {"form_ids": ids}
            for answer in run(self.session, ANSWERS.select_rows, params):
                record = AnswerRecord(answer.key, AnswerType(answer.type), answer.text)
                answers[answer.form_id][answer.key] = record
            for group in run(self.session, GROUPS.select_rows, params):
                cells = codec.cells_from_json(group.cells)
                key = (group.group_key, group.position)
                groups[group.form_id][key] = GroupRecord(group.group_key, group.position, cells)
            for indicator in run(self.session, INDICATORS.select_rows, params):
                indicators[indicator.form_id][indicator.position] = _indicator_record(indicator)
        return {
            form.id: EncodedState(
                cursor=form.cursor,
                status=form.status,
                answers=answers[form.id],
                groups=groups[form.id],
                indicators=indicators[form.id],
            )
            for form in forms
        }

    def write(self, form_id: int, old: EncodedState, new: EncodedState) -> list[AuditChange]:
        """Rewrite the rows that differ; one audit change per changed answer or row."""
        return [
            *self._write(ANSWERS, form_id, old.answers, new.answers),
            *self._write(GROUPS, form_id, old.groups, new.groups),
            *self._write(INDICATORS, form_id, old.indicators, new.indicators),
        ]

    def _write(
        self, table: _Table[K, R], form_id: int, old: Mapping[K, R], new: Mapping[K, R]
    ) -> list[AuditChange]:
        changed = list(_changes(old, new))
        for key, before, _ in changed:
            if before is not None:
                run(self.session, table.delete_one, table.delete_params(form_id, key))
        inserted = [table.to_row(form_id, after) for _, _, after in changed if after is not None]
        if inserted:
            run(self.session, table.insert, inserted)
        return [
            AuditChange(
                table.field_key(key),
                None if before is None else table.audit_text(before),
                None if after is None else table.audit_text(after),
            )
            for key, before, after in changed
        ]
