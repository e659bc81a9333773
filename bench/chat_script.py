"""What a simulated staff member types and presses to fill table A, from /fill to review.

The answers are made here from the layout's definitions (labels, kinds, rules, 二级指标
roles), not taken from the seed department or from tests/: every asked field gets a value of
its kind, amounts add up as the form's `sum_equals` rules require, each group gets two rows and
each 二级指标 one measurable row. The script is replayed through the engine once, offline, to
learn the order of the steps and to check that every answer is accepted; each engine action
then becomes what a person does in chat for it (type a text, or press a button by its label).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from dialogs.actions import Action, ActionKind, FilingContext
from dialogs.definition import FieldDef, FieldKind, FormDefinition, Level2Role
from dialogs.engine import Engine
from dialogs.loader import get_layout
from dialogs.state import FormState
from dialogs.steps import CONFIRM, Step, StepKind, parse_address

TABLE_A_BUTTON = "部门整体支出绩效目标表"
GROUP_ROWS = 2
TOTAL = Decimal("156.8")  # the department's 资金总额 (万元); its parts are derived from it
PART = Decimal("24.5")  # each further part of a sum, the first part takes the rest


class ScriptError(RuntimeError):
    pass


@dataclass(frozen=True)
class Input:
    """One thing a person does: type `text`, or press the first button whose label equals
    (exact) or contains one of `labels`."""

    text: str = ""
    labels: tuple[str, ...] = ()
    exact: bool = False

    @property
    def is_text(self) -> bool:
        return not self.labels


def _amounts(definition: FormDefinition) -> dict[str, str | None]:
    """An amount for every asked amount field (None: skipped, counts as 0), such that each
    `sum_equals` rule holds: the total is TOTAL, the first answered part the rest."""
    planned: dict[str, str | None] = {}
    for rule in definition.rules:
        planned.setdefault(rule.total, str(TOTAL))
        parts = [t for t in rule.terms if definition.field(t).required] or list(rule.terms[:1])
        first_share = TOTAL - PART * (len(parts) - 1)
        for term in rule.terms:
            if term not in parts:
                planned.setdefault(term, None)
            else:
                planned.setdefault(term, str(first_share if term == parts[0] else PART))
    return planned


def _text(label: str, max_length: int, suffix: str = "") -> str:
    text = f"{label.removeprefix('其中：')}（基准填报{suffix}）"
    return text[:max_length] if max_length else text


_VALUES = {
    Level2Role.QUANTITY: "≥12次",
    Level2Role.QUALITY: "≥96%",
    Level2Role.COST: "≤18万元",
    Level2Role.ECONOMIC: "≥30万元",
    Level2Role.SOCIAL: "≥85%",
    Level2Role.ECOLOGICAL: "≥15个",
    Level2Role.SUSTAINABLE: "≥2项",
    Level2Role.SATISFACTION: "≥92%",
}


def _indicator_value(role: Level2Role, year: int) -> str:
    if role is Level2Role.TIMELINESS:
        return f"{year}年11月底前完成"
    return _VALUES.get(role, "≥3次")


class Answerer:
    """Answers whatever step table A is at, as a person reading the prompt would."""

    def __init__(self, definition: FormDefinition, year: int) -> None:
        self.definition = definition
        self.year = year
        self.amounts = _amounts(definition)

    def action(self, step: Step, state: FormState) -> Action | None:
        match step.kind:
            case StepKind.REVIEW:
                return None
            case StepKind.FIELD:
                return self._field(self.definition.field(step.key))
            case StepKind.GROUP_CELL:
                field = self.definition.field(step.key)
                column = next(c for c in field.columns if c.key == step.column)
                text = _text(column.label, column.max_length, str(step.row + 1))
                return Action(ActionKind.ANSWER, text=text)
            case StepKind.GROUP_MORE:
                more = len(state.groups.get(step.key, ())) < GROUP_ROWS
                return Action(ActionKind.ADD_ROW if more else ActionKind.NEXT)
            case StepKind.INDICATOR_MORE:
                more = not state.rows_of(step.key)
                return Action(ActionKind.ADD_ROW if more else ActionKind.NEXT)
        level2 = self.definition.indicators.level2(step.key)
        if step.column == "name":
            return Action(ActionKind.ANSWER, text=f"{level2.label}考核指标")
        if step.column == "value":
            return Action(ActionKind.ANSWER, text=_indicator_value(level2.role, self.year))
        if step.column == CONFIRM:
            return Action(ActionKind.CONFIRM)
        if step.column == "weight":
            count = sum(1 for _ in self.definition.indicators.level2s())
            share = 100 // count
            first = step.key == next(self.definition.indicators.level2s())[1].key
            return Action(
                ActionKind.ANSWER, text=str(100 - share * (count - 1) if first else share)
            )
        return Action(ActionKind.SKIP)  # optional columns (备注)

    def _field(self, field: FieldDef) -> Action:
        match field.kind:
            case FieldKind.AMOUNT:
                amount = self.amounts.get(field.key, str(PART))
                if amount is None:
                    return Action(ActionKind.SKIP)
                return Action(ActionKind.ANSWER, text=amount)
            case FieldKind.PERIOD:
                return Action(ActionKind.ANSWER, text=f"{self.year}年1月-{self.year}年12月")
            case FieldKind.CHOICE:
                return Action(ActionKind.ANSWER, text=field.choices[0])
        return Action(ActionKind.ANSWER, text=_text(field.label, field.max_length))


def _chat_input(action: Action) -> Input:
    match action.kind:
        case ActionKind.ANSWER:
            return Input(text=action.text)
        case ActionKind.SKIP:
            return Input(labels=("跳过",), exact=True)
        case ActionKind.ADD_ROW:
            return Input(labels=("再加一条",))
        case ActionKind.NEXT:
            return Input(labels=("下一项", "下一部分"))
        case ActionKind.NOT_APPLICABLE:
            return Input(labels=("本项不适用",))
        case ActionKind.CONFIRM:
            return Input(labels=("✅ 对",))
    raise ScriptError(f"no chat gesture for {action.kind}")


def table_a_script(layout_key: str, year: int, department: str = "部门") -> list[Input]:
    """/fill, the table A button, then one input per step until the review step."""
    engine = Engine(get_layout(layout_key).table_a)
    answerer = Answerer(engine.definition, year)
    context = FilingContext(year=year, department_name=department)
    state = engine.resume(FormState())
    inputs = [Input(text="/fill"), Input(labels=(TABLE_A_BUTTON,))]
    for _ in range(1000):
        step = parse_address(state.cursor)
        if step is None:
            raise ScriptError(f"the engine's cursor {state.cursor!r} is not a step")
        action = answerer.action(step, state)
        if action is None:
            return inputs
        outcome = engine.handle(state, action, context)
        if not outcome.accepted:
            codes = [str(p.code) for p in outcome.problems]
            raise ScriptError(f"{state.cursor}: {action} refused ({codes})")
        inputs.append(_chat_input(action))
        state = outcome.state
    raise ScriptError("the script did not reach the review step")
