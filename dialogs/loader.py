"""Load and check form definitions from YAML at start-up.

Any mistake in a definition file (an unknown kind, a duplicate key, a rule naming a missing field,
an unknown error code) is a `DefinitionError` naming the file and the place, raised when the
definitions load, never when a user first meets the broken step.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dialogs.definition import (
    ColumnDef,
    ColumnSpec,
    FieldDef,
    FieldKind,
    FormDefinition,
    IndicatorColumn,
    IndicatorLayout,
    Layout,
    Level1,
    Level1Role,
    Level2,
    Level2Role,
    Section,
    SummaryLayout,
    SumRule,
    TableKind,
)

FORMS_DIR = Path(__file__).parent / "forms"
CONTEXT_KEYS = frozenset({"department_name"})
_M = TypeVar("_M", bound=BaseModel)


class DefinitionError(Exception):
    """A form definition file is malformed; the message names the file and the place."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Column(_Strict):
    key: str
    label: str
    kind: Literal["text", "long_text"]
    required: bool = True
    max_length: int = Field(gt=0)
    hint: str = ""
    example: str = ""


class _Field(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    kind: FieldKind
    required: bool = False
    hint: str = ""
    example: str = ""
    group_label: str = ""
    max_length: int = Field(default=0, ge=0)
    positive: bool = False
    choices: tuple[str, ...] = ()
    columns: tuple[_Column, ...] = ()
    min_rows: int = Field(default=0, ge=0)
    max_rows: int = Field(default=0, ge=0)
    calculate: str | None = None
    unique_in_department: bool = False


class _Section(_Strict):
    key: str
    label: str
    fields: tuple[_Field, ...] = Field(min_length=1)


class _Rule(_Strict):
    key: str
    check: Literal["sum_equals"]
    total: str
    terms: tuple[str, ...] = Field(min_length=1)
    group_label: str


class _Table(_Strict):
    key: str
    kind: Literal["A", "C"]
    name: str
    title: str
    header: str
    sections: tuple[_Section, ...] = Field(min_length=1)
    rules: tuple[_Rule, ...] = ()
    instance_field: str | None = None
    group_field: str | None = None
    amount_field: str | None = None
    directions_total_field: str | None = None


class _Level2(_Strict):
    key: str
    label: str
    role: Level2Role
    example_name: str
    example_value: str


class _Level1(_Strict):
    key: str
    label: str
    role: Level1Role
    children: tuple[_Level2, ...] = Field(min_length=1)


class _ColumnSpec(_Strict):
    column: IndicatorColumn
    label: str
    required: bool
    max_length: int = Field(gt=0)
    hint: str
    example: str


class _Indicators(_Strict):
    max_rows_per_level2: int = Field(gt=0)
    columns: tuple[_ColumnSpec, ...]
    levels: tuple[_Level1, ...] = Field(min_length=1)


class _Summary(_Strict):
    name: str
    title: str
    header: str
    columns: tuple[str, ...]
    total_label: str
    goal_fields: tuple[str, str]


class _Layout(_Strict):
    key: str
    name: str
    tables: dict[Literal["A", "C"], str]
    summary: _Summary
    indicators: _Indicators


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML silently keeps the last of two equal keys; a definition must not."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise DefinitionError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        seen.add(key)
    return dict(loader.construct_pairs(node))


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _read(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except DefinitionError as error:
        raise DefinitionError(f"{path}: {error}") from None
    except (OSError, yaml.YAMLError) as error:
        raise DefinitionError(f"{path}: cannot read: {error}") from None


def _parse(model: type[_M], path: Path, data: Any) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(part) for part in first["loc"])
        raise DefinitionError(f"{path}: {place}: {first['msg']}") from None


def _unique(path: Path, what: str, keys: list[str]) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise DefinitionError(f"{path}: duplicate {what} key {key!r}")
        seen.add(key)


def _indicator_layout(path: Path, raw: _Indicators) -> IndicatorLayout:
    _unique(path, "一级指标", [level.key for level in raw.levels])
    _unique(path, "二级指标", [child.key for level in raw.levels for child in level.children])
    _unique(path, "indicator column", [spec.column.value for spec in raw.columns])
    for needed in (IndicatorColumn.NAME, IndicatorColumn.VALUE):
        if needed not in {spec.column for spec in raw.columns}:
            raise DefinitionError(f"{path}: indicators.columns lacks {needed.value!r}")
    roles = {level.role for level in raw.levels}
    for role in (Level1Role.OUTPUT, Level1Role.BENEFIT):
        if role not in roles:
            raise DefinitionError(f"{path}: no 一级指标 with role {role.value!r}")
    return IndicatorLayout(
        levels=tuple(
            Level1(
                key=level.key,
                label=level.label,
                role=level.role,
                children=tuple(Level2(**child.model_dump()) for child in level.children),
            )
            for level in raw.levels
        ),
        columns=tuple(ColumnSpec(**spec.model_dump()) for spec in raw.columns),
        max_rows_per_level2=raw.max_rows_per_level2,
    )


def _field(path: Path, raw: _Field) -> FieldDef:
    where = f"{path}: field {raw.key!r}"
    if raw.calculate is not None and raw.calculate not in CONTEXT_KEYS:
        raise DefinitionError(f"{where}: unknown calculate source {raw.calculate!r}")
    if raw.kind in (FieldKind.TEXT, FieldKind.LONG_TEXT) and raw.max_length == 0:
        raise DefinitionError(f"{where}: a text field needs max_length")
    if raw.kind is FieldKind.CHOICE and not raw.choices:
        raise DefinitionError(f"{where}: a choice field needs choices")
    if raw.kind is FieldKind.GROUP:
        if not raw.columns:
            raise DefinitionError(f"{where}: a group needs columns")
        if raw.max_rows == 0 or raw.min_rows > raw.max_rows:
            raise DefinitionError(f"{where}: a group needs 0 <= min_rows <= max_rows, max_rows > 0")
        _unique(path, "column", [column.key for column in raw.columns])
    elif raw.columns:
        raise DefinitionError(f"{where}: only a group has columns")
    if (
        raw.required
        and raw.calculate is None
        and not raw.example
        and raw.kind
        not in (
            FieldKind.GROUP,
            FieldKind.INDICATORS,
        )
    ):
        raise DefinitionError(f"{where}: a required field needs an example for its messages")
    return FieldDef(
        key=raw.key,
        label=raw.label,
        kind=raw.kind,
        required=raw.required,
        hint=raw.hint,
        example=raw.example,
        group_label=raw.group_label,
        max_length=raw.max_length,
        min_amount=Decimal(0) if raw.kind is FieldKind.AMOUNT else None,
        positive=raw.positive,
        choices=raw.choices,
        columns=tuple(
            ColumnDef(
                key=c.key,
                label=c.label,
                kind=FieldKind(c.kind),
                required=c.required,
                max_length=c.max_length,
                hint=c.hint,
                example=c.example,
            )
            for c in raw.columns
        ),
        min_rows=raw.min_rows,
        max_rows=raw.max_rows,
        calculate=raw.calculate,
        unique_in_department=raw.unique_in_department,
    )


def _table(path: Path, layout_key: str, raw: _Table, indicators: IndicatorLayout) -> FormDefinition:
    _unique(path, "section", [section.key for section in raw.sections])
    fields = [_field(path, f) for section in raw.sections for f in section.fields]
    _unique(path, "field", [f.key for f in fields])
    by_key = {f.key: f for f in fields}
    if sum(1 for f in fields if f.kind is FieldKind.INDICATORS) > 1:
        raise DefinitionError(f"{path}: at most one indicators field per table")
    for rule in raw.rules:
        for name in (rule.total, *rule.terms):
            if name not in by_key:
                raise DefinitionError(f"{path}: rule {rule.key!r} names missing field {name!r}")
            if by_key[name].kind is not FieldKind.AMOUNT:
                raise DefinitionError(f"{path}: rule {rule.key!r}: {name!r} is not an amount")
    for attribute in ("instance_field", "group_field", "amount_field", "directions_total_field"):
        name = getattr(raw, attribute)
        if name is not None and name not in by_key:
            raise DefinitionError(f"{path}: {attribute} names missing field {name!r}")
    if raw.kind == "C" and raw.instance_field is None:
        raise DefinitionError(f"{path}: table C needs instance_field")
    sections = []
    position = 0
    for section in raw.sections:
        count = len(section.fields)
        sections.append(
            Section(
                key=section.key,
                label=section.label,
                fields=tuple(fields[position : position + count]),
            )
        )
        position += count
    return FormDefinition(
        key=raw.key,
        layout=layout_key,
        kind=TableKind(raw.kind),
        name=raw.name,
        title=raw.title,
        header=raw.header,
        sections=tuple(sections),
        rules=tuple(
            SumRule(key=r.key, total=r.total, terms=r.terms, group_label=r.group_label)
            for r in raw.rules
        ),
        indicators=indicators,
        instance_field=raw.instance_field,
        group_field=raw.group_field,
        amount_field=raw.amount_field,
        directions_total_field=raw.directions_total_field,
    )


def load_layout(directory: Path) -> Layout:
    path = directory / "layout.yaml"
    raw = _parse(_Layout, path, _read(path))
    if set(raw.tables) != {"A", "C"}:
        raise DefinitionError(f"{path}: tables must name A and C")
    indicators = _indicator_layout(path, raw.indicators)
    tables = {}
    for kind, filename in raw.tables.items():
        table_path = directory / filename
        table = _parse(_Table, table_path, _read(table_path))
        if table.kind != kind:
            raise DefinitionError(f"{table_path}: kind {table.kind!r} listed as table {kind!r}")
        tables[kind] = _table(table_path, raw.key, table, indicators)
    summary = SummaryLayout(**raw.summary.model_dump())
    for name in summary.goal_fields:
        if name not in {f.key for f in tables["C"].fields()}:
            raise DefinitionError(f"{path}: summary.goal_fields names missing C field {name!r}")
    return Layout(
        key=raw.key, name=raw.name, table_a=tables["A"], table_c=tables["C"], summary=summary
    )


@cache
def load_layouts(root: Path = FORMS_DIR) -> dict[str, Layout]:
    """Every layout under `root`, keyed by its `key`; raises DefinitionError on any mistake."""
    layouts: dict[str, Layout] = {}
    for directory in sorted(p for p in root.iterdir() if (p / "layout.yaml").exists()):
        layout = load_layout(directory)
        if layout.key in layouts:
            raise DefinitionError(f"{directory}: duplicate layout key {layout.key!r}")
        layouts[layout.key] = layout
    if not layouts:
        raise DefinitionError(f"{root}: no layout.yaml found")
    return layouts


def get_layout(key: str) -> Layout:
    layouts = load_layouts()
    if key not in layouts:
        raise DefinitionError(f"unknown layout {key!r}; known: {', '.join(sorted(layouts))}")
    return layouts[key]
