"""The statement budget of a typed answer (issue 13), on SQLite and PostgreSQL.

Counted with SQLAlchemy's `before_cursor_execute` event: every statement the driver runs,
BEGIN included (SQLite's BEGIN goes through a cursor; psycopg begins implicitly). A count is
deterministic, so a regression fails here rather than in a benchmark."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from bot.roles import Actor
from bot.service import AnswerRefused, FilingService
from dialogs.actions import Action, ActionKind
from storage.db import Database
from storage.records import Role
from storage.repos import DepartmentRepository, RoundRepository, UserRepository

# A typed answer in its one transaction: BEGIN (SQLite; psycopg begins without a statement),
# the joined chat session/form/round/department query, the form's versioned UPDATE, the answer
# row, the audit row, the chat session's seen version. The form's rows come from the process's
# cache while the form is still at the version this process last read or wrote.
BUDGET = 6
# The first answer after a start (or after a colleague's change) reads the form's three row
# tables; answering a direction's name reads the sibling names and checks it is still free.
COLD_READS = 3
NAMING_READS = 2
TRANSACTIONS = 1


@contextmanager
def counted(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", note)


def _staff(database: Database, layout: str) -> tuple[Actor, int, int]:
    with database.transaction() as session:
        department = DepartmentRepository(session).create("县水务局")
        deadline = datetime(2025, 4, 30, 12, tzinfo=UTC)
        round_ = RoundRepository(session).create(2025, layout, deadline, "2025年填报")
        user = UserRepository(session).create(8801, "赵六", Role.STAFF, department.id)
    return Actor(user), department.id, round_.id


def _transactions(statements: list[str], backend: str) -> int:
    if backend == "sqlite":
        return sum(1 for s in statements if s.startswith("BEGIN"))
    return 1 if statements else 0  # psycopg: one implicit BEGIN per transaction, one commit


@pytest.mark.parametrize("layout", ["2021", "2023"])
def test_a_typed_answer_to_table_a_stays_within_the_statement_budget(
    db: Database, layout: str
) -> None:
    actor, department_id, round_id = _staff(db, layout)
    service = FilingService(db)
    service.open_table_a(department_id, round_id, actor.user.id)
    with counted(db) as cold:
        first = service.answer(actor, "1234.5")
    assert not isinstance(first, AnswerRefused) and first.outcome.accepted
    assert len(cold) <= BUDGET + COLD_READS, "\n".join(cold)
    with counted(db) as statements:
        result = service.answer(actor, "1000")
    assert not isinstance(result, AnswerRefused)
    assert result.outcome.accepted, result.outcome.problems
    assert result.view.state.values["general_budget"] == Decimal("1000")
    assert _transactions(statements, db.backend) == TRANSACTIONS, statements
    assert len(statements) <= BUDGET, "\n".join(statements)


@pytest.mark.parametrize("layout", ["2021", "2023"])
def test_a_typed_answer_naming_a_direction_stays_within_the_statement_budget(
    db: Database, layout: str
) -> None:
    actor, department_id, round_id = _staff(db, layout)
    service = FilingService(db)
    service.new_direction(department_id, round_id, actor.user.id)
    first = service.answer(actor, "农村饮水安全巩固")
    assert not isinstance(first, AnswerRefused) and first.outcome.accepted
    service.new_direction(department_id, round_id, actor.user.id)
    with counted(db) as statements:
        result = service.answer(actor, "农村饮水安全巩固")  # taken: the sibling query says so
    assert not isinstance(result, AnswerRefused)
    assert not result.outcome.accepted
    with counted(db) as statements:
        result = service.answer(actor, "河道堤防维修养护")
    assert not isinstance(result, AnswerRefused) and result.outcome.accepted
    assert _transactions(statements, db.backend) == TRANSACTIONS, statements
    assert len(statements) <= BUDGET + NAMING_READS, "\n".join(statements)
    with counted(db) as statements:
        result = service.answer(actor, "业务性专项经费")
    assert not isinstance(result, AnswerRefused) and result.outcome.accepted
    assert _transactions(statements, db.backend) == TRANSACTIONS, statements
    assert len(statements) <= BUDGET, "\n".join(statements)


def test_the_service_refuses_an_answer_to_a_form_of_another_department(db: Database) -> None:
    actor, department_id, round_id = _staff(db, "2023")
    service = FilingService(db)
    form = service.open_table_a(department_id, round_id, actor.user.id).form
    with db.transaction() as session:
        other = DepartmentRepository(session).create("县林业局")
        moved = UserRepository(session).set_department(actor.user.id, other.id)
    # The actor now belongs to another department; their chat session still points here.
    assert service.answer(Actor(moved), "88") is AnswerRefused.NO_CURRENT_FORM
    assert service.view(form.id).form.version == form.version
    supervisor = Actor(moved.__class__(**{**moved.__dict__, "role": Role.SUPERVISOR}))
    assert service.answer(supervisor, "88") is AnswerRefused.NOT_STAFF
    jump = Action(ActionKind.JUMP, target="f:total")
    assert service.act_as(Actor(moved), form.id, jump) is AnswerRefused.NO_CURRENT_FORM
    assert service.act_as(Actor(moved), form.id + 999, jump) is AnswerRefused.NO_CURRENT_FORM
    assert service.act_as(supervisor, form.id, jump) is AnswerRefused.NOT_STAFF
    assert service.view(form.id).form.version == form.version


# --- through the real Application (gate, inbox, handler, reply) ---------------------------------


class Transactions:
    """The statements grouped by transaction (the engine's `begin` event starts a group), noted
    only while `recording`. The listeners are added before the Application runs: adding one to
    the engine while a worker thread is running the event's listeners mutates the deque they
    are read from."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.groups: list[list[str]] = []
        self.recording = False

    def _begin(self, _conn: Any) -> None:
        if self.recording:
            self.groups.append([])

    def _note(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.recording and not statement.startswith("BEGIN"):
            if not self.groups:
                self.groups.append([])
            self.groups[-1].append(statement)

    @contextmanager
    def listening(self) -> Iterator[Transactions]:
        event.listen(self.database.engine, "begin", self._begin)
        event.listen(self.database.engine, "before_cursor_execute", self._note)
        try:
            yield self
        finally:
            event.remove(self.database.engine, "before_cursor_execute", self._note)
            event.remove(self.database.engine, "begin", self._begin)


def test_a_typed_answer_through_the_application_writes_in_one_transaction(db: Database) -> None:
    """The gate's lookup is a read-only transaction, the inbox stores the update before it is
    acknowledged, and the answer commits with the inbox's done-mark in one transaction of at
    most BUDGET statements plus that mark."""
    from telegram import Update

    from bench.inprocess import InProcessBotApi, bench_settings, running
    from bot.startup import build_application

    actor, department_id, round_id = _staff(db, "2023")
    FilingService(db).open_table_a(department_id, round_id, actor.user.id)
    api = InProcessBotApi()
    app = build_application(
        bench_settings(db, api),
        db,
        reminders=False,
        renderer=None,
        request=api.request(),
        get_updates_request=api.request(),
    )
    replies: asyncio.Queue[str] = asyncio.Queue()
    api.subscribe(
        lambda call, _answer: (
            replies.put_nowait(str(call.params.get("text", "")))
            if call.method.lower() == "sendmessage"
            else None
        )
    )

    async def answer(text: str) -> str:
        await app.update_queue.put(
            Update.de_json(api.text_update(actor.user.telegram_id, text), app.bot)
        )
        return await asyncio.wait_for(replies.get(), 10)

    async def scenario() -> list[list[str]]:
        with Transactions(db).listening() as noted:
            async with running(app):
                await answer("1234.5")  # warms the process's caches
                await asyncio.sleep(0.05)  # its replied mark commits after the reply
                noted.recording = True
                reply = await answer("1000")
                await asyncio.sleep(0.05)  # the done-mark's commit ends before the reply
                noted.recording = False
        assert "1000" in reply or "一般公共预算" in reply or "✓" in reply, reply
        return noted.groups

    groups = asyncio.run(scenario())
    writing = [g for g in groups if any(not s.lstrip().startswith("SELECT") for s in g)]
    answer_tx = [g for g in writing if any("UPDATE forms" in s for s in g)]
    assert len(answer_tx) == 1, groups
    done_mark = [s for s in answer_tx[0] if "inbox" in s]
    assert len(answer_tx[0]) - len(done_mark) <= BUDGET, "\n".join(answer_tx[0])
    reads = [g for g in groups if g not in writing]
    assert all(len(g) <= 2 for g in reads), reads  # the gate: the user (and a supervisor's scope)
