"""The step engine: from a definition and the stored answers, the current step, its prompt, and
what one action does. No Telegram, no SQL: a channel turns updates into `Action`s, storage saves
the `Outcome.state` when `Outcome.changed` is set.
"""

from __future__ import annotations

from dataclasses import replace

from dialogs.actions import Action, ActionKind, Button, FilingContext, Outcome, Prompt
from dialogs.answers import (
    answer_indicator_cell,
    last_field_of,
    parse_field,
    parse_group_cell,
    sum_problem,
)
from dialogs.catalogue import Code, Problem
from dialogs.definition import FieldDef, FieldKind, FormDefinition, IndicatorColumn
from dialogs.prompts import (
    build_prompt,
    echo_text,
    means_not_applicable,
    not_applicable_offered,
)
from dialogs.review import form_problems
from dialogs.state import FormState, FormStatus, GroupRow, IndicatorRow
from dialogs.steps import (
    CONFIRM,
    EDIT_SUFFIX,
    REVIEW_STEP,
    Step,
    StepKind,
    all_steps,
    asked_sections,
    done_key,
    is_editing,
    is_visited,
    keepable,
    parse_address,
    parse_row,
    section_complete,
    section_steps,
)
from dialogs.values import Answer


class Engine:
    """Interprets one form definition. Stateless: every call takes the stored state."""

    def __init__(self, definition: FormDefinition) -> None:
        self.definition = definition

    # --- where the user is ------------------------------------------------------------------

    def current_step(self, state: FormState) -> Step:
        step = parse_address(state.cursor) if state.cursor else None
        if step is None or not self._reachable(state, step):
            return self._first_open(state)
        return step

    def resume(self, state: FormState) -> FormState:
        """The state with a valid cursor (a new form starts at its first step)."""
        step = self.current_step(state)
        cursor = step.address + (EDIT_SUFFIX if is_editing(state.cursor) else "")
        return state if cursor == state.cursor else replace(state, cursor=cursor)

    def prompt(self, state: FormState, context: FilingContext) -> Prompt:
        return build_prompt(self.definition, state, self.current_step(state), context)

    def sections_done(self, state: FormState) -> tuple[int, int]:
        sections = asked_sections(self.definition)
        done = sum(1 for s in sections if section_complete(self.definition, s, state))
        return done, len(sections)

    # --- what an action does ----------------------------------------------------------------

    def handle(self, state: FormState, action: Action, context: FilingContext) -> Outcome:
        if not state.status.editable:
            locked = Problem(Code.FORM_LOCKED, {"status": state.status.label})
            return Outcome(state=state, accepted=False, changed=False, problems=(locked,))
        step = self.current_step(state)
        match action.kind:
            case ActionKind.ANSWER:
                return self._answer(state, step, action.text, context)
            case ActionKind.BACK:
                return self._moved(state, self._previous(state, step))
            case ActionKind.SKIP:
                return self._skip(state, step, context)
            case ActionKind.KEEP if keepable(self.definition, state, step):
                return self._advance(state, state, step)
            case ActionKind.JUMP:
                return self._jump(state, action.target)
            case ActionKind.ADD_ROW | ActionKind.NEXT if step.kind in (
                StepKind.GROUP_MORE,
                StepKind.INDICATOR_MORE,
            ):
                return self._more(state, step, action.kind)
            case ActionKind.EDIT_ROW | ActionKind.DELETE_ROW:
                return self._row_action(state, action)
            case ActionKind.NOT_APPLICABLE if not_applicable_offered(state, step):
                return self._not_applicable(state, step)
            case ActionKind.CONFIRM if step.column == CONFIRM:
                return self._confirm(state, step)
            case ActionKind.CORRECT if step.column == CONFIRM:
                target = replace(step, column=IndicatorColumn.VALUE.value)
                return self._moved(state, target)
            case ActionKind.SUBMIT:
                return self._submit(state, action, context)
        return self._refuse(state, Problem(Code.ACTION_NOT_ALLOWED))

    # --- navigation helpers -------------------------------------------------------------------

    def _steps(self, state: FormState) -> list[Step]:
        return all_steps(self.definition, state)

    def _reachable(self, state: FormState, step: Step) -> bool:
        if step == REVIEW_STEP or step in self._steps(state):
            return True
        return self._is_new_row(state, step)

    def _is_new_row(self, state: FormState, step: Step) -> bool:
        """The first cell of the row after the last one (after "再加一条")."""
        if step.kind is StepKind.GROUP_CELL:
            field = self._field(step.key)
            if field is None or field.kind is not FieldKind.GROUP:
                return False
            group_rows = state.groups.get(step.key, ())
            return (
                step.row == len(group_rows) < field.max_rows and step.column == field.columns[0].key
            )
        if step.kind is StepKind.INDICATOR_CELL:
            try:
                self.definition.indicators.level2(step.key)
            except KeyError:
                return False
            rows = state.rows_of(step.key)
            limit = self.definition.indicators.max_rows_per_level2
            return step.row == len(rows) < limit and step.column == IndicatorColumn.NAME.value
        return False

    def _field(self, key: str) -> FieldDef | None:
        try:
            return self.definition.field(key)
        except KeyError:
            return None

    def _first_open(self, state: FormState) -> Step:
        for step in self._steps(state):
            if not is_visited(self.definition, state, step):
                return step
        return REVIEW_STEP

    def _next(self, state: FormState, step: Step, editing: bool) -> Step:
        if editing:
            return self._first_open(state)
        steps = self._steps(state)
        if step in steps:
            index = steps.index(step)
            return steps[index + 1] if index + 1 < len(steps) else REVIEW_STEP
        return self._first_open(state)

    def _previous(self, state: FormState, step: Step) -> Step:
        steps = self._steps(state)
        if step == REVIEW_STEP:
            return steps[-1] if steps else step
        if step in steps:
            index = steps.index(step)
            return steps[index - 1] if index > 0 else step
        more = StepKind.GROUP_MORE if step.kind is StepKind.GROUP_CELL else StepKind.INDICATOR_MORE
        return Step(more, step.key)

    def _moved(self, state: FormState, step: Step, *, editing: bool = False) -> Outcome:
        cursor = step.address + (EDIT_SUFFIX if editing else "")
        changed = cursor != state.cursor
        return Outcome(state=replace(state, cursor=cursor), accepted=True, changed=changed)

    def _advance(
        self,
        before: FormState,
        after: FormState,
        step: Step,
        *,
        echo: str = "",
        problems: tuple[Problem, ...] = (),
        fix: tuple[Button, ...] = (),
    ) -> Outcome:
        target = self._next(after, step, is_editing(before.cursor))
        moved = replace(after, cursor=target.address)
        return Outcome(
            state=moved, accepted=True, changed=True, echo=echo, problems=problems, fix_buttons=fix
        )

    @staticmethod
    def _refuse(state: FormState, *problems: Problem, fix: tuple[Button, ...] = ()) -> Outcome:
        return Outcome(
            state=state, accepted=False, changed=False, problems=problems, fix_buttons=fix
        )

    # --- answers ------------------------------------------------------------------------------

    def _answer(self, state: FormState, step: Step, text: str, context: FilingContext) -> Outcome:
        match step.kind:
            case StepKind.FIELD:
                field = self.definition.field(step.key)
                parsed = parse_field(field, text, context)
                if isinstance(parsed, Problem):
                    return self._refuse(state, parsed)
                return self._store_field(state, step, parsed)
            case StepKind.GROUP_CELL:
                return self._answer_group(state, step, text, context)
            case StepKind.GROUP_MORE | StepKind.INDICATOR_MORE:
                # Typing at "add another?" starts the next row with that text.
                added = self._more(state, step, ActionKind.ADD_ROW)
                if not added.accepted:
                    return added
                moved = added.state
                outcome = self._answer(moved, self.current_step(moved), text, context)
                return outcome if outcome.accepted else replace(outcome, state=state)
            case StepKind.INDICATOR_CELL:
                if step.column == CONFIRM:
                    step = replace(step, column=IndicatorColumn.VALUE.value)
                return self._answer_indicator(state, step, text, context)
        return self._refuse(state, Problem(Code.ACTION_NOT_ALLOWED))

    def _store_field(self, state: FormState, step: Step, value: Answer) -> Outcome:
        values = {**state.values, step.key: value}
        accepted: list[Problem] = []
        fix: list[Button] = []
        for rule in self.definition.rules:
            if step.key not in (rule.total, *rule.terms):
                continue
            # When a total changes, the user is asked to correct the parts, not the total.
            asked = rule.terms[0] if step.key == rule.total else step.key
            problem = sum_problem(self.definition, rule, values, asked)
            if problem is None:
                continue
            buttons = self._rule_buttons(rule.total, rule.terms, exclude=step.key)
            if last_field_of(self.definition, rule) == step.key:
                return self._refuse(state, problem, fix=buttons)
            # An earlier number of a complete rule changed: keep it (the user may be fixing
            # one side first) and point at the numbers to correct; review blocks submit.
            accepted.append(problem)
            fix.extend(buttons)
        after = replace(state, values=values)
        echo = echo_text(self.definition.field(step.key), value)
        return self._advance(
            state, after, step, echo=echo, problems=tuple(accepted), fix=tuple(fix)
        )

    def _rule_buttons(self, total: str, terms: tuple[str, ...], exclude: str) -> tuple[Button, ...]:
        buttons = []
        for key in (total, *terms):
            if key == exclude:
                continue
            label = self.definition.field(key).label.removeprefix("其中：")
            jump = Action(ActionKind.JUMP, target=Step(StepKind.FIELD, key).address)
            buttons.append(Button(f"修改{label}", jump))
        return tuple(buttons[:3])

    def _answer_group(
        self, state: FormState, step: Step, text: str, context: FilingContext
    ) -> Outcome:
        field = self.definition.field(step.key)
        column = next(c for c in field.columns if c.key == step.column)
        parsed = parse_group_cell(column, text, context.year)
        if isinstance(parsed, Problem):
            return self._refuse(state, parsed)
        rows = list(state.groups.get(step.key, ()))
        if step.row == len(rows):
            rows.append(GroupRow())
        rows[step.row] = rows[step.row].with_cell(column.key, parsed)
        after = replace(state, groups={**state.groups, step.key: tuple(rows)})
        return self._advance(state, after, step, echo=f"✓ {column.label}：{_short(parsed)}")

    def _answer_indicator(
        self, state: FormState, step: Step, text: str, context: FilingContext
    ) -> Outcome:
        level2 = self.definition.indicators.level2(step.key)
        rows = list(state.rows_of(step.key))
        if step.column == IndicatorColumn.VALUE.value and means_not_applicable(text):
            return self._offer_not_applicable(state, step, text, context)
        if step.row == len(rows):
            rows.append(IndicatorRow(level2=step.key))
        current = rows[step.row]
        if current.not_applicable:
            current = IndicatorRow(level2=step.key)
        result = answer_indicator_cell(
            self.definition, state, level2, current, step.column, text, context.year
        )
        if result.row is None:
            return self._refuse(state, *result.problems)
        rows[step.row] = result.row
        after = self._replace_rows(state, step.key, rows)
        label = self.definition.indicators.column(IndicatorColumn(step.column)).label
        echo = f"✓ {label}：{_short(text.strip())}"
        if step.column == IndicatorColumn.VALUE.value and result.row.reading is not None:
            echo += f"（{result.row.reading.describe()}）"
        return self._advance(state, after, step, echo=echo, problems=result.problems)

    def _offer_not_applicable(
        self, state: FormState, step: Step, text: str, context: FilingContext
    ) -> Outcome:
        """`/`, `无`, `不适用` … typed as a 指标值: refused, with the way out on this screen (the
        whole 二级指标 不适用, or deleting this row when the 二级指标 has others); what the user
        typed before (the 三级指标) stays."""
        level2 = self.definition.indicators.level2(step.key)
        params = {
            "level2": level2.label,
            "text": _short(text.strip(), 20),
            "example": level2.example_value.replace("{year}", str(context.year)),
        }
        if not_applicable_offered(state, step):  # the screen itself carries the button
            return self._refuse(state, Problem(Code.INDICATOR_VALUE_NOT_APPLICABLE, params))
        # The list of this 二级指标's rows has a delete button per row.
        listing = Step(StepKind.INDICATOR_MORE, step.key).address
        fix = (Button("🗑 去删除本条", Action(ActionKind.JUMP, target=listing)),)
        return self._refuse(state, Problem(Code.INDICATOR_ROW_NOT_APPLICABLE, params), fix=fix)

    def _replace_rows(self, state: FormState, level2: str, rows: list[IndicatorRow]) -> FormState:
        """Rows of one 二级 replaced in place; rows keep the hierarchy's order overall."""
        order = [l2.key for _, l2 in self.definition.indicators.level2s()]
        others = [row for row in state.indicators if row.level2 != level2]
        merged = others + rows
        merged.sort(key=lambda row: order.index(row.level2) if row.level2 in order else len(order))
        return replace(state, indicators=tuple(merged))

    # --- other actions -------------------------------------------------------------------------

    def _skip(self, state: FormState, step: Step, context: FilingContext) -> Outcome:
        if step.kind is StepKind.FIELD:
            field = self.definition.field(step.key)
            if not field.required:
                return self._store_field(state, step, None)
            example = field.example.replace("{year}", str(context.year))
            return self._refuse(
                state, Problem(Code.NOT_SKIPPABLE, {"field": field.label, "example": example})
            )
        if step.kind is StepKind.GROUP_CELL:
            field = self.definition.field(step.key)
            column = next(c for c in field.columns if c.key == step.column)
            if column.required or step.row >= len(state.groups.get(step.key, ())):
                return self._refuse(
                    state,
                    Problem(Code.NOT_SKIPPABLE, {"field": column.label, "example": column.example}),
                )
            group_rows = list(state.groups[step.key])
            group_rows[step.row] = group_rows[step.row].with_cell(column.key, "")
            after = replace(state, groups={**state.groups, step.key: tuple(group_rows)})
            return self._advance(state, after, step)
        if step.kind is StepKind.INDICATOR_CELL and step.column != CONFIRM:
            spec = self.definition.indicators.column(IndicatorColumn(step.column))
            rows = list(state.rows_of(step.key))
            if spec.required or step.row >= len(rows):
                return self._refuse(
                    state,
                    Problem(Code.NOT_SKIPPABLE, {"field": spec.label, "example": spec.example}),
                )
            row = rows[step.row]
            rows[step.row] = replace(row, visited=tuple(dict.fromkeys((*row.visited, step.column))))
            return self._advance(state, self._replace_rows(state, step.key, rows), step)
        return self._refuse(state, Problem(Code.ACTION_NOT_ALLOWED))

    def _jump(self, state: FormState, target: str) -> Outcome:
        for section in asked_sections(self.definition):
            if section.key == target:
                steps = section_steps(self.definition, section, state)
                return self._moved(state, steps[0], editing=True)
        step = parse_address(target)
        if step is None or not self._reachable(state, step):
            return self._refuse(state, Problem(Code.ACTION_NOT_ALLOWED))
        return self._moved(state, step, editing=step != REVIEW_STEP)

    def _more(self, state: FormState, step: Step, kind: ActionKind) -> Outcome:
        if step.kind is StepKind.GROUP_MORE:
            field = self.definition.field(step.key)
            count = len(state.groups.get(step.key, ()))
            limit, first, minimum = field.max_rows, field.columns[0].key, field.min_rows
            new_row = Step(StepKind.GROUP_CELL, step.key, count, first)
        else:
            count = len(state.rows_of(step.key))
            limit, minimum = self.definition.indicators.max_rows_per_level2, 0
            new_row = Step(StepKind.INDICATOR_CELL, step.key, count, IndicatorColumn.NAME.value)
        label = self._more_label(step)
        if kind is ActionKind.ADD_ROW:
            if count >= limit:
                problem = Problem(
                    Code.GROUP_TOO_MANY, {"field": label, "limit": str(limit), "count": str(count)}
                )
                return self._refuse(state, problem)
            return self._moved(state, new_row)
        if count < minimum:
            problem = Problem(
                Code.GROUP_TOO_FEW, {"field": label, "limit": str(minimum), "count": str(count)}
            )
            return self._refuse(state, problem)
        after = replace(state, values={**state.values, done_key(step.kind, step.key): "1"})
        return self._advance(state, after, step)

    def _more_label(self, step: Step) -> str:
        if step.kind in (StepKind.GROUP_MORE, StepKind.GROUP_CELL):
            return self.definition.field(step.key).label
        return self.definition.indicators.level2(step.key).label

    def _row_action(self, state: FormState, action: Action) -> Outcome:
        target = parse_row(action.target)
        if target is None:
            return self._refuse(state, Problem(Code.ACTION_NOT_ALLOWED))
        key, row = target.key, target.row
        if target.kind is StepKind.GROUP_CELL:
            field = self._field(key)
            group_rows = state.groups.get(key, ()) if field is not None else ()
            if field is None or row >= len(group_rows):
                return self._refuse(state, Problem(Code.ROW_NOT_FOUND, {"row": str(row + 1)}))
            if action.kind is ActionKind.EDIT_ROW:
                first = field.columns[0].key
                return self._moved(state, Step(StepKind.GROUP_CELL, key, row, first), editing=True)
            kept = group_rows[:row] + group_rows[row + 1 :]
            after = replace(state, groups={**state.groups, key: kept})
            return self._moved(after, Step(StepKind.GROUP_MORE, key))
        try:
            self.definition.indicators.level2(key)
        except KeyError:
            return self._refuse(state, Problem(Code.ROW_NOT_FOUND, {"row": str(row + 1)}))
        rows_of = list(state.rows_of(key))
        if row >= len(rows_of):
            return self._refuse(state, Problem(Code.ROW_NOT_FOUND, {"row": str(row + 1)}))
        if action.kind is ActionKind.EDIT_ROW:
            return self._moved(state, Step(StepKind.INDICATOR_CELL, key, row, "name"), editing=True)
        del rows_of[row]
        after = self._replace_rows(state, key, rows_of)
        if not rows_of:
            values = {
                k: v for k, v in after.values.items() if k != done_key(StepKind.INDICATOR_MORE, key)
            }
            after = replace(after, values=values)
            return self._moved(after, Step(StepKind.INDICATOR_CELL, key, 0, "name"))
        return self._moved(after, Step(StepKind.INDICATOR_MORE, key))

    def _not_applicable(self, state: FormState, step: Step) -> Outcome:
        rows = [IndicatorRow.not_applicable_row(step.key)]
        after = self._replace_rows(state, step.key, rows)
        after = replace(
            after, values={**after.values, done_key(StepKind.INDICATOR_MORE, step.key): "1"}
        )
        label = self.definition.indicators.level2(step.key).label
        return self._advance(state, after, step, echo=f"✓ {label}：本项不适用（导出为 /）")

    def _confirm(self, state: FormState, step: Step) -> Outcome:
        rows = list(state.rows_of(step.key))
        row = rows[step.row]
        if row.reading is None:
            return self._refuse(state, Problem(Code.ACTION_NOT_ALLOWED))
        rows[step.row] = replace(row, reading=replace(row.reading, confirmed=True))
        after = self._replace_rows(state, step.key, rows)
        return self._advance(state, after, step, echo=f"✓ 已确认：{row.reading.describe()}")

    def _submit(self, state: FormState, action: Action, context: FilingContext) -> Outcome:
        problems = form_problems(self.definition, state, context)
        errors = tuple(p for p in problems if p.is_error)
        if errors:
            blocked = Problem(Code.SUBMIT_BLOCKED, {"count": str(len(errors))})
            return self._refuse(state, blocked, *errors)
        warnings = tuple(problems)
        if warnings and action.target != "confirmed":
            return Outcome(
                state=state,
                accepted=False,
                changed=False,
                problems=warnings,
                needs_confirmation=True,
            )
        after = replace(state, status=FormStatus.SUBMITTED, cursor=REVIEW_STEP.address)
        return Outcome(state=after, accepted=True, changed=True, echo="✓ 已提交，等待审核。")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
