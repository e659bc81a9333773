"""Typed answer values shared by the parsers, the engine, storage and exports.

Amounts are `Decimal` in 万元 from the edge to the workbook; nothing here is float.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True, order=True)
class YearMonth:
    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year}.{self.month}"


@dataclass(frozen=True)
class Period:
    """A 项目实施期 such as 2021.1-2021.12; start <= end is guaranteed by the parser."""

    start: YearMonth
    end: YearMonth

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"


# A stored scalar answer; None means "visited and skipped" (optional steps only).
Answer = str | Decimal | Period | None


class Nature(StrEnum):
    """指标性质 of an indicator value."""

    QUANTITATIVE = "定量"
    QUALITATIVE = "定性"
    NOT_APPLICABLE = "不适用"


class Comparator(StrEnum):
    """计算符号, in the full-width forms the national systems print."""

    GE = "≥"
    GT = "＞"
    EQ = "＝"
    LT = "＜"
    LE = "≤"


class Grade(StrEnum):
    """The qualitative scale 优 / 良 / 中 / 差."""

    EXCELLENT = "优"
    GOOD = "良"
    FAIR = "中"
    POOR = "差"


@dataclass(frozen=True)
class Reading:
    """The structured reading of one indicator row (三级指标 + 指标值 together).

    `sure` is False when the parser guessed (for example the target was found in the 三级指标
    while the 指标值 is a completion rate); the engine then asks the user to confirm and stores
    `confirmed=True` once they accept.
    """

    nature: Nature
    comparator: Comparator | None = None
    number: Decimal | None = None
    unit: str | None = None
    grade: Grade | None = None
    sure: bool = True
    confirmed: bool = False

    @property
    def measurable(self) -> bool:
        return self.nature is Nature.QUANTITATIVE and self.number is not None and bool(self.unit)

    def describe(self) -> str:
        """Chinese one-liner used in 理解为：… prompts and the review."""
        if self.nature is Nature.NOT_APPLICABLE:
            return "不适用"
        if self.nature is Nature.QUALITATIVE:
            return f"定性（{self.grade.value}）" if self.grade else "定性"
        number = format_decimal(self.number) if self.number is not None else "?"
        symbol = self.comparator.value if self.comparator else ""
        unit = self.unit or ""
        return f"{symbol} {number} {unit}".strip()


NOT_APPLICABLE_READING = Reading(nature=Nature.NOT_APPLICABLE, confirmed=True)


def format_decimal(value: Decimal) -> str:
    """Every entered decimal, no trailing zeros, never exponent notation."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
