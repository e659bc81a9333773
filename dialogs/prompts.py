"""Channel-neutral screens: the text, hint and buttons of the current step."""

from __future__ import annotations

from decimal import Decimal

from dialogs.actions import Action, ActionKind, Button, FilingContext, Progress, Prompt
from dialogs.checks.indicators import is_placeholder
from dialogs.definition import FieldDef, FieldKind, FormDefinition, IndicatorColumn, Section
from dialogs.parsing.indicator import read_indicator
from dialogs.state import FormState
from dialogs.steps import (
    CONFIRM,
    Step,
    StepKind,
    all_steps,
    asked_sections,
    keepable,
    row_address,
    section_complete,
    section_of_step,
    section_steps,
)
from dialogs.values import Answer, Nature, Period, format_decimal

BACK = Button("⬅ 上一步", Action(ActionKind.BACK))
SKIP = Button("跳过", Action(ActionKind.SKIP))
KEEP = Button("✓ 保持不变", Action(ActionKind.KEEP))
REVIEW = Button("📋 预览", Action(ActionKind.REVIEW))
SUBMIT = Button("提交", Action(ActionKind.SUBMIT))


def show_value(value: Answer, field: FieldDef | None = None) -> str:
    if value is None:
        return "（未填）"
    if isinstance(value, Decimal):
        return f"{format_decimal(value)} 万元"
    if isinstance(value, Period):
        return str(value)
    return value


def echo_text(field: FieldDef, value: Answer) -> str:
    label = field.label.removeprefix("其中：")
    if value is None:
        return f"✓ {label}：已跳过"
    shown = show_value(value, field)
    if len(shown) > 60:
        shown = shown[:59] + "…"
    return f"✓ {label}：{shown}"


def _progress(
    definition: FormDefinition, state: FormState, step: Step, section: Section | None
) -> Progress | None:
    sections = asked_sections(definition)
    done = sum(1 for s in sections if section_complete(definition, s, state))
    if section is None:
        return Progress(definition.name, "预览与提交", len(sections), len(sections), 1, 1, done)
    steps = section_steps(definition, section, state)
    index = steps.index(step) + 1 if step in steps else len(steps) + 1
    return Progress(
        table=definition.name,
        section=section.label,
        section_index=sections.index(section) + 1,
        section_count=len(sections),
        step_index=index,
        step_count=max(len(steps), index),
        sections_done=done,
    )


def _nav(definition: FormDefinition, state: FormState, step: Step, optional: bool) -> list[Button]:
    buttons = []
    steps = all_steps(definition, state)
    if keepable(definition, state, step):
        buttons.append(KEEP)
    if not steps or step != steps[0]:
        buttons.append(BACK)
    if optional:
        buttons.append(SKIP)
    buttons.append(REVIEW)
    return buttons


def _row_buttons(step_kind: StepKind, key: str, count: int) -> list[Button]:
    """✏ edit and 🗑 delete for each row of a group or a 二级指标."""
    buttons = []
    for index in range(count):
        target = row_address(step_kind, key, index)
        buttons.append(Button(f"✏ 第{index + 1}条", Action(ActionKind.EDIT_ROW, target=target)))
        buttons.append(Button(f"🗑 第{index + 1}条", Action(ActionKind.DELETE_ROW, target=target)))
    return buttons


NOT_APPLICABLE_LABEL = "本项不适用"


def not_applicable_offered(state: FormState, step: Step) -> bool:
    """Whether a screen offers 本项不适用: the 三级指标 and 指标值 (or its confirmation) of the
    first row of a 二级指标 that has no other row."""
    columns = (IndicatorColumn.NAME.value, IndicatorColumn.VALUE.value, CONFIRM)
    return (
        step.kind is StepKind.INDICATOR_CELL
        and step.row == 0
        and step.column in columns
        and len(state.rows_of(step.key)) <= 1
    )


def means_not_applicable(text: str) -> bool:
    """A typed 指标值 that says "nothing here" (`/`, `无`, `不适用`, `不涉及`, `-` …)."""
    if not text.strip():
        return False
    if is_placeholder(text):
        return True
    return read_indicator("", text).nature is Nature.NOT_APPLICABLE


def _example(text: str, year: int) -> str:
    return text.replace("{year}", str(year))


