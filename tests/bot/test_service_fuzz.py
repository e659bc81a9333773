"""The engine's fuzz machine (tests/dialogs/test_engine_fuzz.py) through the service, on SQLite
and PostgreSQL: random answers, backs, skips, jumps, row edits, submits, restarts (a new engine
on the same database) and a colleague answering the same form in between. Invariants: what the
service reports is exactly what is stored (read back on a new connection); a form changes, by
one version, only when the reply says so; an accepted answer is what the bare engine makes of
the stored state; an answer after a colleague's change is refused with STALE_VERSION."""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.pool import NullPool

from bot.service import ActResult, FilingService
from dialogs.actions import Action, ActionKind
from dialogs.catalogue import Code
from dialogs.definition import TableKind
from dialogs.engine import Engine
from dialogs.loader import load_layouts
from storage.db import Database
from storage.records import Role, StoredForm
from storage.repos import DepartmentRepository, FormRepository, RoundRepository, UserRepository
from tests.dialogs.test_engine_fuzz import any_text

EXAMPLES = int(os.environ.get("JIXIAO_FUZZ_EXAMPLES", "10"))
_NUMBERS = itertools.count(1)


def _machine(database: Database, reader: Database) -> type[RuleBasedStateMachine]:
    class ServiceMachine(RuleBasedStateMachine):
        service: FilingService
        form_id: int
        users: tuple[int, int]
        last: ActResult | None
        unseen: set[int]  # users (0, 1) who have not seen the other's last change

        @initialize(
            layout=st.sampled_from(sorted(load_layouts())),
            kind=st.sampled_from([TableKind.A, TableKind.C]),
        )
        def start(self, layout: str, kind: TableKind) -> None:
            number = next(_NUMBERS)
            with database.transaction() as session:
                department = DepartmentRepository(session).create(f"模糊测试部门{number}")
                round_ = RoundRepository(session).create(
                    2030 + number, layout, datetime(2030, 3, 31, tzinfo=UTC), f"轮次{number}"
                )
                people = UserRepository(session)
                first = people.create(900_000 + 2 * number, "甲", Role.STAFF, department.id)
                second = people.create(900_001 + 2 * number, "乙", Role.STAFF, department.id)
            self.service = FilingService(database)
            self.users = (first.id, second.id)
            opened = (
                self.service.open_table_a(department.id, round_.id, first.id)
                if kind is TableKind.A
                else self.service.new_direction(department.id, round_.id, first.id)
            )
            self.form_id = opened.form.id
            self.service.open_form(self.form_id, second.id)
            self.last = None
            self.unseen = set()

        def _stored(self) -> StoredForm:
            with reader.transaction() as session:
                return FormRepository(session).load(self.form_id)

        def _act(self, action: Action, user: int = 0) -> ActResult:
            before = self.service.view(self.form_id)
            colleague_changed = user in self.unseen
            result = self.service.act(self.form_id, action, self.users[user])
            after = self._stored()
            outcome = result.outcome
            assert after.state == result.view.form.state
            assert after.version == before.form.version + (1 if outcome.changed else 0)
            codes = [p.code for p in outcome.problems]
            if colleague_changed and action.kind is not ActionKind.REVIEW:
                assert codes == [Code.STALE_VERSION] and not outcome.changed, codes
            elif outcome.changed:
                engine = Engine(before.definition)
                offline = engine.handle(before.state, action, before.context)
                assert offline.state.values == after.state.values
                assert offline.state.indicators == after.state.indicators
            if not outcome.accepted:
                assert after.version == before.form.version
            self.last = result
            return result

        def _do(self, action: Action, user: int = 0) -> None:
            result = self._act(action, user)
            self.unseen.discard(user)  # the reply showed them the form as it is now
            if result.outcome.changed:
                self.unseen.add(1 - user)

        @rule(text=any_text)
        def answer(self, text: str) -> None:
            self._do(Action(ActionKind.ANSWER, text=text))

        @rule(text=any_text)
        def colleague_answers(self, text: str) -> None:
            self._do(Action(ActionKind.ANSWER, text=text), user=1)

        @rule(
            kind=st.sampled_from(
                [
                    ActionKind.BACK,
                    ActionKind.SKIP,
                    ActionKind.ADD_ROW,
                    ActionKind.NEXT,
                    ActionKind.NOT_APPLICABLE,
                    ActionKind.CONFIRM,
                ]
            )
        )
        def press(self, kind: ActionKind) -> None:
            self._do(Action(kind))

        @rule(where=st.sampled_from(["review", "g:key_tasks:0:item", "i:quantity:0", "x"]))
        def jump(self, where: str) -> None:
            self._do(Action(ActionKind.JUMP, target=where))

        @rule(confirmed=st.booleans())
        def submit(self, confirmed: bool) -> None:
            self._do(Action(ActionKind.SUBMIT, target="confirmed" if confirmed else ""))

        @rule()
        def restart(self) -> None:
            self.service = FilingService(database)

        @precondition(lambda self: getattr(self, "last", None) is not None)
        @invariant()
        def reply_problems_have_messages(self) -> None:
            assert self.last is not None
            assert all(p.message for p in self.last.outcome.problems)

    return ServiceMachine


def test_the_service_stores_exactly_what_it_confirms(shared_db: Database) -> None:
    reader = Database(shared_db.url, poolclass=NullPool)  # every read on a new connection
    try:
        run_state_machine_as_test(
            _machine(shared_db, reader),
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=25,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            ),
        )
    finally:
        reader.dispose()
