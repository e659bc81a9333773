"""Synthetic filings for the benchmarks, generated from a layout's definitions (not the seed):
every asked field gets a plausible value of its kind, every 二级指标 one measurable row."""

from __future__ import annotations

from decimal import Decimal

from dialogs.definition import FieldKind, FormDefinition, Layout
from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.parsing.indicator import read_indicator
from dialogs.state import FormState, GroupRow, IndicatorRow
from dialogs.steps import StepKind, done_key
from dialogs.values import Period, YearMonth


def _state(definition: FormDefinition, year: int, label: str, amount: Decimal) -> FormState:
    values: dict[str, object] = {}
    groups: dict[str, tuple[GroupRow, ...]] = {}
    for field in definition.fields():
        if not field.asked:
            continue
        match field.kind:
            case FieldKind.AMOUNT:
                values[field.key] = amount
            case FieldKind.PERIOD:
                values[field.key] = Period(YearMonth(year, 1), YearMonth(year, 12))
            case FieldKind.GROUP:
                groups[field.key] = tuple(
                    GroupRow(tuple((c.key, f"{c.label}{label}-{n}") for c in field.columns))
                    for n in range(3)
                )
                values[done_key(StepKind.GROUP_MORE, field.key)] = "1"
            case FieldKind.INDICATORS:
                pass
            case _:
                values[field.key] = f"{field.label}{label}"
    rows: list[IndicatorRow] = []
    weighted = any(c.column.value == "weight" for c in definition.indicators.columns)
    level2s = list(definition.indicators.level2s())
    for number, (_, level2) in enumerate(level2s, start=1):
        name, value = f"{level2.label}{label}", f"≥{number}次"
        weight = Decimal(100 - 10 * (len(level2s) - 1)) if number == 1 else Decimal(10)
        rows.append(
            IndicatorRow(
                level2=level2.key,
                name=name,
                value=value,
                reading=read_indicator(name, value),
                weight=weight if weighted else None,
                visited=("name", "value"),
            )
        )
        values[done_key(StepKind.INDICATOR_MORE, level2.key)] = "1"
    return FormState(values=values, groups=groups, indicators=tuple(rows), cursor="review")  # type: ignore[arg-type]


def department(layout: Layout, year: int, index: int, directions: int) -> DepartmentFiling:
    name = f"部门{index:04d}"
    c_forms = []
    for number in range(directions):
        state = _state(layout.table_c, year, f"{index}-{number}", Decimal("12.345678"))
        fund = layout.table_c.group_field
        if fund:
            state.values[fund] = f"专项{number % 2 + 1}"
        c_forms.append(FiledForm(form_id=index * 100 + number + 1, state=state))
    table_a = FiledForm(
        form_id=index * 100, state=_state(layout.table_a, year, str(index), Decimal(0))
    )
    return DepartmentFiling(name, year, layout, table_a, tuple(c_forms))


def round_filings(
    layout: Layout, year: int, departments: int, directions: int
) -> list[DepartmentFiling]:
    return [department(layout, year, index, directions) for index in range(departments)]
