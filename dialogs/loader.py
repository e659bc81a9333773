"""Load and check form definitions from YAML at start-up.

Any mistake in a definition file (an unknown kind, a duplicate key, a rule naming a missing field,
an unknown error code) is a `DefinitionError` naming the file and the place, raised when the
definitions load, never when a user first meets the broken step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

import yaml
from pydantic import TypeAdapter, ValidationError

from dialogs.definition import (
    STRICT,
    FieldDef,
    FieldKind,
    FormDefinition,
    IndicatorColumn,
    IndicatorLayout,
    Layout,
    Level1Role,
    SummaryLayout,
    TableKind,
)

FORMS_DIR = Path(__file__).parent / "forms"
CONTEXT_KEYS = frozenset({"department_name"})
_T = TypeVar("_T")


class DefinitionError(Exception):
    """A form definition file is malformed; the message names the file and the place."""


@dataclass(frozen=True)
class _LayoutFile:
    """layout.yaml: the layout's own parts, and the files of its tables (each a FormDefinition
    without the layout's parts, which are added before it is validated)."""

    __pydantic_config__: ClassVar[dict[str, Any]] = STRICT

    key: str
    name: str
    tables: dict[Literal["A", "C"], str]
    summary: SummaryLayout
    indicators: IndicatorLayout


_FROM_LAYOUT = ("layout", "indicators")  # parts of a table's FormDefinition set by its layout
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_COLUMN_KINDS = (FieldKind.TEXT, FieldKind.LONG_TEXT)


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


def _parse(shape: type[_T], path: Path, data: Any) -> _T:
    try:
        return TypeAdapter(shape).validate_python(data)
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


def _check_indicators(path: Path, raw: IndicatorLayout) -> None:
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


def _check_field(path: Path, raw: FieldDef) -> None:
    where = f"{path}: field {raw.key!r}"
    if not _KEY.match(raw.key):
        raise DefinitionError(f"{where}: a key is lower-case letters, digits and _ (total_funds)")
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
        for column in raw.columns:
            if column.kind not in _COLUMN_KINDS:
                raise DefinitionError(f"{where}: column {column.key!r} is not text or long_text")
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


def _table(path: Path, layout_key: str, data: Any, indicators: IndicatorLayout) -> FormDefinition:
    if isinstance(data, dict):
        for part in _FROM_LAYOUT:
            if part in data:
                raise DefinitionError(f"{path}: {part}: set by layout.yaml, not by a table")
        data = {**data, "layout": layout_key, "indicators": indicators}
    raw = _parse(FormDefinition, path, data)
    _unique(path, "section", [section.key for section in raw.sections])
    fields = list(raw.fields())
    for field in fields:
        _check_field(path, field)
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
    if raw.kind is TableKind.C and raw.instance_field is None:
        raise DefinitionError(f"{path}: table C needs instance_field")
    return raw


def load_layout(directory: Path) -> Layout:
    path = directory / "layout.yaml"
    raw = _parse(_LayoutFile, path, _read(path))
    if set(raw.tables) != {"A", "C"}:
        raise DefinitionError(f"{path}: tables must name A and C")
    _check_indicators(path, raw.indicators)
    tables = {}
    for kind, filename in raw.tables.items():
        table_path = directory / filename
        table = _table(table_path, raw.key, _read(table_path), raw.indicators)
        if table.kind != kind:
            raise DefinitionError(f"{table_path}: kind {table.kind!r} listed as table {kind!r}")
        tables[kind] = table
    summary = raw.summary
    if len(summary.goal_fields) != 2:
        raise DefinitionError(f"{path}: summary.goal_fields names two C fields")
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
