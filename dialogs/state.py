"""What is stored for one form: typed answers, group rows, indicator rows and the cursor."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from dialogs.values import NOT_APPLICABLE_READING, Answer, Nature, Reading


class FormStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"

    @property
    def label(self) -> str:
        return {"draft": "草稿", "submitted": "已提交", "returned": "已退回", "approved": "已审核"}[
            self.value
        ]

    @property
    def editable(self) -> bool:
        return self in (FormStatus.DRAFT, FormStatus.RETURNED)


@dataclass(frozen=True)
class GroupRow:
    """One row of a repeating group such as 年度重点工作计划 (column key -> text)."""

    cells: tuple[tuple[str, str], ...] = ()

    def get(self, key: str) -> str | None:
        for name, value in self.cells:
            if name == key:
                return value
        return None

    def with_cell(self, key: str, value: str) -> GroupRow:
        kept = tuple((k, v) for k, v in self.cells if k != key)
        return GroupRow(cells=(*kept, (key, value)))


@dataclass(frozen=True)
class IndicatorRow:
    """One 三级指标 row under a 二级指标 (`level2` is the definition's key)."""

    level2: str
    name: str = ""
    value: str = ""
    reading: Reading | None = None
    remark: str | None = None
    explanation: str | None = None
    scoring: str | None = None
    weight: Decimal | None = None
    # Which asked columns the user has passed (answered or skipped), in order of asking.
    visited: tuple[str, ...] = ()

    @property
    def not_applicable(self) -> bool:
        return self.reading is not None and self.reading.nature is Nature.NOT_APPLICABLE

    @classmethod
    def not_applicable_row(cls, level2: str) -> IndicatorRow:
        return cls(level2=level2, name="/", value="/", reading=NOT_APPLICABLE_READING)

    def text(self, column: str) -> str | None:
        value = getattr(self, column)
        if value is None:
            return None
        return str(value)


@dataclass(frozen=True)
class FormState:
    """The answers of one form. The engine returns new states; storage persists them."""

    values: dict[str, Answer] = field(default_factory=dict)
    groups: dict[str, tuple[GroupRow, ...]] = field(default_factory=dict)
    indicators: tuple[IndicatorRow, ...] = ()
    cursor: str = ""
    status: FormStatus = FormStatus.DRAFT
    # Warnings the user has seen and confirmed at submit time (codes joined with the step).
    version: int = 0

    def evolve(self, **changes: object) -> FormState:
        return replace(self, **changes)  # type: ignore[arg-type]

    def rows_of(self, level2: str) -> tuple[IndicatorRow, ...]:
        return tuple(row for row in self.indicators if row.level2 == level2)
