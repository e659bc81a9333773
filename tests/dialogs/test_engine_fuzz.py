"""A hypothesis state machine drives the engine with random answers, backs, skips, jumps, row
edits, restarts and submits. Invariants: no unhandled exception; a refused action changes
nothing; every stored value is one the validators accept; a submitted form breaks no rule."""

from __future__ import annotations

import os
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from dialogs.actions import Action, ActionKind, FilingContext
from dialogs.definition import FieldKind, FormDefinition, TableKind
from dialogs.engine import Engine
from dialogs.loader import load_layouts
from dialogs.parsing.text import clean_text
from dialogs.review import form_problems
from dialogs.state import FormState, FormStatus
from dialogs.steps import asked_sections
from dialogs.values import Nature, Period

CONTEXT = FilingContext(year=2021, department_name="测试部门")
EXAMPLES = int(os.environ.get("JIXIAO_FUZZ_EXAMPLES", "60"))

plausible = st.sampled_from(
    [
        "267.59151",
        "177.59151万元",
        "90",
        "0",
        "6",
        "２６７．５９１５",
        "2,675,915元",
        "-1",
        "1.1234567",
        "2021.1-2021.12",
        "2021年1月-2021年12月",
        "2021.13-2021.1",
        "2022.5-2021.1",
        "开展宣讲次数",
        "≥10次",
        "100%",
        "95%",
        "10次以上",
        "6万元以下",
        "高质量完成",
        "全年",
        "2021年12月底前完成",
        "良好",
        "/",
        "无",
        "12",
        "≥95%",
        "不少于12次",
        "≤6万元",
        "100000万元",
        "50",
        "宣传部",
        "理论学习",
        "业务性专项经费",
        "",
        "   ",
        "=1+1",
        "宣传😀",
        "a\x00b",
        "x" * 600,
        "'; DROP TABLE forms; --",
    ]
)
any_text = st.one_of(plausible, st.text(max_size=40))


class EngineMachine(RuleBasedStateMachine):
    definition: FormDefinition
    engine: Engine
    state: FormState

    @initialize(
        layout=st.sampled_from(sorted(load_layouts())),
        kind=st.sampled_from([TableKind.A, TableKind.C]),
    )
    def start(self, layout: str, kind: TableKind) -> None:
        self.definition = load_layouts()[layout].table(kind)
        self.engine = Engine(self.definition)
        self.state = self.engine.resume(FormState())

    def _apply(self, action: Action) -> None:
        before = self.state
        outcome = self.engine.handle(before, action, CONTEXT)
        if not outcome.accepted:
            assert outcome.state == before
            assert not outcome.changed
        else:
            assert all(p.message for p in outcome.problems)
        self.state = outcome.state

    @rule(text=any_text)
    def answer(self, text: str) -> None:
        self._apply(Action(ActionKind.ANSWER, text=text))

    @rule()
    def back(self) -> None:
        self._apply(Action(ActionKind.BACK))

    @rule()
    def skip(self) -> None:
        self._apply(Action(ActionKind.SKIP))

    @rule(
        kind=st.sampled_from(
            [
                ActionKind.ADD_ROW,
                ActionKind.NEXT,
                ActionKind.NOT_APPLICABLE,
                ActionKind.CONFIRM,
                ActionKind.CORRECT,
            ]
        )
    )
    def press(self, kind: ActionKind) -> None:
        self._apply(Action(kind))

    @rule(data=st.data())
    def jump(self, data: st.DataObject) -> None:
        sections = [s.key for s in asked_sections(self.definition)]
        target = data.draw(
            st.one_of(
                st.sampled_from(sections),
                st.text(max_size=12),
                st.just("review"),
                st.just("g:key_tasks:99:item"),
            )
        )
        self._apply(Action(ActionKind.JUMP, target=target))

    @rule(
        kind=st.sampled_from([ActionKind.EDIT_ROW, ActionKind.DELETE_ROW]),
        prefix=st.sampled_from(["g:key_tasks", "i:quantity", "i:social", "x:y"]),
        row=st.integers(min_value=0, max_value=3),
    )
    def row_action(self, kind: ActionKind, prefix: str, row: int) -> None:
        self._apply(Action(kind, target=f"{prefix}:{row}"))

    @rule(confirmed=st.booleans())
    def submit(self, confirmed: bool) -> None:
        self._apply(Action(ActionKind.SUBMIT, target="confirmed" if confirmed else ""))

    @rule()
    def restart(self) -> None:
        # A new process: a new engine from the same (re-loaded) definition and stored state.
        self.engine = Engine(self.definition)
        self.state = self.engine.resume(self.state)

    @precondition(lambda self: hasattr(self, "state"))
    @invariant()
    def stored_values_are_valid(self) -> None:
        for key, value in self.state.values.items():
            if key.startswith("_"):
                continue
            field = self.definition.field(key)
            if value is None:
                assert not field.required
            elif field.kind is FieldKind.AMOUNT:
                assert isinstance(value, Decimal) and value >= 0
                assert -value.as_tuple().exponent <= 6  # type: ignore[operator]
            elif field.kind is FieldKind.PERIOD:
                assert isinstance(value, Period) and value.start <= value.end
            else:
                assert isinstance(value, str) and clean_text(value, field.max_length) == value
        for row in self.state.indicators:
            if row.reading is not None and row.reading.nature is Nature.NOT_APPLICABLE:
                continue
            if "name" in row.visited:
                assert row.name.strip() and len(row.name) <= 200
            if "value" in row.visited:
                assert row.value.strip() and row.reading is not None

    @precondition(lambda self: hasattr(self, "state"))
    @invariant()
    def submitted_forms_break_no_rule(self) -> None:
        if self.state.status is FormStatus.SUBMITTED:
            errors = [p for p in form_problems(self.definition, self.state, CONTEXT) if p.is_error]
            assert not errors


EngineMachine.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestEngineMachine = EngineMachine.TestCase
