"""The quality figure of a table and of a whole department: how many indicators a reviewer can
check (定量 with a unit), how many are qualitative or not applicable, and the advice still open."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal

from dialogs.actions import FilingContext, SiblingDirection
from dialogs.catalogue import Problem
from dialogs.checks.indicators import (
    DirectionIndicators,
    QualityFigure,
    check_department,
    quality_figure,
)
from dialogs.definition import FormDefinition
from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.review import form_problems, indicator_problems
from dialogs.state import FormState


def filing_context(filing: DepartmentFiling, form_id: int) -> FilingContext:
    """The context the engine would see for one form of this filing."""
    definition = filing.layout.table_c
    directions = []
    for form in filing.directions:
        name = form.state.values.get(definition.instance_field or "")
        amount = form.state.values.get(definition.amount_field or "")
        directions.append(
            SiblingDirection(
                form_id=form.form_id,
                name=name if isinstance(name, str) else "",
                amount=amount if isinstance(amount, Decimal) else None,
                indicators=form.state.indicators,
            )
        )
    return FilingContext(
        year=filing.year,
        department_name=filing.department,
        directions=tuple(directions),
        form_id=form_id,
    )


def _indicator_warnings(problems: Iterable[Problem]) -> int:
    return sum(1 for p in problems if not p.is_error and p.code.value.startswith("indicator"))


def table_quality(
    definition: FormDefinition, state: FormState, context: FilingContext
) -> QualityFigure:
    warnings = _indicator_warnings(form_problems(definition, state, context))
    return quality_figure(state.indicators, warnings=warnings)


def department_quality(filing: DepartmentFiling) -> QualityFigure:
    forms: list[tuple[FormDefinition, FiledForm]] = []
    if filing.table_a is not None:
        forms.append((filing.layout.table_a, filing.table_a))
    forms += [(filing.layout.table_c, form) for form in filing.directions]
    total = QualityFigure(total=0, measurable=0, qualitative=0, not_applicable=0, warnings=0)
    context = filing_context(filing, 0)
    # Department-wide advice (identical directions) is counted once per pair, not per table.
    named = [(str(d.name), d.indicators) for d in context.directions]
    shared = _indicator_warnings(
        check_department([DirectionIndicators(name=n, rows=rows) for n, rows in named])
    )
    total = replace(total, warnings=shared)
    for definition, form in forms:
        problems = indicator_problems(definition, form.state, context)
        figure = quality_figure(form.state.indicators, warnings=_indicator_warnings(problems))
        total = QualityFigure(
            total=total.total + figure.total,
            measurable=total.measurable + figure.measurable,
            qualitative=total.qualitative + figure.qualitative,
            not_applicable=total.not_applicable + figure.not_applicable,
            warnings=total.warnings + figure.warnings,
        )
    return total
