"""Form definitions are checked when they load: every mistake is a DefinitionError naming the
file and the place, never a user's surprise at a later step."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dialogs.definition import FieldKind, IndicatorColumn, Level1Role, TableKind
from dialogs.loader import FORMS_DIR, DefinitionError, load_layout, load_layouts


def test_shipped_layouts_load() -> None:
    layouts = load_layouts()
    assert {"2021", "2023"} <= set(layouts)
    for layout in layouts.values():
        assert layout.table_a.kind is TableKind.A and layout.table_c.kind is TableKind.C
        assert layout.table_c.instance_field is not None
    # The later national layout: 满意度 is its own 一级 and the value is split into columns.
    roles_2023 = [level.role for level in layouts["2023"].table_a.indicators.levels]
    assert roles_2023 == [Level1Role.OUTPUT, Level1Role.BENEFIT, Level1Role.SATISFACTION]
    assert layouts["2023"].table_a.indicators.has(IndicatorColumn.WEIGHT)
    assert not layouts["2021"].table_a.indicators.has(IndicatorColumn.WEIGHT)


@pytest.fixture
def layout_copy(tmp_path: Path) -> Path:
    target = tmp_path / "2021"
    shutil.copytree(FORMS_DIR / "2021", target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


CASES = [
    (
        "table_a.yaml",
        "kind: amount, required: true,\n         hint: 本年度",
        "kind: money, required: true,\n         hint: 本年度",
        "sections",
    ),
    (
        "table_a.yaml",
        "{key: other_funds,",
        "{key: government_fund,",
        "duplicate field key 'government_fund'",
    ),
    (
        "table_a.yaml",
        "terms: [basic_expense, project_expense]",
        "terms: [basic_expense, missing]",
        "names missing field 'missing'",
    ),
    ("table_a.yaml", "key: table_a\n", "key: table_a\nkey: again\n", "duplicate key 'key'"),
    (
        "table_a.yaml",
        "directions_total_field: project_expense",
        "directions_total_field: nowhere",
        "missing field 'nowhere'",
    ),
    (
        "table_c.yaml",
        "instance_field: direction",
        "instance_field: nothing",
        "missing field 'nothing'",
    ),
    ("layout.yaml", "role: benefit\n", "role: output\n", "role 'benefit'"),
    (
        "layout.yaml",
        "{key: quality, label: 产出质量",
        "{key: quantity, label: 产出质量",
        "duplicate 二级指标 key 'quantity'",
    ),
    (
        "layout.yaml",
        "goal_fields: [period_goal, annual_goal]",
        "goal_fields: [period_goal, nope]",
        "missing C field 'nope'",
    ),
    (
        "table_a.yaml",
        "calculate: department_name",
        "calculate: whatever",
        "unknown calculate source",
    ),
    (
        "table_a.yaml",
        "        max_length: 50\n  - key: budget",
        "        max_length: 50\n        surprise: 1\n  - key: budget",
        "surprise",
    ),
    # The dataclasses of dialogs/definition.py are the files' schema: their bounds hold at load.
    ("table_a.yaml", "{key: total,", "{key: Total,", "lower-case letters"),
    (
        "table_a.yaml",
        "{key: unit, label: 责任单位/科室, kind: text,",
        "{key: unit, label: 责任单位/科室, kind: amount,",
        "is not text or long_text",
    ),
    (
        "table_a.yaml",
        "{key: item, label: 事项, kind: text, required: true, max_length: 200,",
        "{key: item, label: 事项, kind: text, required: true, max_length: 0,",
        "greater than 0",
    ),
    ("layout.yaml", "max_rows_per_level2: 10", "max_rows_per_level2: 0", "greater than 0"),
    (
        "layout.yaml",
        "goal_fields: [period_goal, annual_goal]",
        "goal_fields: [period_goal]",
        "names two C fields",
    ),
    ("table_a.yaml", "kind: A\n", "kind: A\nlayout: \"2023\"\n", "set by layout.yaml"),
    ("table_a.yaml", "kind: A\n", "kind: B\n", "listed as table 'A'"),
]


@pytest.mark.parametrize(("filename", "old", "new", "expected"), CASES)
def test_definition_mistakes_are_caught_at_load(
    layout_copy: Path, filename: str, old: str, new: str, expected: str
) -> None:
    _edit(layout_copy / filename, old, new)
    with pytest.raises(DefinitionError) as caught:
        load_layout(layout_copy)
    assert expected in str(caught.value)
    assert filename in str(caught.value) or "line" in str(caught.value)


def test_a_new_layout_is_data_only(layout_copy: Path) -> None:
    """Adding an 一级指标 (as later national guidance does) needs no code."""
    _edit(
        layout_copy / "layout.yaml",
        "    - key: benefit\n",
        "    - key: extra\n      label: 满意度指标\n      role: satisfaction\n      children:\n"
        "        - {key: served, label: 服务对象满意度指标, role: satisfaction,\n"
        "           example_name: 服务对象满意度, example_value: ≥90%}\n    - key: benefit\n",
    )
    _edit(layout_copy / "layout.yaml", 'key: "2021"', 'key: "2099"')
    layout = load_layout(layout_copy)
    assert [level.label for level in layout.table_a.indicators.levels][1] == "满意度指标"
    assert layout.table_a.field("total").kind is FieldKind.AMOUNT
