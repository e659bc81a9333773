"""Form definitions as typed data: what a table asks, in which order, with which limits.

Definitions are read from YAML files (`dialogs/forms/<layout>/`) by `dialogs.loader`; this module
only holds the shapes. Nothing here names a concrete label of the seed: those live in the files.

These dataclasses are also the schema of the files: the loader validates the YAML straight into
them (pydantic reads the `Annotated` bounds and `__pydantic_config__`: an unknown key is an
error), and checks what a type cannot say itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from annotated_types import Ge, Gt, MinLen

# Read by pydantic when the loader validates a definition file: a key the shape lacks is refused.
STRICT: dict[str, Any] = {"extra": "forbid"}
Positive = Annotated[int, Gt(0)]
NotNegative = Annotated[int, Ge(0)]


class TableKind(StrEnum):
    A = "A"  # 部门整体支出绩效目标表, one per department and round
    B = "B"  # 专项资金预算绩效目标汇总表, computed from the C tables, never asked
    C = "C"  # 专项资金支出方向绩效目标表, one per expenditure direction


class FieldKind(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    AMOUNT = "amount"
    PERIOD = "period"
    CHOICE = "choice"
    GROUP = "group"  # repeating rows of text columns (年度重点工作计划)
    INDICATORS = "indicators"  # the 年度绩效指标 block, shaped by the layout's hierarchy


class Level1Role(StrEnum):
    OUTPUT = "output"
    BENEFIT = "benefit"
    SATISFACTION = "satisfaction"


class Level2Role(StrEnum):
    """What rules need to know about a 二级指标, independent of its label in a layout."""

    QUANTITY = "quantity"
    QUALITY = "quality"
    TIMELINESS = "timeliness"
    COST = "cost"
    ECONOMIC = "economic"
    SOCIAL = "social"
    ECOLOGICAL = "ecological"
    SUSTAINABLE = "sustainable"
    SATISFACTION = "satisfaction"


class IndicatorColumn(StrEnum):
    """Columns an indicator row may have; a layout lists those it prints, in order."""

    VALUE_TYPE = "value_type"  # 指标值类型 (定量/定性), derived from the reading
    NAME = "name"  # 三级指标
    VALUE = "value"  # 指标值
    UNIT = "unit"  # 计量单位, derived from the reading
    EXPLANATION = "explanation"  # 指标解释
    SCORING = "scoring"  # 评（扣）分标准
    WEIGHT = "weight"  # 权重
    REMARK = "remark"  # 备注


# Columns the user types; the others are derived from the structured reading.
ASKED_COLUMNS = (
    IndicatorColumn.NAME,
    IndicatorColumn.VALUE,
    IndicatorColumn.EXPLANATION,
    IndicatorColumn.SCORING,
    IndicatorColumn.WEIGHT,
    IndicatorColumn.REMARK,
)


@dataclass(frozen=True)
class Level2:
    __pydantic_config__: ClassVar[dict[str, Any]] = STRICT

    key: str
    label: str
    role: Level2Role
    example_name: str
    example_value: str


@dataclass(frozen=True)
class Level1:
    __pydantic_config__: ClassVar[dict[str, Any]] = STRICT

    key: str
    label: str
    role: Level1Role
    children: Annotated[tuple[Level2, ...], MinLen(1)]


@dataclass(frozen=True)
class ColumnSpec:
    __pydantic_config__: ClassVar[dict[str, Any]] = STRICT

    column: IndicatorColumn
    label: str
    required: bool
    max_length: Positive
    hint: str
    example: str


@dataclass(frozen=True)
class IndicatorLayout:
    """The indicator hierarchy and the columns one layout prints."""
    __pydantic_config__: ClassVar[dict[str, Any]] = STRICT


    levels: Annotated[tuple[Level1, ...], MinLen(1)]
    columns: tuple[ColumnSpec, ...]
    max_rows_per_level2: Positive

    def level2s(self) -> Iterator[tuple[Level1, Level2]]:
        for level1 in self.levels:
            for level2 in level1.children:
                yield level1, level2

    def level2(self, key: str) -> Level2:
        for _, level2 in self.level2s():
            if level2.key == key:
                return level2
        raise KeyError(key)

    def level1_of(self, key: str) -> Level1:
        for level1, level2 in self.level2s():
            if level2.key == key:
                return level1
        raise KeyError(key)

    def has(self, column: IndicatorColumn) -> bool:
        return any(spec.column is column for spec in self.columns)

    def asked_columns(self) -> tuple[ColumnSpec, ...]:
        return tuple(spec for spec in self.columns if spec.column in ASKED_COLUMNS)

    def column(self, column: IndicatorColumn) -> ColumnSpec:
        for spec in self.columns:
            if spec.column is column:
                return spec
        raise KeyError(column)


@dataclass(frozen=True)
class ColumnDef:
    """One text column of a repeating group row."""
    __pydantic_config__: ClassVar[dict[str, Any]] = STRICT


    key: str
    label: str
    kind: FieldKind  # text or long_text (checked at load)
    max_length: Positive
    required: bool = True
    hint: str = ""
    example: str = ""


@dataclass(frozen=True)
class FieldDef:
    __pydantic_config__: ClassVar[dict[str, Any]] = STRICT

    key: str
    label: str
    kind: FieldKind
    required: bool = False
    hint: str = ""
    example: str = ""
    # Official sub-group label printed beside the field (按收入性质分 / 按支出性质分).
    group_label: str = ""
    max_length: NotNegative = 0
    positive: bool = False
    choices: tuple[str, ...] = ()
    columns: tuple[ColumnDef, ...] = ()
    min_rows: NotNegative = 0
    max_rows: NotNegative = 0
    # Filled from the filing context instead of being asked (部门名称 is the department's name).
    calculate: str | None = None
    # Unique among the department's forms of the same definition in one round.
    unique_in_department: bool = False

    @property
    def asked(self) -> bool:
        return self.calculate is None


@dataclass(frozen=True)
class Section:
    __pydantic_config__: ClassVar[dict[str, Any]] = STRICT

    key: str
    label: str
    fields: Annotated[tuple[FieldDef, ...], MinLen(1)]


class RuleCheck(StrEnum):
    SUM_EQUALS = "sum_equals"


@dataclass(frozen=True)
class SumRule:
    """total == sum(terms); a skipped optional term counts as zero."""
    __pydantic_config__: ClassVar[dict[str, Any]] = STRICT


    key: str
    total: str
    terms: Annotated[tuple[str, ...], MinLen(1)]
    group_label: str
    check: RuleCheck = RuleCheck.SUM_EQUALS


@dataclass(frozen=True)
class FormDefinition:
    __pydantic_config__: ClassVar[dict[str, Any]] = STRICT

    key: str
    kind: TableKind
    name: str  # 部门整体支出绩效目标表
    title: str  # template with {year}
    header: str  # template with {department}
    sections: Annotated[tuple[Section, ...], MinLen(1)]
    indicators: IndicatorLayout  # the layout's, not in the table's file
    layout: str  # the layout's key, not in the table's file
    rules: tuple[SumRule, ...] = ()
    # The field whose value names one instance (支出方向（子项） for C); None for A.
    instance_field: str | None = None
    # The field whose value groups C tables into special funds in table B (所属专项).
    group_field: str | None = None
    amount_field: str | None = None  # 项目金额 of C, 资金总额 of A (bounds 产出成本)
    directions_total_field: str | None = None  # A's 项目支出 = sum of the C amounts

    def fields(self) -> Iterator[FieldDef]:
        for section in self.sections:
            yield from section.fields

    def field(self, key: str) -> FieldDef:
        for candidate in self.fields():
            if candidate.key == key:
                return candidate
        raise KeyError(key)

    def section_of(self, key: str) -> Section:
        for section in self.sections:
            if any(f.key == key for f in section.fields):
                return section
        raise KeyError(key)


@dataclass(frozen=True)
class Layout:
    """A year's set of tables: one A definition, one C definition and their hierarchy."""
    __pydantic_config__: ClassVar[dict[str, Any]] = STRICT


    key: str
    name: str
    table_a: FormDefinition
    table_c: FormDefinition
    summary: SummaryLayout

    def table(self, kind: TableKind) -> FormDefinition:
        if kind is TableKind.A:
            return self.table_a
        if kind is TableKind.C:
            return self.table_c
        raise KeyError(kind)


@dataclass(frozen=True)
class SummaryLayout:
    """Table B's labels (computed from C, never asked)."""
    __pydantic_config__: ClassVar[dict[str, Any]] = STRICT


    name: str
    title: str
    header: str
    columns: tuple[str, ...] = field(default=())
    total_label: str = "合  计"
    goal_fields: tuple[str, ...] = ()
