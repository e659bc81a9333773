"""The seed department filled through the service on a real database (SQLite and PostgreSQL):
every value is read back through a new engine and a new connection; a restart between any two
steps resumes at the same step."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.service import FilingService
from dialogs.actions import Action, ActionKind, Outcome
from dialogs.catalogue import Code
from dialogs.definition import TableKind
from dialogs.engine import Engine
from dialogs.loader import get_layout
from dialogs.state import FormState, FormStatus
from storage.db import Database
from storage.records import Role
from storage.repos import DepartmentRepository, FormRepository, RoundRepository, UserRepository
from tests.support.scripted import SeedScript, drive
from tests.support.seed import (
    DIRECTIONS,
    KEY_TASKS,
    SEED_DEPARTMENT,
    SEED_YEAR,
    TABLE_A_ANSWERS,
    TABLE_A_INDICATORS,
    direction_state,
    table_a_state,
)

BAD_INPUTS = [
    "",
    "   ",
    "字" * 10_000,
    "宣传😀部",
    "宣传\x00部\x07",
    "'; DROP TABLE forms; --",
    "=cmd|' /C calc'!A0",
    "1.123456789012",
]


def _setup(database: Database) -> tuple[int, int, int]:
    with database.transaction() as session:
        department = DepartmentRepository(session).create(SEED_DEPARTMENT)
        deadline = datetime(SEED_YEAR, 3, 31, 10, tzinfo=UTC)
        round_ = RoundRepository(session).create(SEED_YEAR, "2021", deadline, "2021年填报")
        user = UserRepository(session).create(4242, "填报员", Role.STAFF, department.id)
        return department.id, round_.id, user.id


def _actor(service: FilingService, form_id: int, user_id: int):  # type: ignore[no-untyped-def]
    def act(action: Action) -> tuple[Outcome, FormState]:
        result = service.act(form_id, action, user_id)
        return result.outcome, result.view.state

    return act


def comparable(state: FormState) -> tuple[object, ...]:
    rows = tuple((r.level2, r.name, r.value, r.not_applicable) for r in state.indicators)
    values = {k: v for k, v in state.values.items() if not k.startswith("_")}
    return values, state.groups, rows


def test_seed_filled_through_service_reads_back_on_a_new_connection(db: Database) -> None:
    department_id, round_id, user_id = _setup(db)
    service = FilingService(db)
    view = service.open_table_a(department_id, round_id, user_id)
    script = SeedScript(TABLE_A_ANSWERS, {"key_tasks": KEY_TASKS}, TABLE_A_INDICATORS)
    drive(script, view.state, _actor(service, view.form.id, user_id))
    for direction in DIRECTIONS:
        view = service.new_direction(department_id, round_id, user_id)
        script = SeedScript(dict(direction.answers), {}, direction.indicators)
        drive(script, view.state, _actor(service, view.form.id, user_id))

    fresh = Database(db.url)  # a new engine: nothing cached from the filling
    try:
        with fresh.transaction() as session:
            forms = FormRepository(session).list_for_department(department_id, round_id)
        layout = get_layout("2021")
        table_a = next(f for f in forms if f.kind is TableKind.A)
        assert comparable(table_a.state) == comparable(table_a_state())
        directions = sorted((f for f in forms if f.kind is TableKind.C), key=lambda f: f.id)
        assert [f.instance_name for f in directions] == [d.name for d in DIRECTIONS]
        for form, seed in zip(directions, DIRECTIONS, strict=True):
            assert comparable(form.state) == comparable(direction_state(seed))
            assert Engine(layout.table_c).current_step(form.state).address == "review"
        review = FilingService(fresh).review(table_a.id)
        assert review.can_submit, [p.message for p in review.errors]
        submitted = FilingService(fresh).act(
            table_a.id, Action(ActionKind.SUBMIT, target="confirmed"), user_id
        )
        assert submitted.view.form.status is FormStatus.SUBMITTED
    finally:
        fresh.dispose()


def test_restart_between_steps_resumes_at_the_same_step(db: Database) -> None:
    department_id, round_id, user_id = _setup(db)
    form_id = FilingService(db).open_table_a(department_id, round_id, user_id).form.id
    script = SeedScript(TABLE_A_ANSWERS, {"key_tasks": KEY_TASKS}, TABLE_A_INDICATORS)
    steps = 0
    while True:
        # A new process each step: a new engine on the same database.
        database = Database(db.url)
        service = FilingService(database)
        view = service.view(form_id)
        assert view.prompt.step == view.state.cursor.removesuffix("!edit")
        scripted = script.next_action(view.prompt.step, view.state)
        if scripted is None:
            database.dispose()
            break
        result = service.act(form_id, scripted.action, user_id)
        expected_cursor = result.view.state.cursor
        database.dispose()
        again = FilingService(Database(db.url)).view(form_id)
        assert again.prompt.step == expected_cursor
        steps += 1
    assert steps > 40


# Plain text that is harmless in a text field (stored verbatim, never executed or evaluated).
TEXT_OK = {"'; DROP TABLE forms; --", "1.123456789012"}


@pytest.mark.parametrize("text", BAD_INPUTS, ids=range(len(BAD_INPUTS)))
def test_bad_input_at_every_kind_of_step_changes_nothing(db: Database, text: str) -> None:
    department_id, round_id, user_id = _setup(db)
    service = FilingService(db)
    form_id = service.new_direction(department_id, round_id, user_id).form.id
    valid = {"direction": "理论学习", "amount": "6", "period": "2021.1-2021.12"}
    for key in ("direction", "amount", "period"):  # text, amount and period steps
        before = service.view(form_id)
        assert before.prompt.step == f"f:{key}"
        result = service.act(form_id, Action(ActionKind.ANSWER, text=text), user_id)
        after = service.view(form_id)
        if key == "direction" and text in TEXT_OK:
            assert result.outcome.accepted and after.state.values[key] == text
            service.act(form_id, Action(ActionKind.BACK), user_id)
        else:
            assert not result.outcome.accepted, (key, text)
            assert result.outcome.problems and all(p.message for p in result.outcome.problems)
            assert after.form.version == before.form.version
            assert after.form.state == before.form.state
        service.act(form_id, Action(ActionKind.ANSWER, text=valid[key]), user_id)
        if key == "direction":
            service.act(form_id, Action(ActionKind.ANSWER, text="业务性专项经费"), user_id)


def test_refused_indicator_value_codes(db: Database) -> None:
    department_id, round_id, user_id = _setup(db)
    service = FilingService(db)
    form_id = service.new_direction(department_id, round_id, user_id).form.id
    for text in ("理论学习", "业务性专项经费", "6", "2021.1-2021.12", "目标一", "目标二"):
        assert service.act(form_id, Action(ActionKind.ANSWER, text=text), user_id).outcome.accepted
    service.act(form_id, Action(ActionKind.ANSWER, text="开展宣讲"), user_id)
    refused = service.act(form_id, Action(ActionKind.ANSWER, text="无"), user_id).outcome
    assert [p.code for p in refused.problems] == [Code.INDICATOR_VALUE_NOT_APPLICABLE]
    vague = service.act(form_id, Action(ActionKind.ANSWER, text="高质量完成"), user_id).outcome
    assert vague.accepted and Code.INDICATOR_VAGUE in [p.code for p in vague.problems]
