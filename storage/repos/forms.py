"""Forms and their answers, with optimistic locking and an audit row per changed field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, delete, select, update
from sqlalchemy.orm import Session

from dialogs.definition import TableKind
from dialogs.state import FormState, FormStatus
from storage import codec
from storage.codec import EncodedState
from storage.models import (
    AnswerRow,
    ChatSessionRow,
    DepartmentRow,
    FormColumns,
    FormRow,
    RoundRow,
)
from storage.records import AlreadyExistsError, NotFoundError, StaleVersionError, StoredForm
from storage.repos._sql import insert_ignoring_conflict, now_or, rowcount, run
from storage.repos.audit import AuditChange, AuditRepository
from storage.repos.form_rows import FormRows
from storage.rows_cache import RowsCache, cache_of, note

STATUS_FIELD = "status"
COMMENT_FIELD = "review_comment"

# The statements of the answer and button paths, built once (storage.repos._sql.run): Core
# rows, read by column name, stand in for FormRow wherever a form's row is only read.
_FORMS = FormRow.__table__
_CHATS = ChatSessionRow.__table__
_ROUNDS = RoundRow.__table__
_DEPARTMENTS = DepartmentRow.__table__
_ORDER = (_FORMS.c.department_id, _FORMS.c.kind, _FORMS.c.id)
_BY_ID = select(_FORMS).where(_FORMS.c.id == bindparam("form_id"))
_OF_DEPARTMENT = (
    select(_FORMS)
    .where(
        _FORMS.c.department_id == bindparam("department_id"),
        _FORMS.c.round_id == bindparam("round_id"),
    )
    .order_by(*_ORDER)
)
_CURRENT = (
    select(
        _FORMS,
        _CHATS.c.seen_version,
        _ROUNDS.c.year,
        _ROUNDS.c.layout,
        _DEPARTMENTS.c.name.label("department_name"),
    )
    .join(_CHATS, _CHATS.c.form_id == _FORMS.c.id)
    .join(_ROUNDS, _ROUNDS.c.id == _FORMS.c.round_id)
    .join(_DEPARTMENTS, _DEPARTMENTS.c.id == _FORMS.c.department_id)
    .where(_CHATS.c.user_id == bindparam("user_id"))
)
_OPENED = (
    select(
        _FORMS,
        _CHATS.c.form_id.label("chat_form_id"),
        _CHATS.c.seen_version,
        _ROUNDS.c.year,
        _ROUNDS.c.layout,
        _DEPARTMENTS.c.name.label("department_name"),
    )
    .join(_ROUNDS, _ROUNDS.c.id == _FORMS.c.round_id)
    .join(_DEPARTMENTS, _DEPARTMENTS.c.id == _FORMS.c.department_id)
    .outerjoin(_CHATS, _CHATS.c.user_id == bindparam("user_id"))
    .where(_FORMS.c.id == bindparam("form_id"))
)
_PLACE = select(
    _ROUNDS.c.year,
    _ROUNDS.c.layout,
    select(_DEPARTMENTS.c.name)
    .where(_DEPARTMENTS.c.id == bindparam("department_id"))
    .scalar_subquery()
    .label("name"),
).where(_ROUNDS.c.id == bindparam("round_id"))
# The optimistic lock; the columns to set come as parameters (their names: the columns').
_BUMP = (
    update(_FORMS)
    .where(_FORMS.c.id == bindparam("b_id"), _FORMS.c.version == bindparam("b_version"))
    .values(version=_FORMS.c.version + 1)
)


def _instance_column(kind: TableKind, instance_name: str | None) -> str | None:
    """The stored instance_name: '' for A (so the unique key holds), the name or NULL for C."""
    if kind is TableKind.A:
        if instance_name:
            raise ValueError("table A has no instance name")
        return ""
    if kind is TableKind.C:
        return instance_name or None
    raise ValueError(f"table {kind} is computed and never stored")


@dataclass(frozen=True)
class CurrentForm:
    """A user's current form with what answering it needs, read in one joined query (plus the
    form's rows): the form, its round's year and layout, its department's name, and the version
    the user last saw."""

    form: StoredForm
    loaded: tuple[FormColumns, EncodedState]  # what `save` would otherwise read again
    seen_version: int | None  # None: the user's chat session is not on this form
    year: int
    layout: str
    department_name: str
    has_chat: bool = True  # the user has a chat session row (on this form or another)


@dataclass(frozen=True)
class SiblingRow:
    """A table C of the department, narrowly: its name and its stored amount answer."""

    form_id: int
    name: str
    amount: codec.AnswerRecord | None


class FormRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- reading -------------------------------------------------------------------------

    def get(self, form_id: int) -> StoredForm | None:
        forms = self._stored_all(list(run(self.session, _BY_ID, {"form_id": form_id})))
        return forms[0] if forms else None

    def load(self, form_id: int) -> StoredForm:
        form = self.get(form_id)
        if form is None:
            raise NotFoundError("form", form_id)
        return form

    def find(
        self, department_id: int, round_id: int, kind: TableKind, instance_name: str | None = None
    ) -> StoredForm | None:
        stored_name = _instance_column(kind, instance_name)
        if stored_name is None:
            return None
        forms = self._load(
            FormRow.department_id == department_id,
            FormRow.round_id == round_id,
            FormRow.kind == kind.value,
            FormRow.instance_name == stored_name,
        )
        return forms[0] if forms else None

    def list_for_department(self, department_id: int, round_id: int) -> list[StoredForm]:
        params = {"department_id": department_id, "round_id": round_id}
        return self._stored_all(list(run(self.session, _OF_DEPARTMENT, params)))

    def list_for_round(self, round_id: int) -> list[StoredForm]:
        return self._load(FormRow.round_id == round_id)

    def current_of(self, user_id: int, known: RowsCache | None = None) -> CurrentForm | None:
        """The form the user's chat session points at, or None.

        `known` holds stored rows this process read or wrote before; they are used when the
        form is still at that version (every change of a form's rows bumps its version in the
        same transaction, see `save`), so a user answering step after step costs one query."""
        row = run(self.session, _CURRENT, {"user_id": user_id}).first()
        if row is None:
            return None
        seen, year, layout, department_name = (
            row.seen_version,
            row.year,
            row.layout,
            row.department_name,
        )
        known = known if known is not None else cache_of(self.session)
        encoded = known.get(row) if known is not None else None
        if encoded is None:
            encoded = FormRows(self.session).read([row])[row.id]
            note(self.session, row.id, row.version, row.created_at, encoded, written=False)
        return CurrentForm(
            self._stored(row, encoded), (row, encoded), seen, year, layout, department_name
        )

    def opened(self, form_id: int, user_id: int) -> CurrentForm | None:
        """Form `form_id` with what acting on it needs, in one joined query (plus its rows
        unless the process's cache knows them): its round's year and layout, its department's
        name, and `user_id`'s chat session (the version seen, if it is on this form)."""
        row = run(self.session, _OPENED, {"form_id": form_id, "user_id": user_id}).first()
        if row is None:
            return None
        encoded = self._rows_of([row])[0]
        return CurrentForm(
            self._stored(row, encoded),
            (row, encoded),
            row.seen_version if row.chat_form_id == form_id else None,
            row.year,
            row.layout,
            row.department_name,
            has_chat=row.seen_version is not None,
        )

    def place(self, round_id: int, department_id: int) -> tuple[int, str, str] | None:
        """A form's round (year, layout) and department name, in one query."""
        params = {"round_id": round_id, "department_id": department_id}
        found = run(self.session, _PLACE, params).first()
        if found is None or found.name is None:
            return None
        return found.year, found.layout, found.name

    def siblings(
        self, department_id: int, round_id: int, amount_key: str | None
    ) -> list[SiblingRow]:
        """The department's tables C of the round: names and amounts only, in one query."""
        amount = AnswerRow.key == (amount_key or "")
        rows = self.session.execute(
            select(FormRow.id, FormRow.instance_name, AnswerRow.type, AnswerRow.text)
            .outerjoin(AnswerRow, (AnswerRow.form_id == FormRow.id) & amount)
            .where(
                FormRow.department_id == department_id,
                FormRow.round_id == round_id,
                FormRow.kind == TableKind.C.value,
            )
            .order_by(FormRow.id)
        )
        return [
            SiblingRow(
                form_id,
                name or "",
                None
                if type_ is None
                else codec.AnswerRecord(amount_key or "", codec.AnswerType(type_), text),
            )
            for form_id, name, type_, text in rows
        ]

    def latest_earlier_round(self, department_id: int, year: int) -> int | None:
        """The round of the latest year before `year` in which the department has forms."""
        return self.session.scalar(
            select(RoundRow.id)
            .join(FormRow, FormRow.round_id == RoundRow.id)
            .where(FormRow.department_id == department_id, RoundRow.year < year)
            .order_by(RoundRow.year.desc(), RoundRow.id.desc())
            .limit(1)
        )

    def _load(self, *conditions: ColumnElement[bool]) -> list[StoredForm]:
        rows = list(run(self.session, select(_FORMS).where(*conditions).order_by(*_ORDER)))
        return self._stored_all(rows)

    def _stored_all(self, rows: Sequence[FormColumns]) -> list[StoredForm]:
        encoded = self._rows_of(rows)
        return [self._stored(row, state) for row, state in zip(rows, encoded, strict=True)]

    def _rows_of(self, rows: Sequence[FormColumns]) -> list[EncodedState]:
        """The stored rows of each form: the process's cache where it knows the form's version,
        the three row tables (one query each) for the others."""
        cache = cache_of(self.session)
        known = [cache.get(row) if cache is not None else None for row in rows]
        missing = [row for row, encoded in zip(rows, known, strict=True) if encoded is None]
        if not missing:
            return [encoded for encoded in known if encoded is not None]
        read = FormRows(self.session).read(missing)
        for row in missing:
            note(self.session, row.id, row.version, row.created_at, read[row.id], written=False)
        return [
            encoded if encoded is not None else read[row.id]
            for row, encoded in zip(rows, known, strict=True)
        ]

    def _stored(self, row: FormColumns, encoded: EncodedState) -> StoredForm:
        return StoredForm(
            id=row.id,
            department_id=row.department_id,
            round_id=row.round_id,
            kind=TableKind(row.kind),
            instance_name=row.instance_name or None,
            status=row.status,
            version=row.version,
            review_comment=row.review_comment,
            created_at=row.created_at,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
            state=codec.decode_state(encoded, version=row.version),
        )

    def _row(self, form_id: int) -> FormRow:
        row = self.session.get(FormRow, form_id, populate_existing=True)
        if row is None:
            raise NotFoundError("form", form_id)
        return row

    # -- creating ------------------------------------------------------------------------

    def create(
        self,
        department_id: int,
        round_id: int,
        kind: TableKind,
        instance_name: str | None = None,
        *,
        actor_user_id: int | None = None,
        now: datetime | None = None,
    ) -> StoredForm:
        """A new empty draft; AlreadyExistsError when the key is taken. A table C may start
        unnamed (several unnamed drafts may exist); `save` names it later."""
        stored_name = _instance_column(kind, instance_name)
        now = now_or(now)
        values = {
            "department_id": department_id,
            "round_id": round_id,
            "kind": kind.value,
            "instance_name": stored_name,
            "status": FormStatus.DRAFT.value,
            "cursor": "",
            "version": 0,
            "created_at": now,
            "updated_at": now,
            "updated_by": actor_user_id,
        }
        if stored_name is None:
            row = FormRow(**values)
            self.session.add(row)
            self.session.flush()
            return self.load(row.id)
        conflict = ["department_id", "round_id", "kind", "instance_name"]
        if not insert_ignoring_conflict(self.session, FormRow, values, conflict):
            raise AlreadyExistsError(f"table {kind} {instance_name or ''} exists already")
        created = self.find(department_id, round_id, kind, instance_name)
        assert created is not None
        return created

    def get_or_create(
        self,
        department_id: int,
        round_id: int,
        kind: TableKind,
        instance_name: str | None = None,
        *,
        actor_user_id: int | None = None,
        now: datetime | None = None,
    ) -> StoredForm:
        """The form with this key, created if missing (safe against a concurrent creator)."""
        if _instance_column(kind, instance_name) is None:
            raise ValueError("an unnamed table C has no key: use create()")
        found = self.find(department_id, round_id, kind, instance_name)
        if found is not None:
            return found
        try:
            return self.create(
                department_id, round_id, kind, instance_name, actor_user_id=actor_user_id, now=now
            )
        except AlreadyExistsError:
            found = self.find(department_id, round_id, kind, instance_name)
            assert found is not None
            return found

    # -- writing -------------------------------------------------------------------------

    def _bump(self, form_id: int, expected_version: int, values: Mapping[str, object]) -> None:
        """The optimistic lock: bump the version only if it is still `expected_version`."""
        params = {"b_id": form_id, "b_version": expected_version, **values}
        if rowcount(run(self.session, _BUMP, params)) != 1:
            raise StaleVersionError(self.load(form_id), expected_version)

    def _check(self, form_id: int, expected_version: int) -> FormRow:
        row = self._row(form_id)
        if row.version != expected_version:
            raise StaleVersionError(self.load(form_id), expected_version)
        return row

    def save(
        self,
        form_id: int,
        new_state: FormState,
        *,
        expected_version: int,
        actor_user_id: int | None,
        action: str,
        instance_key: str | None = None,
        now: datetime | None = None,
        loaded: tuple[FormColumns, EncodedState] | None = None,
    ) -> int:
        """Store `new_state` in the caller's transaction and return the new version.

        Raises StaleVersionError (nothing written) when the form is no longer at
        `expected_version`. Only what differs from the stored state is written, with one audit
        row per changed answer, group row or indicator row (and status). For a table C the
        column instance_name follows the answer under `instance_key`; a name another direction
        of the department already has raises AlreadyExistsError. `new_state.version` is ignored.

        With `loaded` (the row and its stored rows, read in this transaction at
        `expected_version`) nothing is read again: the version predicate of the UPDATE is the lock.
        """
        now = now_or(now)
        row, old = loaded if loaded is not None else (self._check(form_id, expected_version), None)
        new = codec.encode_state(new_state)  # refuses unstorable values before any write
        columns: dict[str, object] = {"updated_at": now, "updated_by": actor_user_id}
        changes: list[AuditChange] = []
        if new.cursor != row.cursor:
            columns["cursor"] = new.cursor
        if new.status != row.status:
            columns["status"] = new.status.value
            changes.append(AuditChange(STATUS_FIELD, row.status.value, new.status.value))
        if instance_key is not None and row.kind == TableKind.C.value:
            name = new_state.values.get(instance_key)
            stored_name = name if isinstance(name, str) and name else None
            if stored_name != row.instance_name:
                self._check_name_free(row, stored_name)
                columns["instance_name"] = stored_name
        self._bump(form_id, expected_version, columns)
        rows = FormRows(self.session)
        changes += rows.write(form_id, old if old is not None else rows.read([row])[form_id], new)
        AuditRepository(self.session).append_many(
            action, changes, actor_user_id=actor_user_id, form_id=form_id, now=now
        )
        note(self.session, form_id, expected_version + 1, row.created_at, new, written=True)
        return expected_version + 1

    def _check_name_free(self, row: FormColumns, name: str | None) -> None:
        if name is None:
            return
        taken = self.session.scalar(
            select(FormRow.id).where(
                FormRow.department_id == row.department_id,
                FormRow.round_id == row.round_id,
                FormRow.kind == row.kind,
                FormRow.instance_name == name,
                FormRow.id != row.id,
            )
        )
        if taken is not None:
            raise AlreadyExistsError(f"the department already has a table {row.kind} {name!r}")

    def set_status(
        self,
        form_id: int,
        status: FormStatus,
        *,
        expected_version: int,
        actor_user_id: int | None,
        comment: str | None = None,
        action: str = "status",
        now: datetime | None = None,
    ) -> int:
        """Change the status (submit, return with a comment, approve); returns the new version.
        `comment` replaces the review comment (None clears it)."""
        now = now_or(now)
        row = self._check(form_id, expected_version)
        changes = []
        if status.value != row.status.value:
            changes.append(AuditChange(STATUS_FIELD, row.status.value, status.value))
        if comment != row.review_comment:
            changes.append(AuditChange(COMMENT_FIELD, row.review_comment, comment))
        values = {
            "status": status.value,
            "review_comment": comment,
            "updated_at": now,
            "updated_by": actor_user_id,
        }
        self._bump(form_id, expected_version, values)
        AuditRepository(self.session).append_many(
            action, changes, actor_user_id=actor_user_id, form_id=form_id, now=now
        )
        return expected_version + 1

    def delete(
        self,
        form_id: int,
        *,
        expected_version: int,
        actor_user_id: int | None,
        action: str = "delete",
        now: datetime | None = None,
    ) -> None:
        """Delete a form (an abandoned direction); the audit row keeps a JSON snapshot."""
        row = self._check(form_id, expected_version)
        snapshot = codec.snapshot(FormRows(self.session).read([row])[form_id])
        result = self.session.execute(
            delete(FormRow)
            .where(FormRow.id == form_id, FormRow.version == expected_version)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) != 1:
            raise StaleVersionError(self.load(form_id), expected_version)
        self.session.expunge(row)
        AuditRepository(self.session).append(
            action,
            actor_user_id=actor_user_id,
            form_id=form_id,
            field_key=row.instance_name or None,
            old_value=snapshot,
            now=now,
        )
