"""Forms: exact round trip, optimistic locking, the diff and its audit rows, unique keys."""

from __future__ import annotations

import json
import threading
import time as clock
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from dialogs.definition import TableKind
from dialogs.state import FormState, FormStatus, GroupRow, IndicatorRow
from dialogs.values import Answer
from storage.db import Database
from storage.models import AnswerRow, AuditRow, FormRow, GroupRowRow, IndicatorRowRow
from storage.records import AlreadyExistsError, NotFoundError, StaleVersionError, StoredForm
from storage.repos import AuditRepository, FormRepository
from tests.support.db import Context, exact, sample_state, seed_context

NAME_KEY = "direction"


def _setup(db: Database, kind: TableKind = TableKind.A) -> tuple[Context, StoredForm]:
    with db.transaction() as session:
        context = seed_context(session)
        form = FormRepository(session).get_or_create(
            context.department.id,
            context.round.id,
            kind,
            "宣传经费" if kind is TableKind.C else None,
        )
    return context, form


def _save(db: Database, form_id: int, state: FormState, expected: int, actor: int | None) -> int:
    with db.transaction() as session:
        return FormRepository(session).save(
            form_id, state, expected_version=expected, actor_user_id=actor, action="fill"
        )


def _counts(db: Database, form_id: int) -> tuple[int, ...]:
    with db.transaction() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model).where(model.form_id == form_id))
            or 0
            for model in (AnswerRow, GroupRowRow, IndicatorRowRow, AuditRow)
        )


def test_a_new_form_is_an_empty_draft(db: Database) -> None:
    _context, form = _setup(db)
    assert form.kind is TableKind.A
    assert form.instance_name is None
    assert form.status is FormStatus.DRAFT
    assert form.version == 0
    assert form.state == FormState()
    assert form.updated_by is None


def test_state_round_trips_exactly(db: Database) -> None:
    context, form = _setup(db)
    state = sample_state()
    assert _save(db, form.id, state, 0, context.user.id) == 1
    with db.transaction() as session:
        loaded = FormRepository(session).load(form.id)
    expected = replace(state, version=1)
    assert loaded.state == expected
    assert exact(loaded.state) == exact(expected)
    assert str(loaded.state.values["total"]) == "267.5915"
    assert str(loaded.state.values["basic"]) == "177.59151"
    assert str(loaded.state.values["fund_income"]) == "0.000000"
    assert loaded.state.values["other_income"] is None
    assert "other_income" in loaded.state.values
    assert loaded.state.groups["contacts"] == ()
    assert loaded.version == 1
    assert loaded.updated_by == context.user.id


def test_save_writes_only_the_diff_with_one_audit_row_per_change(db: Database) -> None:
    context, form = _setup(db)
    state = sample_state()
    _save(db, form.id, state, 0, context.user.id)
    with db.transaction() as session:
        first_audit = AuditRepository(session).list_for_form(form.id)
    # 8 answers + 2 plan rows + the empty contacts group + 5 indicator rows
    assert len(first_audit) == 8 + 2 + 1 + 5
    assert {entry.action for entry in first_audit} == {"fill"}
    assert all(entry.actor_user_id == context.user.id for entry in first_audit)
    by_key = {entry.field_key: entry for entry in first_audit}
    assert (by_key["total"].old_value, by_key["total"].new_value) == (None, "267.5915")
    assert by_key["other_income"].new_value == "<skipped>"
    assert by_key["period"].new_value == "2021.1-2021.12"

    rows = list(state.indicators)
    rows[1] = replace(rows[1], value="优", remark="改")
    changed = replace(
        state,
        values={**state.values, "total": Decimal("267.59151"), "other_income": Decimal("0")},
        groups={**state.groups, "plan": (*state.groups["plan"], GroupRow((("item", "新"),)))},
        indicators=tuple(rows),
        cursor="review",
    )
    assert _save(db, form.id, changed, 1, context.user.id) == 2
    with db.transaction() as session:
        audit = AuditRepository(session).list_for_form(form.id)[len(first_audit) :]
        loaded = FormRepository(session).load(form.id)
    assert exact(loaded.state) == exact(replace(changed, version=2))
    assert [entry.field_key for entry in audit] == [
        "total",
        "other_income",
        "plan[2]",
        "indicators[1]",
    ]
    assert (audit[0].old_value, audit[0].new_value) == ("267.5915", "267.59151")
    assert (audit[1].old_value, audit[1].new_value) == ("<skipped>", "0")
    assert audit[2].old_value is None
    assert json.loads(audit[2].new_value or "") == [["item", "新"]]
    assert json.loads(audit[3].old_value or "")["value"] == "良好"
    assert json.loads(audit[3].new_value or "")["value"] == "优"

    # Removing things deletes their rows; saving the same state again writes no audit.
    smaller = replace(changed, values={"total": Decimal("1")}, groups={}, indicators=())
    _save(db, form.id, smaller, 2, None)
    _save(db, form.id, smaller, 3, None)
    answers, groups, indicators, audit_rows = _counts(db, form.id)
    assert (answers, groups, indicators) == (1, 0, 0)
    # total changed + 7 answers, 3 plan rows + the contacts marker, 5 indicator rows removed
    assert audit_rows == len(first_audit) + 4 + (1 + 7 + 4 + 5)
    with db.transaction() as session:
        loaded = FormRepository(session).load(form.id)
    assert loaded.state == replace(smaller, version=4)