def build_prompt(
    definition: FormDefinition, state: FormState, step: Step, context: FilingContext
) -> Prompt:
    section = section_of_step(definition, step)
    progress = _progress(definition, state, step, section)
    year = context.year
    match step.kind:
        case StepKind.FIELD:
            return _field_prompt(definition, state, step, progress, year)
        case StepKind.GROUP_CELL | StepKind.GROUP_MORE:
            return _group_prompt(definition, state, step, progress, year)
        case StepKind.INDICATOR_CELL | StepKind.INDICATOR_MORE:
            return _indicator_prompt(definition, state, step, progress, year)
    done, total = progress.sections_done if progress else 0, len(asked_sections(definition))
    text = (
        "全部步骤已填写。请预览全表，确认无误后提交。"
        if done == total
        else (f"已完成 {done}/{total} 部分。可以预览，或继续填写未完成的部分。")
    )
    return Prompt(
        step=step.address,
        progress=progress,
        heading=f"{definition.name} · 预览与提交",
        text=text,
        hint="",
        buttons=(BACK, REVIEW, SUBMIT),
        accepts_text=False,
    )


def _field_prompt(
    definition: FormDefinition, state: FormState, step: Step, progress: Progress | None, year: int
) -> Prompt:
    field = definition.field(step.key)
    unit = "（万元）" if field.kind is FieldKind.AMOUNT else ""
    text = f"请输入「{field.label}」{unit}。"
    hint = f"例：{_example(field.example, year)}" if field.example else ""
    if field.kind is FieldKind.AMOUNT:
        hint += "（可带“万元”，最多 6 位小数）"
    if field.hint:
        hint += f"\n说明：{field.hint}"
    if field.max_length and field.kind in (FieldKind.TEXT, FieldKind.LONG_TEXT):
        hint += f"\n（不超过 {field.max_length} 字）"
    if step.key in state.values:
        text += f"\n当前：{show_value(state.values[step.key], field)}"
    buttons: list[Button] = [
        Button(choice, Action(ActionKind.ANSWER, text=choice)) for choice in field.choices
    ]
    buttons += _nav(definition, state, step, optional=not field.required)
    return Prompt(
        step=step.address,
        progress=progress,
        heading=f"{definition.name} · {progress.section if progress else ''}",
        text=text,
        hint=hint,
        buttons=tuple(buttons),
        accepts_text=field.kind is not FieldKind.CHOICE,
    )


def _group_prompt(
    definition: FormDefinition, state: FormState, step: Step, progress: Progress | None, year: int
) -> Prompt:
    field = definition.field(step.key)
    rows = state.groups.get(step.key, ())
    heading = f"{definition.name} · {field.label}"
    if step.kind is StepKind.GROUP_MORE:
        buttons = []
        if len(rows) < field.max_rows:
            buttons.append(Button("➕ 再加一条", Action(ActionKind.ADD_ROW)))
        if len(rows) >= field.min_rows:
            buttons.append(Button("下一部分 ➡", Action(ActionKind.NEXT)))
        row_buttons = _row_buttons(step.kind, step.key, len(rows))
        listing = "\n".join(
            f"{index + 1}. {row.get(field.columns[0].key) or ''}" for index, row in enumerate(rows)
        )
        return Prompt(
            step=step.address,
            progress=progress,
            heading=heading,
            text=f"「{field.label}」已填 {len(rows)} 条：\n{listing}\n继续添加，还是进入下一部分？",
            hint="也可以直接输入下一条的" + f"「{field.columns[0].label}」。",
            buttons=tuple(buttons + _nav(definition, state, step, optional=False)),
            accepts_text=len(rows) < field.max_rows,
            row_buttons=tuple(row_buttons),
        )
    column = next(c for c in field.columns if c.key == step.column)
    text = f"第 {step.row + 1} 条 · 请输入「{column.label}」。"
    current = rows[step.row].get(column.key) if step.row < len(rows) else None
    if current:
        text += f"\n当前：{current}"
    hint = f"例：{_example(column.example, year)}\n（不超过 {column.max_length} 字）"
    return Prompt(
        step=step.address,
        progress=progress,
        heading=f"{heading}（第 {step.row + 1} 条）",
        text=text,
        hint=hint,
        buttons=tuple(_nav(definition, state, step, optional=not column.required)),
        accepts_text=True,
    )


