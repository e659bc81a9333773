"""A scripted user: answers whatever step a form is at with the seed's values.

The script looks only at the step address and the stored state, as a person reading the prompt
would, so the same script drives the bare engine, the service and (through button labels) chat.
Where the seed's 指标值 cell is empty, it first sends the empty value (which must be refused with
INDICATOR_EMPTY) and then `EMPTY_VALUE_SUBSTITUTE`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from bot.service import FilingService
from dialogs.actions import Action, ActionKind, Outcome
from dialogs.catalogue import Code
from dialogs.state import FormState
from dialogs.steps import CONFIRM, StepKind, parse_address
from tests.support.seed import EMPTY_VALUE_SUBSTITUTE, SeedIndicator


@dataclass(frozen=True)
class Scripted:
    action: Action
    expect_refusal: Code | None = None


def weights_for(indicators: Sequence[SeedIndicator]) -> list[Decimal]:
    """Whole-number weights over the applicable rows that sum to exactly 100."""
    applicable = [seed for seed in indicators if not seed.not_applicable]
    if not applicable:
        return []
    share = 100 // len(applicable)
    first = 100 - share * (len(applicable) - 1)
    return [Decimal(first)] + [Decimal(share)] * (len(applicable) - 1)


@dataclass
class SeedScript:
    answers: Mapping[str, str | None]
    groups: Mapping[str, Sequence[Mapping[str, str]]] = field(default_factory=dict)
    indicators: Sequence[SeedIndicator] = ()
    refused_empty: set[tuple[str, int]] = field(default_factory=set)

    def _rows(self, level2: str) -> list[SeedIndicator]:
        return [seed for seed in self.indicators if seed.level2 == level2]

    def _weight(self, level2: str, row: int) -> str:
        weights = weights_for(self.indicators)
        applicable = [s for s in self.indicators if not s.not_applicable]
        target = self._rows(level2)[row]
        return str(weights[applicable.index(target)])

    def next_action(self, cursor: str, state: FormState) -> Scripted | None:
        step = parse_address(cursor)
        assert step is not None, cursor
        match step.kind:
            case StepKind.REVIEW:
                return None
            case StepKind.FIELD:
                text = self.answers[step.key]
                if text is None:
                    return Scripted(Action(ActionKind.SKIP))
                return Scripted(Action(ActionKind.ANSWER, text=text))
            case StepKind.GROUP_CELL:
                return Scripted(
                    Action(ActionKind.ANSWER, text=self.groups[step.key][step.row][step.column])
                )
            case StepKind.GROUP_MORE:
                have = len(state.groups.get(step.key, ()))
                more = have < len(self.groups[step.key])
                return Scripted(Action(ActionKind.ADD_ROW if more else ActionKind.NEXT))
            case StepKind.INDICATOR_MORE:
                have = len(state.rows_of(step.key))
                more = have < len(self._rows(step.key))
                return Scripted(Action(ActionKind.ADD_ROW if more else ActionKind.NEXT))
        seed = self._rows(step.key)[step.row]
        if step.column == "name":
            if seed.not_applicable:
                return Scripted(Action(ActionKind.NOT_APPLICABLE))
            return Scripted(Action(ActionKind.ANSWER, text=seed.name))
        if step.column == "value":
            if not seed.value and (step.key, step.row) not in self.refused_empty:
                self.refused_empty.add((step.key, step.row))
                return Scripted(Action(ActionKind.ANSWER, text=""), Code.INDICATOR_EMPTY)
            return Scripted(Action(ActionKind.ANSWER, text=seed.value or EMPTY_VALUE_SUBSTITUTE))
        if step.column == CONFIRM:
            return Scripted(Action(ActionKind.CONFIRM))
        if step.column == "weight":
            return Scripted(Action(ActionKind.ANSWER, text=self._weight(step.key, step.row)))
        if step.column == "remark" and seed.remark:
            return Scripted(Action(ActionKind.ANSWER, text=seed.remark))
        return Scripted(Action(ActionKind.SKIP))


Act = Callable[[Action], tuple[Outcome, FormState]]


def acting_through(service: FilingService, form_id: int, user_id: int) -> Act:
    """`drive`'s act: each action through the service, as the user, committed."""

    def act(action: Action) -> tuple[Outcome, FormState]:
        result = service.act(form_id, action, user_id)
        return result.outcome, result.view.state

    return act


def drive(script: SeedScript, state: FormState, act: Act, limit: int = 500) -> FormState:
    """Answer steps until review; every step must be accepted unless a refusal is expected."""
    for _ in range(limit):
        scripted = script.next_action(state.cursor, state)
        if scripted is None:
            return state
        outcome, state = act(scripted.action)
        if scripted.expect_refusal is not None:
            codes = [p.code for p in outcome.problems]
            assert not outcome.accepted and scripted.expect_refusal in codes, (state.cursor, codes)
            continue
        assert outcome.accepted, (state.cursor, [p.message for p in outcome.problems])
    raise AssertionError(f"no review after {limit} steps; stuck at {state.cursor}")
