"""Two colleagues on one form through the service, on SQLite and PostgreSQL: whoever answers a
form a colleague changed since they last saw it is refused at once with STALE_VERSION (the
value kept is shown), and nothing of theirs is written."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.service import FilingService
from dialogs.actions import Action, ActionKind
from dialogs.catalogue import Code
from storage.db import Database, NestedTransactionError
from storage.records import Role
from storage.repos import DepartmentRepository, RoundRepository, UserRepository

# Far below SQLite's busy timeout (15 s): the refusal must not wait for any lock.
QUICK = 3.0


def _colleagues(database: Database, layout: str) -> tuple[int, int, int, int]:
    with database.transaction() as session:
        department = DepartmentRepository(session).create("市档案馆")
        deadline = datetime(2024, 5, 20, 10, tzinfo=UTC)
        round_ = RoundRepository(session).create(2024, layout, deadline, "2024年填报")
        people = UserRepository(session)
        first = people.create(7101, "李四", Role.STAFF, department.id)
        second = people.create(7102, "王五", Role.STAFF, department.id)
        return department.id, round_.id, first.id, second.id


@pytest.mark.parametrize("layout", ["2021", "2023"])
def test_answering_after_a_colleague_is_refused_quickly_with_the_kept_value(
    db: Database, layout: str
) -> None:
    department_id, round_id, first, second = _colleagues(db, layout)
    service = FilingService(db)
    form_id = service.open_table_a(department_id, round_id, first).form.id
    service.open_table_a(department_id, round_id, second)  # both saw the empty form
    kept = service.act(form_id, Action(ActionKind.ANSWER, text="512.75"), first)
    assert kept.outcome.accepted

    started = time.monotonic()
    refused = service.act(form_id, Action(ActionKind.ANSWER, text="333"), second)
    elapsed = time.monotonic() - started

    assert elapsed < QUICK, elapsed
    assert not refused.outcome.accepted
    assert [p.code for p in refused.outcome.problems] == [Code.STALE_VERSION]
    assert refused.outcome.problems[0].params["text"] == "512.75"
    assert refused.outcome.problems[0].params["who"] == "同事李四"
    view = service.view(form_id)
    assert view.form.version == kept.view.form.version
    assert view.state.values["total"] == Decimal("512.75")
    # Having seen the form, the colleague goes on normally.
    again = service.act(form_id, Action(ActionKind.ANSWER, text="300"), second)
    assert again.outcome.accepted, again.outcome.problems


def test_two_answers_at_the_same_moment_save_one_and_refuse_the_other(db: Database) -> None:
    """Two threads (two users' updates handled in parallel) answer the same step at once."""
    department_id, round_id, first, second = _colleagues(db, "2021")
    service = FilingService(db)
    form_id = service.open_table_a(department_id, round_id, first).form.id
    service.open_table_a(department_id, round_id, second)
    start = threading.Barrier(2)
    results: dict[int, object] = {}

    def answer(user_id: int, text: str) -> None:
        start.wait()
        results[user_id] = service.act(form_id, Action(ActionKind.ANSWER, text=text), user_id)

    threads = [
        threading.Thread(target=answer, args=(first, "120")),
        threading.Thread(target=answer, args=(second, "130")),
    ]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert time.monotonic() - began < QUICK
    outcomes = {user: result.outcome for user, result in results.items()}  # type: ignore[attr-defined]
    saved = [user for user, outcome in outcomes.items() if outcome.accepted]
    assert len(saved) == 1, outcomes
    loser = first if saved == [second] else second
    assert [p.code for p in outcomes[loser].problems] == [Code.STALE_VERSION]
    view = service.view(form_id)
    assert view.state.values["total"] == Decimal("120" if saved == [first] else "130")


def test_a_transaction_inside_another_on_sqlite_fails_at_once(db: Database) -> None:
    if db.backend != "sqlite":
        pytest.skip("PostgreSQL transactions are independent connections")
    started = time.monotonic()
    with db.transaction(), pytest.raises(NestedTransactionError), db.transaction():
        pass
    assert time.monotonic() - started < QUICK
    with db.transaction():  # the outer one ended: the thread may open a new one
        pass