def _indicator_prompt(
    definition: FormDefinition, state: FormState, step: Step, progress: Progress | None, year: int
) -> Prompt:
    layout = definition.indicators
    level1 = layout.level1_of(step.key)
    level2 = layout.level2(step.key)
    rows = state.rows_of(step.key)
    heading = f"年度绩效指标 · {level1.label} › {level2.label}"
    order = [l2.key for _, l2 in layout.level2s()]
    position = order.index(step.key)
    next_label = layout.level2(order[position + 1]).label if position + 1 < len(order) else "预览"
    if step.kind is StepKind.INDICATOR_MORE:
        buttons = []
        if len(rows) < layout.max_rows_per_level2:
            buttons.append(Button(f"➕ 再加一条 {level2.label}", Action(ActionKind.ADD_ROW)))
        buttons.append(Button(f"下一项：{next_label} ➡", Action(ActionKind.NEXT)))
        row_buttons = _row_buttons(step.kind, step.key, len(rows))
        listing = "\n".join(f"{i + 1}. {row.name} — {row.value}" for i, row in enumerate(rows))
        return Prompt(
            step=step.address,
            progress=progress,
            heading=heading,
            text=f"「{level2.label}」已有 {len(rows)} 条：\n{listing}",
            hint=f"也可以直接输入下一条三级指标。例：{_example(level2.example_name, year)}",
            buttons=tuple(buttons + _nav(definition, state, step, optional=False)),
            accepts_text=len(rows) < layout.max_rows_per_level2,
            row_buttons=tuple(row_buttons),
        )
    row = rows[step.row] if step.row < len(rows) else None
    heading += f"（第 {step.row + 1} 条）"
    if step.column == CONFIRM and row is not None and row.reading is not None:
        return Prompt(
            step=step.address,
            progress=progress,
            heading=heading,
            text=f"指标值“{row.value}”理解为：{row.reading.describe()}，对吗？",
            hint="如不对，点“改一下”，按 符号+数字+单位 重新输入，例：≥10次",
            buttons=(
                Button("✅ 对", Action(ActionKind.CONFIRM)),
                Button("✏ 改一下", Action(ActionKind.CORRECT)),
                BACK,
            ),
            accepts_text=True,
        )
    spec = layout.column(IndicatorColumn(step.column))
    if spec.column is IndicatorColumn.NAME:
        text = f"请输入{spec.label}（{spec.hint}）。"
        example = _example(level2.example_name, year)
    elif spec.column is IndicatorColumn.VALUE:
        text = f"请输入{spec.label}。"
        example = f"{_example(level2.example_value, year)}、100%、{year}年12月底前"
        if row is not None:
            text = f"三级指标：{row.name}\n" + text
    else:
        text = f"请输入{spec.label}（{spec.hint}）。"
        example = _example(spec.example, year)
    current = row.text(step.column) if row is not None and not row.not_applicable else None
    if current:
        text += f"\n当前：{current}"
    if spec.column is IndicatorColumn.WEIGHT:
        text += "\n" + weight_total_line(state, step)
    buttons = []
    if not_applicable_offered(state, step):
        buttons.append(Button(NOT_APPLICABLE_LABEL, Action(ActionKind.NOT_APPLICABLE)))
    buttons += _nav(definition, state, step, optional=not spec.required)
    return Prompt(
        step=step.address,
        progress=progress,
        heading=heading,
        text=text,
        hint=f"例：{example}",
        buttons=tuple(buttons),
        accepts_text=True,
    )


WEIGHT_TARGET = Decimal(100)


def weight_total_line(state: FormState, step: Step) -> str:
    """The weights of the table's other rows and what is left to reach 100 (the row being
    asked is left out, so editing a weight shows what it may be)."""
    others = [
        row.weight
        for level2 in dict.fromkeys(row.level2 for row in state.indicators)
        for index, row in enumerate(state.rows_of(level2))
        if row.weight is not None
        and not row.not_applicable
        and (level2, index) != (step.key, step.row)
    ]
    total = sum(others, Decimal(0))
    target = format_decimal(WEIGHT_TARGET)
    entered = f"其他指标已填权重合计 {format_decimal(total)}"
    if not others:
        return f"这是本表第一个权重，各指标权重合计应为 {target}。"
    if total < WEIGHT_TARGET:
        return f"{entered}，还差 {format_decimal(WEIGHT_TARGET - total)} 达到 {target}。"
    if total == WEIGHT_TARGET:
        return f"{entered}，已达到 {target}：本条填 0，或先调低其他指标的权重。"
    excess = format_decimal(total - WEIGHT_TARGET)
    return f"{entered}，已超出 {target}（多 {excess}）：请调低其他指标的权重。"
