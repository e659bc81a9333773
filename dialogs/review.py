"""Whole-form checks (review and submit) and the review text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from dialogs.actions import FilingContext
from dialogs.answers import example_text, sum_problem
from dialogs.catalogue import Code, Problem
from dialogs.checks.indicators import (
    DirectionIndicators,
    QualityFigure,
    check_cell,
    check_department,
    check_row,
    check_table,
    quality_figure,
)
from dialogs.definition import FieldKind, FormDefinition, IndicatorColumn, TableKind
from dialogs.state import FormState
from dialogs.steps import Step, StepKind, asked_sections
from dialogs.values import format_decimal


def _cell(group: str, row: int, column: str) -> str:
    return Step(StepKind.GROUP_CELL, group, row, column).address


@dataclass(frozen=True)
class Review:
    """A form's whole-form checks and its text: `lines` under the heading `title`, for any
    channel to lay out (a chat channel cuts them into messages of its size)."""

    title: str
    lines: tuple[str, ...]
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    quality: QualityFigure

    @property
    def can_submit(self) -> bool:
        return not self.errors


def _missing_fields(definition: FormDefinition, state: FormState, year: int) -> Iterable[Problem]:
    for field in definition.fields():
        if not field.asked or not field.required:
            continue
        if field.kind is FieldKind.GROUP:
            count = len(state.groups.get(field.key, ()))
            if count < max(field.min_rows, 1):
                yield Problem(
                    Code.GROUP_TOO_FEW,
                    {
                        "field": field.label,
                        "limit": str(max(field.min_rows, 1)),
                        "count": str(count),
                    },
                    fix_step=_cell(field.key, count, field.columns[0].key),
                )
            for index, row in enumerate(state.groups.get(field.key, ())):
                for column in field.columns:
                    if column.required and not row.get(column.key):
                        yield Problem(
                            Code.REQUIRED,
                            {
                                "field": f"{field.label}第{index + 1}条的{column.label}",
                                "example": example_text(column.example, year),
                            },
                            fix_step=_cell(field.key, index, column.key),
                        )
        elif field.kind is not FieldKind.INDICATORS and state.values.get(field.key) is None:
            yield Problem(
                Code.REQUIRED,
                {"field": field.label, "example": example_text(field.example, year)},
                fix_step=Step(StepKind.FIELD, field.key).address,
            )


def indicator_problems(
    definition: FormDefinition, state: FormState, context: FilingContext
) -> Iterable[Problem]:
    layout = definition.indicators
    key = definition.amount_field
    amount = state.values.get(key) if key else None
    bound = amount if isinstance(amount, Decimal) else None
    scope = definition.field(key).label if key else ""
    for level1, level2 in layout.level2s():
        for row in state.rows_of(level2.key):
            if row.not_applicable:
                continue
            cell_errors = [
                p
                for column in (IndicatorColumn.NAME.value, IndicatorColumn.VALUE.value)
                for p in check_cell(level2, column, getattr(row, column))
            ]
            if cell_errors:
                yield from cell_errors
                continue
            yield from check_row(
                level1, level2, row, year=context.year, amount_bound=bound, amount_scope=scope
            )
    yield from check_table(layout, state.indicators, weighted=layout.has(IndicatorColumn.WEIGHT))


def _cross_problems(
    definition: FormDefinition, state: FormState, context: FilingContext
) -> Iterable[Problem]:
    if definition.kind is TableKind.A:
        key = definition.directions_total_field
        project = state.values.get(key) if key else None
        if key and isinstance(project, Decimal) and context.directions:
            total = sum((d.amount or Decimal(0) for d in context.directions), Decimal(0))
            if total != project:
                yield Problem(
                    Code.PROJECT_EXPENSE_MISMATCH,
                    {
                        "project_expense": format_decimal(project),
                        "directions_sum": format_decimal(total),
                        "count": str(len(context.directions)),
                        "difference": format_decimal(abs(total - project)),
                    },
                    fix_step=Step(StepKind.FIELD, key).address,
                )
        return
    name_key = definition.instance_field
    name = str(state.values.get(name_key) or "") if name_key else ""
    others = [d for d in context.directions if d.form_id != context.form_id]
    if name_key and name and any(d.name == name for d in others):
        yield Problem(
            Code.DIRECTION_DUPLICATE,
            {"text": name, "example": ""},
            fix_step=Step(StepKind.FIELD, name_key).address,
        )
    mine = DirectionIndicators(name=name, rows=tuple(state.indicators))
    theirs = [DirectionIndicators(name=d.name, rows=d.indicators) for d in others]
    for problem in check_department([mine, *theirs]):
        if problem.params.get("text") == name or problem.params.get("other") == name:
            yield problem


def form_problems(
    definition: FormDefinition, state: FormState, context: FilingContext
) -> list[Problem]:
    """Every error and warning of the whole form, errors first, each once."""
    found: list[Problem] = list(_missing_fields(definition, state, context.year))
    for rule in definition.rules:
        problem = sum_problem(definition, rule, state.values, rule.total)
        if problem is not None:
            found.append(problem)
    found += indicator_problems(definition, state, context)
    found += _cross_problems(definition, state, context)
    unique: dict[tuple[str, tuple[tuple[str, str], ...]], Problem] = {}
    for problem in found:
        unique.setdefault((problem.code.value, tuple(sorted(problem.params.items()))), problem)
    ordered = sorted(unique.values(), key=lambda p: not p.is_error)
    return ordered


def _lines(definition: FormDefinition, state: FormState, context: FilingContext) -> list[str]:
    from dialogs.prompts import show_value

    lines = [
        definition.title.replace("{year}", str(context.year)),
        definition.header.replace("{department}", context.department_name),
        "",
    ]
    for section in asked_sections(definition) or definition.sections:
        lines.append(f"【{section.label}】")
        for field in section.fields:
            if field.calculate == "department_name":
                lines.append(f"{field.label}：{context.department_name}")
            elif field.kind is FieldKind.GROUP:
                for index, row in enumerate(state.groups.get(field.key, ())):
                    cells = "；".join(f"{c.label}：{row.get(c.key) or ''}" for c in field.columns)
                    lines.append(f"{index + 1}. {cells}")
                if not state.groups.get(field.key):
                    lines.append("（未填）")
            elif field.kind is FieldKind.INDICATORS:
                lines.extend(_indicator_lines(definition, state))
            else:
                value = show_value(state.values.get(field.key), field)
                lines.append(f"{field.label.removeprefix('其中：')}：{value}")
        lines.append("")
    return lines


def _indicator_lines(definition: FormDefinition, state: FormState) -> list[str]:
    lines = []
    for level1 in definition.indicators.levels:
        lines.append(f"▸ {level1.label}")
        for level2 in level1.children:
            rows = state.rows_of(level2.key)
            if not rows:
                lines.append(f"  {level2.label}：（未填）")
            for row in rows:
                if row.not_applicable:
                    lines.append(f"  {level2.label}：本项不适用（/）")
                    continue
                reading = f"〔{row.reading.describe()}〕" if row.reading else ""
                extra = f"；权重 {format_decimal(row.weight)}" if row.weight is not None else ""
                remark = f"；备注：{row.remark}" if row.remark else ""
                lines.append(f"  {level2.label}：{row.name} — {row.value} {reading}{extra}{remark}")
    return lines


def quality_line(quality: QualityFigure) -> str:
    return (
        f"指标质量：共 {quality.total} 条，可量化 {quality.measurable} 条，"
        f"定性 {quality.qualitative} 条，不适用 {quality.not_applicable} 条，"
        f"待改进提示 {quality.warnings} 条"
    )


def build_review(definition: FormDefinition, state: FormState, context: FilingContext) -> Review:
    problems = form_problems(definition, state, context)
    errors = tuple(p for p in problems if p.is_error)
    warnings = tuple(p for p in problems if not p.is_error)
    base = quality_figure(state.indicators)
    quality = QualityFigure(
        total=base.total,
        measurable=base.measurable,
        qualitative=base.qualitative,
        not_applicable=base.not_applicable,
        warnings=sum(1 for w in warnings if w.code.value.startswith("indicator")),
    )
    lines = _lines(definition, state, context)
    lines.append(quality_line(quality))
    if errors:
        lines.append(f"✗ {len(errors)} 个问题需要修改：")
        lines.extend(f"{i + 1}. {p.message}" for i, p in enumerate(errors))
    if warnings:
        lines.append(f"⚠ {len(warnings)} 条提示：")
        lines.extend(f"{i + 1}. {p.message}" for i, p in enumerate(warnings))
    if not errors:
        lines.append("✓ 没有错误，可以提交。")
    return Review(
        title=f"📋 {definition.name} · 预览",
        lines=tuple(lines),
        errors=errors,
        warnings=warnings,
        quality=quality,
    )
