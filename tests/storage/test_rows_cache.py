"""The per-database cache of forms' stored rows (storage/rows_cache.py): only what committed is
served, and another process's write (a second Database on the same database) is never hidden."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dialogs.definition import TableKind
from dialogs.state import FormState
from storage.db import Database
from storage.repos import FormRepository
from tests.support.db import seed_context


class Refused(RuntimeError):
    pass


def _form(db: Database) -> int:
    with db.transaction() as session:
        context = seed_context(session)
        form = FormRepository(session).get_or_create(
            context.department.id, context.round.id, TableKind.A
        )
    return form.id


def _state(total: str) -> FormState:
    return FormState(values={"total": Decimal(total)}, cursor="f:general_budget")


def _save(db: Database, form_id: int, total: str, expected: int) -> int:
    with db.transaction() as session:
        return FormRepository(session).save(
            form_id, _state(total), expected_version=expected, actor_user_id=None, action="fill"
        )


def _total(db: Database, form_id: int) -> tuple[int, object]:
    with db.transaction() as session:
        form = FormRepository(session).load(form_id)
    return form.version, form.state.values.get("total")


def test_a_rolled_back_save_is_never_served_for_the_version_another_process_commits(
    db: Database,
) -> None:
    other = Database(db.url)  # another process on the same database
    try:
        form_id = _form(db)
        with pytest.raises(Refused), db.transaction() as session:
            FormRepository(session).save(
                form_id, _state("1"), expected_version=0, actor_user_id=None, action="fill"
            )
            raise Refused  # rolled back: version 1 with total 1 never existed
        assert _save(other, form_id, "2", expected=0) == 1
        assert _total(db, form_id) == (1, Decimal("2"))
    finally:
        other.dispose()


def test_a_form_changed_by_another_process_is_read_again(db: Database) -> None:
    other = Database(db.url)
    try:
        form_id = _form(db)
        assert _save(db, form_id, "1", expected=0) == 1
        assert _total(db, form_id) == (1, Decimal("1"))  # served from the cache
        assert _save(other, form_id, "3", expected=1) == 2
        assert _total(db, form_id) == (2, Decimal("3"))
    finally:
        other.dispose()
