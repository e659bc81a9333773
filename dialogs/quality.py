"""The quality figure of a table and of a whole department: how many indicators a reviewer can
check (定量 with a unit), how many are qualitative or not applicable, and the advice still open."""

from __future__ import annotations

from decimal import Decimal

from dialogs.actions import FilingContext, SiblingDirection
from dialogs.checks.indicators import QualityFigure, quality_figure
from dialogs.definition import FormDefinition
from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.review import form_problems
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


def table_quality(
    definition: FormDefinition, state: FormState, context: FilingContext
) -> QualityFigure:
    warnings = sum(
        1
        for problem in form_problems(definition, state, context)
        if not problem.is_error and problem.code.value.startswith("indicator")
    )
    return quality_figure(state.indicators, warnings=warnings)


def department_quality(filing: DepartmentFiling) -> QualityFigure:
    forms: list[tuple[FormDefinition, FiledForm]] = []
    if filing.table_a is not None:
        forms.append((filing.layout.table_a, filing.table_a))
    forms += [(filing.layout.table_c, form) for form in filing.directions]
    total = QualityFigure(total=0, measurable=0, qualitative=0, not_applicable=0, warnings=0)
    for definition, form in forms:
        figure = table_quality(definition, form.state, filing_context(filing, form.form_id))
        total = QualityFigure(
            total=total.total + figure.total,
            measurable=total.measurable + figure.measurable,
            qualitative=total.qualitative + figure.qualitative,
            not_applicable=total.not_applicable + figure.not_applicable,
            warnings=total.warnings + figure.warnings,
        )
    return total