def test_decimal_precision_change_is_a_change(db: Database) -> None:
    _context, form = _setup(db)
    _save(db, form.id, FormState(values={"x": Decimal("1.0")}), 0, None)
    _save(db, form.id, FormState(values={"x": Decimal("1.00")}), 1, None)
    with db.transaction() as session:
        audit = AuditRepository(session).list_for_form(form.id)
        value = FormRepository(session).load(form.id).state.values["x"]
    assert [(e.old_value, e.new_value) for e in audit] == [(None, "1.0"), ("1.0", "1.00")]
    assert str(value) == "1.00"


def test_stale_save_raises_and_changes_nothing(db: Database) -> None:
    context, form = _setup(db)
    _save(db, form.id, sample_state(), 0, context.user.id)
    before = _counts(db, form.id)
    with db.transaction() as session:
        snapshot = FormRepository(session).load(form.id)
    with pytest.raises(StaleVersionError) as raised:
        _save(db, form.id, FormState(values={"total": Decimal("1")}), 0, context.user.id)
    assert raised.value.current == snapshot
    assert raised.value.expected_version == 0
    assert _counts(db, form.id) == before
    with db.transaction() as session:
        assert FormRepository(session).load(form.id) == snapshot


def test_concurrent_saves_one_wins_one_is_stale(db: Database) -> None:
    """Two sessions save from version 0; the second waits for the first and then fails."""
    _context, form = _setup(db)
    outcome: dict[str, object] = {}

    def other() -> None:
        try:
            _save(db, form.id, FormState(values={"who": "second"}), 0, None)
        except StaleVersionError as error:
            outcome["second"] = error

    with db.transaction() as session:
        forms = FormRepository(session)
        forms.save(
            form.id,
            FormState(values={"who": "first"}),
            expected_version=0,
            actor_user_id=None,
            action="fill",
        )
        thread = threading.Thread(target=other)
        thread.start()
        clock.sleep(0.3)
    thread.join(timeout=20)
    error = outcome["second"]
    assert isinstance(error, StaleVersionError)
    assert error.current.state.values == {"who": "first"}
    with db.transaction() as session:
        assert FormRepository(session).load(form.id).version == 1


def test_status_changes_bump_the_version_and_are_audited(db: Database) -> None:
    context, form = _setup(db)
    with db.transaction() as session:
        forms = FormRepository(session)
        version = forms.set_status(
            form.id, FormStatus.SUBMITTED, expected_version=0, actor_user_id=context.user.id
        )
        version = forms.set_status(
            form.id,
            FormStatus.RETURNED,
            expected_version=version,
            actor_user_id=None,
            comment="产出时效请写明时间",
        )
        with pytest.raises(StaleVersionError):
            forms.set_status(form.id, FormStatus.APPROVED, expected_version=0, actor_user_id=None)
        loaded = forms.load(form.id)
        audit = AuditRepository(session).list_for_form(form.id)
    assert (loaded.status, loaded.version, loaded.review_comment) == (
        FormStatus.RETURNED,
        2,
        "产出时效请写明时间",
    )
    assert loaded.state.status is FormStatus.RETURNED
    assert [(e.field_key, e.old_value, e.new_value) for e in audit] == [
        ("status", "draft", "submitted"),
        ("status", "submitted", "returned"),
        ("review_comment", None, "产出时效请写明时间"),
    ]
    # A state whose status differs from the stored one stores it too.
    resubmitted = replace(loaded.state, status=FormStatus.SUBMITTED)
    _save(db, form.id, resubmitted, 2, None)
    with db.transaction() as session:
        assert FormRepository(session).load(form.id).status is FormStatus.SUBMITTED


