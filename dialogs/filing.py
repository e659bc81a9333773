"""A department's filing for one round, and table B computed from its C tables.

Table B is never typed in: every row restates a C table, and the 专项 and 合计 amounts are sums,
so B always agrees with C (the seed's B/C disagreements cannot happen).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from dialogs.definition import Layout
from dialogs.state import FormState, FormStatus

CHINESE_DIGITS = "零一二三四五六七八九"
# How a C table is named while its 支出方向（子项） is not answered yet (lists, progress, reviews).
UNNAMED_DIRECTION = "（未命名支出方向）"


def chinese_ordinal(number: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 21 -> 二十一 (enough for 专项 numbering up to 99)."""
    if not 0 < number < 100:
        return str(number)
    tens, ones = divmod(number, 10)
    text = ""
    if tens:
        text = ("" if tens == 1 else CHINESE_DIGITS[tens]) + "十"
    if ones:
        text += CHINESE_DIGITS[ones]
    return text


@dataclass(frozen=True)
class FiledForm:
    """One stored form as the pure layers see it (no ORM object crosses into dialogs/)."""

    form_id: int
    state: FormState
    status: FormStatus = FormStatus.DRAFT
    updated_by: str = ""
    updated_at: str = ""
    version: int = 0  # the stored form's version: renderings are cached by it


@dataclass(frozen=True)
class DepartmentFiling:
    department: str
    year: int
    layout: Layout
    table_a: FiledForm | None
    directions: tuple[FiledForm, ...] = field(default=())


@dataclass(frozen=True)
class DirectionLine:
    number: int
    name: str
    amount: Decimal
    period_goal: str
    annual_goal: str
    form_id: int


@dataclass(frozen=True)
class SpecialFund:
    number: int
    name: str
    directions: tuple[DirectionLine, ...]

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.directions), Decimal(0))

    @property
    def label(self) -> str:
        return chinese_ordinal(self.number)


@dataclass(frozen=True)
class SummaryTable:
    funds: tuple[SpecialFund, ...]

    @property
    def total(self) -> Decimal:
        return sum((fund.amount for fund in self.funds), Decimal(0))

    @property
    def direction_count(self) -> int:
        return sum(len(fund.directions) for fund in self.funds)


def _text(state: FormState, key: str | None) -> str:
    if key is None:
        return ""
    value = state.values.get(key)
    return "" if value is None else str(value)


def _amount(state: FormState, key: str | None) -> Decimal:
    value = state.values.get(key) if key else None
    return value if isinstance(value, Decimal) else Decimal(0)


def compute_summary(layout: Layout, directions: Sequence[FiledForm]) -> SummaryTable:
    """Group the C tables by 所属专项 in order of first appearance; number 一、二… and 1、2…."""
    definition = layout.table_c
    period_key, annual_key = layout.summary.goal_fields
    grouped: dict[str, list[FiledForm]] = {}
    for form in directions:
        grouped.setdefault(_text(form.state, definition.group_field), []).append(form)
    funds = []
    for fund_number, (fund_name, forms) in enumerate(grouped.items(), start=1):
        lines = tuple(
            DirectionLine(
                number=line_number,
                name=_text(form.state, definition.instance_field),
                amount=_amount(form.state, definition.amount_field),
                period_goal=_text(form.state, period_key),
                annual_goal=_text(form.state, annual_key),
                form_id=form.form_id,
            )
            for line_number, form in enumerate(forms, start=1)
        )
        funds.append(SpecialFund(number=fund_number, name=fund_name, directions=lines))
    return SummaryTable(funds=tuple(funds))


def directions_total(layout: Layout, directions: Sequence[FiledForm]) -> Decimal:
    key = layout.table_c.amount_field
    return sum((_amount(form.state, key) for form in directions), Decimal(0))