def test_form_key_is_unique(db: Database) -> None:
    context, form = _setup(db)
    department, filing_round = context.department.id, context.round.id
    with db.transaction() as session:
        forms = FormRepository(session)
        assert forms.get_or_create(department, filing_round, TableKind.A).id == form.id
        with pytest.raises(AlreadyExistsError):
            forms.create(department, filing_round, TableKind.A)
        direction = forms.get_or_create(department, filing_round, TableKind.C, "理论学习")
        assert direction.instance_name == "理论学习"
        assert forms.get_or_create(department, filing_round, TableKind.C, "理论学习") == direction
        with pytest.raises(AlreadyExistsError):
            forms.create(department, filing_round, TableKind.C, "理论学习")
        # Unnamed C drafts do not collide with each other.
        unnamed = [forms.create(department, filing_round, TableKind.C) for _ in range(2)]
        assert [f.instance_name for f in unnamed] == [None, None]
        with pytest.raises(ValueError):
            forms.get_or_create(department, filing_round, TableKind.C)
        with pytest.raises(ValueError):
            forms.create(department, filing_round, TableKind.B)
        kinds = [
            (f.kind, f.instance_name) for f in forms.list_for_department(department, filing_round)
        ]
        assert kinds == [
            (TableKind.A, None),
            (TableKind.C, "理论学习"),
            (TableKind.C, None),
            (TableKind.C, None),
        ]
        assert len(forms.list_for_round(filing_round)) == 4
    # The database itself refuses a duplicate key, whatever the repository does.
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(
            FormRow(
                department_id=department,
                round_id=filing_round,
                kind="A",
                instance_name="",
                status=FormStatus.DRAFT,
            )
        )


def test_the_direction_name_follows_its_answer(db: Database) -> None:
    context, first = _setup(db, TableKind.C)
    with db.transaction() as session:
        forms = FormRepository(session)
        second = forms.create(context.department.id, context.round.id, TableKind.C)

        def save(form: StoredForm, name: str | None, expected: int) -> int:
            values: dict[str, Answer] = {} if name is None else {NAME_KEY: name}
            return forms.save(
                form.id,
                FormState(values=values),
                expected_version=expected,
                actor_user_id=None,
                action="fill",
                instance_key=NAME_KEY,
            )

        save(second, "融媒体运营经费", 0)
        assert forms.load(second.id).instance_name == "融媒体运营经费"
        with pytest.raises(AlreadyExistsError):
            save(second, "宣传经费", 1)
        assert forms.load(second.id).version == 1  # nothing written
        save(first, "宣传经费（调整）", 0)
        save(second, "宣传经费", 1)
        assert forms.load(second.id).instance_name == "宣传经费"
        save(second, None, 2)
        assert forms.load(second.id).instance_name is None
        found = forms.find(context.department.id, context.round.id, TableKind.C, "宣传经费（调整）")
        assert found is not None and found.id == first.id


def test_delete_keeps_a_snapshot_in_the_audit_log(db: Database) -> None:
    context, form = _setup(db, TableKind.C)
    _save(db, form.id, sample_state(), 0, context.user.id)
    with db.transaction() as session:
        forms = FormRepository(session)
        with pytest.raises(StaleVersionError):
            forms.delete(form.id, expected_version=0, actor_user_id=context.user.id)
        forms.delete(form.id, expected_version=1, actor_user_id=context.user.id)
        assert forms.get(form.id) is None
        with pytest.raises(NotFoundError):
            forms.load(form.id)
        audit = AuditRepository(session).list_for_form(form.id)
    assert _counts(db, form.id)[:3] == (0, 0, 0)
    last = audit[-1]
    assert (last.action, last.field_key, last.new_value) == ("delete", "宣传经费", None)
    snapshot = json.loads(last.old_value or "")
    assert snapshot["answers"]["total"] == ["decimal", "267.5915"]
    assert len(snapshot["indicators"]) == 5


def test_unknown_form(db: Database) -> None:
    with db.transaction() as session:
        forms = FormRepository(session)
        with pytest.raises(NotFoundError):
            forms.save(12345, FormState(), expected_version=0, actor_user_id=None, action="x")
        assert forms.get(12345) is None


def test_unstorable_text_is_refused_before_writing(db: Database) -> None:
    _context, form = _setup(db)
    with pytest.raises(ValueError, match="NUL"):
        _save(db, form.id, FormState(values={"k": "a\x00b"}), 0, None)
    bad_row = IndicatorRow(level2="quantity", name="x\x00")
    with pytest.raises(ValueError, match="NUL"):
        _save(db, form.id, FormState(indicators=(bad_row,)), 0, None)
    with db.transaction() as session:
        assert FormRepository(session).load(form.id).version == 0
