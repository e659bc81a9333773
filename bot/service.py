"""The filing workflow shared by every channel (Telegram, the terminal, the CLI).

One call = one transaction: load the form, build its context, let the engine decide, save what
changed, commit — and only then does the channel reply. So an answer the user saw accepted is
on disk, and a crash before the commit loses only an answer the user never saw confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum

from sqlalchemy.orm import Session

from bot.messages import Notice, Refused
from bot.progress import form_progress
from bot.roles import Actor
from dialogs.actions import (
    Action,
    ActionKind,
    Button,
    FilingContext,
    Outcome,
    Prompt,
    SiblingDirection,
)
from dialogs.catalogue import Code, Problem
from dialogs.definition import FormDefinition, Layout, TableKind
from dialogs.engine import Engine
from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.loader import get_layout
from dialogs.review import Review, build_review
from dialogs.state import FormState, FormStatus
from dialogs.steps import StepKind
from storage import codec
from storage.codec import SKIPPED_TEXT, EncodedState
from storage.db import Database
from storage.records import (
    Department,
    NotFoundError,
    Role,
    Round,
    StaleVersionError,
    StoredForm,
)
from storage.repos import (
    AuditRepository,
    ChatSessionRepository,
    DepartmentRepository,
    FormRepository,
    RoundRepository,
    UserRepository,
)

MUTATING = frozenset(ActionKind) - {ActionKind.REVIEW}


@dataclass(frozen=True)
class FormView:
    form: StoredForm
    state: FormState  # the stored state with a valid cursor (a new form: its first step)
    definition: FormDefinition
    context: FilingContext
    prompt: Prompt
    sections_done: tuple[int, int]


@dataclass(frozen=True)
class ActResult:
    outcome: Outcome
    view: FormView
    # The caller's expected_version was not the stored one: nothing was applied.
    stale: bool = False


class AnswerRefused(Enum):
    """Why a typed answer was not even tried (the channel says so)."""

    NOT_STAFF = "not_staff"  # only staff of a department fill forms
    NO_CURRENT_FORM = "no_current_form"  # none open, or not one of the actor's department

    @property
    def refused(self) -> Refused:
        """The same refusal in the bot's catalogue of notices."""
        return Refused(Notice(self.value))


@dataclass(frozen=True)
class MenuLine:
    """One form of the table menu with its progress."""

    form: StoredForm
    name: str
    sections_done: int
    section_count: int


@dataclass(frozen=True)
class TableMenu:
    """What the actor may fill in the open round: their department's table A and directions."""

    round: Round
    department: Department
    table_a: MenuLine | None
    directions: tuple[MenuLine, ...]

    @property
    def lines(self) -> tuple[MenuLine, ...]:
        return ((self.table_a,) if self.table_a else ()) + self.directions


@dataclass(frozen=True)
class FormReview:
    """A form's review as an actor sees it: they may submit it only if they fill it."""

    review: Review
    view: FormView
    may_submit: bool


def pressed_button(prompt: Prompt, index: int) -> Button | None:
    """The button an index names in the current prompt, or None (stale or forged)."""
    offered = (*prompt.buttons, *prompt.row_buttons)
    return offered[index] if 0 <= index < len(offered) else None


def menu_line(layout: Layout, form: StoredForm) -> MenuLine:
    progress = form_progress(layout, form)  # the one progress computation (bot/progress.py)
    return MenuLine(form, progress.name, progress.sections_done, progress.section_count)


def _audit_label(definition: FormDefinition, field_key: str) -> str:
    """The official label of an audit entry's field ("total", "key_tasks[2]", "indicators[5]")."""
    base = field_key.split("[", 1)[0]
    if base == "indicators":
        return "年度绩效指标"
    try:
        return definition.field(base).label.removeprefix("其中：")
    except KeyError:
        return "本表"


def _instance_name(definition: FormDefinition, state: FormState) -> str:
    key = definition.instance_field
    value = state.values.get(key) if key else None
    return value if isinstance(value, str) else ""


def _amount(record: codec.AnswerRecord | None) -> Decimal | None:
    value = codec.decode_answer(record) if record is not None else None
    return value if isinstance(value, Decimal) else None


class FilingService:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._known_rows = database.rows

    # --- lookups ---------------------------------------------------------------------------

    @staticmethod
    def layout_of(round_: Round) -> Layout:
        return get_layout(round_.layout)

    def definition_of(self, round_: Round, kind: TableKind) -> FormDefinition:
        return self.layout_of(round_).table(kind)

    def _context(
        self, session: Session, form: StoredForm, round_: Round, department: Department
    ) -> FilingContext:
        layout = self.layout_of(round_)
        siblings = [
            f
            for f in FormRepository(session).list_for_department(form.department_id, form.round_id)
            if f.kind is TableKind.C
        ]
        amount_key = layout.table_c.amount_field
        directions = tuple(
            SiblingDirection(
                form_id=f.id,
                name=_instance_name(layout.table_c, f.state),
                amount=(
                    value
                    if isinstance(value := f.state.values.get(amount_key or ""), Decimal)
                    else None
                ),
                indicators=f.state.indicators,
            )
            for f in siblings
        )
        return FilingContext(
            year=round_.year,
            department_name=department.name,
            directions=directions,
            form_id=form.id,
        )

    def _view(self, session: Session, form: StoredForm, *, full: bool = False) -> FormView:
        """The form's view. Its context has the sibling directions in full (with their
        indicators, for review and submit) only when `full`; otherwise as an answer at the
        current step needs them (`_narrow_context`)."""
        if full:
            round_ = RoundRepository(session).get(form.round_id)
            department = DepartmentRepository(session).get(form.department_id)
            assert round_ is not None and department is not None
            definition = self.definition_of(round_, form.kind)
            context = self._context(session, form, round_, department)
            return self._render(form, definition, context)
        forms = FormRepository(session)
        place = forms.place(form.round_id, form.department_id)
        assert place is not None
        year, layout, department_name = place
        definition = get_layout(layout).table(form.kind)
        context = self._narrow_context(forms, form, layout, year, department_name, definition)
        return self._render(form, definition, context)

    @staticmethod
    def _render(form: StoredForm, definition: FormDefinition, context: FilingContext) -> FormView:
        engine = Engine(definition)
        state = engine.resume(form.state)
        return FormView(
            form=form,
            state=state,
            definition=definition,
            context=context,
            prompt=engine.prompt(state, context),
            sections_done=engine.sections_done(state),
        )

    # --- forms -------------------------------------------------------------------------------

    def open_table_a(self, department_id: int, round_id: int, actor_user_id: int) -> FormView:
        with self.database.transaction() as session:
            form = FormRepository(session).get_or_create(
                department_id, round_id, TableKind.A, actor_user_id=actor_user_id
            )
            ChatSessionRepository(session).set(actor_user_id, form.id, form.version)
            return self._view(session, form)

    def new_direction(self, department_id: int, round_id: int, actor_user_id: int) -> FormView:
        with self.database.transaction() as session:
            form = FormRepository(session).create(
                department_id, round_id, TableKind.C, actor_user_id=actor_user_id
            )
            ChatSessionRepository(session).set(actor_user_id, form.id, form.version)
            return self._view(session, form)

    def open_form(self, form_id: int, actor_user_id: int) -> FormView:
        with self.database.transaction() as session:
            form = FormRepository(session).load(form_id)
            ChatSessionRepository(session).set(actor_user_id, form.id, form.version)
            return self._view(session, form)

    def view(self, form_id: int) -> FormView:
        with self.database.transaction() as session:
            return self._view(session, FormRepository(session).load(form_id))

    def current_form_id(self, user_id: int) -> int | None:
        with self.database.transaction() as session:
            chat = ChatSessionRepository(session).get(user_id)
            return chat.form_id if chat else None

    def act(
        self,
        form_id: int,
        action: Action,
        actor_user_id: int,
        *,
        expected_version: int | None = None,
    ) -> ActResult:
        """Apply one action and commit it before returning (see the module docstring).

        With `expected_version` (a button derived from the form at that version) the action is
        applied only if the form is still at that version; otherwise nothing changes and the
        result is marked `stale`, so an old, repeated or forged button never changes data.
        """
        try:
            result = self._act(form_id, action, actor_user_id, expected_version)
        except StaleVersionError as error:
            # Another process saved between our load and our save: nothing of ours was
            # written; show the user the current state instead of overwriting it.
            return self._lost_race(error.current, actor_user_id)
        assert isinstance(result, ActResult)  # no actor given: nothing is refused
        return result

    def act_as(
        self, actor: Actor, form_id: int, action: Action, *, expected_version: int | None = None
    ) -> ActResult | AnswerRefused:
        """`act` for a channel: the actor must fill the form's department, checked in the same
        transaction, so forged form ids meet the same rule as typed answers."""
        if not actor.fills:
            return AnswerRefused.NOT_STAFF
        try:
            return self._act(form_id, action, actor.user.id, expected_version, actor)
        except NotFoundError:
            return AnswerRefused.NO_CURRENT_FORM
        except StaleVersionError as error:
            return self._lost_race(error.current, actor.user.id)

    def _act(
        self,
        form_id: int,
        action: Action,
        actor_user_id: int,
        expected_version: int | None,
        actor: Actor | None = None,
    ) -> ActResult | AnswerRefused:
        with self.database.transaction() as session:
            forms = FormRepository(session)
            chats = ChatSessionRepository(session)
            opened = forms.opened(form_id, actor_user_id)
            if opened is None:
                raise NotFoundError("form", form_id)
            form = opened.form
            if actor is not None and not actor.may_fill(form.department_id):
                return AnswerRefused.NO_CURRENT_FORM
            definition = get_layout(opened.layout).table(form.kind)
            if action.kind is ActionKind.SUBMIT:  # the checks that compare the directions
                context = self._view(session, form, full=True).context
            else:
                context = self._narrow_context(
                    forms, form, opened.layout, opened.year, opened.department_name, definition
                )

            def seen(version: int) -> None:
                if opened.has_chat:
                    chats.move(actor_user_id, form_id, version)
                else:
                    chats.set(actor_user_id, form_id, version)

            if expected_version is not None and form.version != expected_version:
                seen(form.version)
                unchanged = Outcome(state=form.state, accepted=False, changed=False)
                return ActResult(unchanged, self._render(form, definition, context), stale=True)
            stale = self._stale(session, form, opened.seen_version, actor_user_id, definition)
            if stale is not None and action.kind in MUTATING:
                seen(form.version)
                return ActResult(stale, self._render(form, definition, context))
            engine = Engine(definition)
            outcome = engine.handle(engine.resume(form.state), action, context)
            if outcome.changed:
                version = forms.save(
                    form.id,
                    outcome.state,
                    expected_version=form.version,
                    actor_user_id=actor_user_id,
                    action=action.kind.value,
                    instance_key=definition.instance_field,
                    loaded=opened.loaded,
                )
                # What was just written, without reading it back; the context (the other
                # forms of the department) is unchanged by saving this one.
                form = self._saved(form, definition, outcome, version, actor_user_id)
            seen(form.version)
            return ActResult(outcome, self._render(form, definition, context))

    # --- a typed answer: one call, one transaction --------------------------------------------

    def answer(self, actor: Actor, text: str) -> ActResult | AnswerRefused:
        """Answer the current step of the actor's current form with `text`.

        One transaction: the chat session, the form, its round and department in one joined
        query (plus the form's rows), the sibling directions' names and amounts in one narrow
        query (table C only: a direction's name must be unique in its department), the engine,
        the diff of the answer rows with their audit rows, the session's seen version. Access
        is checked here, so every channel gets the same rule."""
        if not actor.fills:
            return AnswerRefused.NOT_STAFF
        action = Action(ActionKind.ANSWER, text=text)
        try:
            with self.database.transaction() as session:
                result = self._answer(session, actor, action)
        except StaleVersionError as error:
            return self._lost_race(error.current, actor.user.id)
        if isinstance(result, tuple):  # committed: the next answer need not read the rows again
            result, (form_id, version, created_at, encoded) = result
            self._known_rows.remember(form_id, version, created_at, encoded)
        return result

    def _answer(
        self, session: Session, actor: Actor, action: Action
    ) -> tuple[ActResult, tuple[int, int, datetime, EncodedState]] | ActResult | AnswerRefused:
        forms = FormRepository(session)
        current = forms.current_of(actor.user.id, self._known_rows)
        if current is None or not actor.may_fill(current.form.department_id):
            return AnswerRefused.NO_CURRENT_FORM
        form = current.form
        definition = get_layout(current.layout).table(form.kind)
        context = self._narrow_context(
            forms, form, current.layout, current.year, current.department_name, definition
        )
        chats = ChatSessionRepository(session)
        stale = self._stale(session, form, current.seen_version, actor.user.id, definition)
        if stale is not None:
            chats.move(actor.user.id, form.id, form.version)
            return ActResult(stale, self._render(form, definition, context))
        engine = Engine(definition)
        outcome = engine.handle(engine.resume(form.state), action, context)
        encoded = current.loaded[1]
        if outcome.changed:
            version = forms.save(
                form.id,
                outcome.state,
                expected_version=form.version,
                actor_user_id=actor.user.id,
                action=action.kind.value,
                instance_key=definition.instance_field,
                loaded=current.loaded,
            )
            encoded = codec.encode_state(outcome.state)  # exactly what `save` wrote
            form = self._saved(form, definition, outcome, version, actor.user.id)
        if outcome.changed or current.seen_version != form.version:
            chats.move(actor.user.id, form.id, form.version)
        result = ActResult(outcome, self._render(form, definition, context))
        return result, (form.id, form.version, form.created_at, encoded)

    @staticmethod
    def _narrow_context(
        forms: FormRepository,
        form: StoredForm,
        layout: str,
        year: int,
        department_name: str,
        definition: FormDefinition,
    ) -> FilingContext:
        """The context an action other than submit needs. The sibling directions matter only
        to an answer at a step whose value must be unique in the department (a direction's
        name); the submit and review checks that compare directions run on the full load
        (`_view(full=True)`)."""
        directions: tuple[SiblingDirection, ...] = ()
        step = Engine(definition).current_step(form.state)
        if step.kind is StepKind.FIELD and definition.field(step.key).unique_in_department:
            amount_key = get_layout(layout).table_c.amount_field
            directions = tuple(
                SiblingDirection(
                    form_id=sibling.form_id,
                    name=sibling.name,
                    amount=_amount(sibling.amount),
                )
                for sibling in forms.siblings(form.department_id, form.round_id, amount_key)
            )
        return FilingContext(
            year=year, department_name=department_name, directions=directions, form_id=form.id
        )

    @staticmethod
    def _saved(
        form: StoredForm, definition: FormDefinition, outcome: Outcome, version: int, by: int
    ) -> StoredForm:
        """What was just written, without reading it back."""
        return replace(
            form,
            state=replace(outcome.state, version=version),
            status=outcome.state.status,
            version=version,
            instance_name=_instance_name(definition, outcome.state) or None
            if form.kind is TableKind.C
            else form.instance_name,
            updated_at=datetime.now(UTC),
            updated_by=by,
        )

    def _stale(
        self,
        session: Session,
        form: StoredForm,
        seen: int | None,
        actor_user_id: int,
        definition: FormDefinition,
    ) -> Outcome | None:
        """Someone else changed this form since this user last saw it: show them first."""
        if seen is None or seen == form.version or form.updated_by in (None, actor_user_id):
            return None
        return self._colleague_changed(session, form, actor_user_id, definition)

    @staticmethod
    def _colleague_changed(
        session: Session, form: StoredForm, actor_user_id: int, definition: FormDefinition
    ) -> Outcome:
        """The refusal that names what a colleague changed last and the value now kept.

        Read in the caller's transaction: on SQLite a second transaction opened here would wait
        for the write lock the caller holds (the busy timeout, then an error)."""
        entries = AuditRepository(session).list_for_form(form.id)
        users = UserRepository(session)
        theirs = [e for e in entries if e.actor_user_id not in (None, actor_user_id)]
        last = theirs[-1] if theirs else None
        who = users.get(last.actor_user_id) if last and last.actor_user_id else None
        field, text = "本表", "（见当前步骤）"
        if last is not None and last.field_key:
            field = _audit_label(definition, last.field_key)
            text = last.new_value if last.new_value not in (None, SKIPPED_TEXT) else "（已跳过）"
        name = f"同事{who.display_name}" if who and who.display_name else "同事"
        problem = Problem(Code.STALE_VERSION, {"field": field, "who": name, "text": str(text)})
        return Outcome(state=form.state, accepted=False, changed=False, problems=(problem,))

    def _lost_race(self, current: StoredForm, actor_user_id: int) -> ActResult:
        with self.database.transaction() as session:
            ChatSessionRepository(session).set(actor_user_id, current.id, current.version)
            view = self._view(session, current)
            outcome = self._colleague_changed(session, current, actor_user_id, view.definition)
        return ActResult(outcome, view)

    def review(self, form_id: int) -> Review:
        with self.database.transaction() as session:
            view = self._view(session, FormRepository(session).load(form_id), full=True)
            return build_review(view.definition, view.form.state, view.context)

    def set_status(
        self, form_id: int, status: FormStatus, actor_user_id: int, comment: str | None = None
    ) -> StoredForm:
        with self.database.transaction() as session:
            forms = FormRepository(session)
            form = forms.load(form_id)
            forms.set_status(
                form_id,
                status,
                expected_version=form.version,
                actor_user_id=actor_user_id,
                comment=comment,
                action=f"status:{status.value}",
            )
            return forms.load(form_id)

    # --- a department's whole filing ----------------------------------------------------------

    def department_filing(self, department_id: int, round_id: int) -> DepartmentFiling:
        with self.database.transaction() as session:
            return self._filing(session, department_id, round_id)

    def _filing(self, session: Session, department_id: int, round_id: int) -> DepartmentFiling:
        round_ = RoundRepository(session).get(round_id)
        department = DepartmentRepository(session).get(department_id)
        assert round_ is not None and department is not None
        users = UserRepository(session)
        filed: list[tuple[StoredForm, FiledForm]] = []
        for form in FormRepository(session).list_for_department(department_id, round_id):
            user = users.get(form.updated_by) if form.updated_by else None
            filed.append(
                (
                    form,
                    FiledForm(
                        form_id=form.id,
                        state=form.state,
                        status=form.status,
                        updated_by=user.display_name if user else "",
                        updated_at=form.updated_at.isoformat(timespec="minutes"),
                        version=form.version,
                    ),
                )
            )
        table_a = next((f for s, f in filed if s.kind is TableKind.A), None)
        directions = tuple(
            f for s, f in sorted(filed, key=lambda p: p[0].id) if s.kind is TableKind.C
        )
        return DepartmentFiling(
            department=department.name,
            year=round_.year,
            layout=self.layout_of(round_),
            table_a=table_a,
            directions=directions,
        )

    def round_filings(self, round_id: int) -> list[DepartmentFiling]:
        with self.database.transaction() as session:
            departments = DepartmentRepository(session).list_all()
            return [self._filing(session, d.id, round_id) for d in departments]

    # --- what a channel calls: the actor's rights checked in the call's own transaction ------

    @staticmethod
    def filling_scope(
        session: Session, actor: Actor, round_id: int | None = None
    ) -> tuple[Round, Department] | Refused:
        """The open round (or the round `round_id`: the terminal's chosen year) and the
        actor's department, if the actor fills forms."""
        if not actor.fills or actor.user.department_id is None:
            return Refused(Notice.NO_DEPARTMENT if actor.role is Role.STAFF else Notice.NOT_STAFF)
        rounds = RoundRepository(session)
        round_ = rounds.latest_open() if round_id is None else rounds.get(round_id)
        department = DepartmentRepository(session).get(actor.user.department_id)
        if round_ is None:
            return Refused(Notice.NO_ROUND)
        if department is None:
            return Refused(Notice.NO_DEPARTMENT)
        return round_, department

    def _menu(self, session: Session, round_: Round, department: Department) -> TableMenu:
        layout = self.layout_of(round_)
        forms = FormRepository(session).list_for_department(department.id, round_.id)
        lines = [menu_line(layout, form) for form in forms]
        return TableMenu(
            round=round_,
            department=department,
            table_a=next((line for line in lines if line.form.kind is TableKind.A), None),
            directions=tuple(line for line in lines if line.form.kind is TableKind.C),
        )

    def menu(self, actor: Actor, round_id: int | None = None) -> TableMenu | Refused:
        """The actor's table menu (their department in the open round)."""
        with self.database.reading() as session:
            found = self.filling_scope(session, actor, round_id)
            return found if isinstance(found, Refused) else self._menu(session, *found)

    def resume(self, actor: Actor) -> FormView | TableMenu | Refused:
        """/fill: the actor's form in progress, opened at its step (still theirs, in the open
        round and editable), else their table menu."""
        with self.database.transaction() as session:
            found = self.filling_scope(session, actor)
            if isinstance(found, Refused):
                return found
            round_, department = found
            chat = ChatSessionRepository(session).get(actor.user.id)
            form = FormRepository(session).get(chat.form_id) if chat and chat.form_id else None
            if (
                form is not None
                and form.round_id == round_.id
                and actor.may_fill(form.department_id)
                and form.status.editable
            ):
                ChatSessionRepository(session).set(actor.user.id, form.id, form.version)
                return self._view(session, form)
            return self._menu(session, round_, department)

    def open_own_table_a(self, actor: Actor, round_id: int | None = None) -> FormView | Refused:
        """The actor's department's table A in the open round (created when missing)."""
        with self.database.transaction() as session:
            found = self.filling_scope(session, actor, round_id)
            if isinstance(found, Refused):
                return found
            round_, department = found
            form = FormRepository(session).get_or_create(
                department.id, round_.id, TableKind.A, actor_user_id=actor.user.id
            )
            ChatSessionRepository(session).set(actor.user.id, form.id, form.version)
            return self._view(session, form)

    def add_direction(
        self, actor: Actor, seen: int, round_id: int | None = None
    ) -> FormView | Refused:
        """A new direction, only while the department has the `seen` directions the actor's
        menu showed (an old menu or a second tap creates nothing: MENU_CHANGED)."""
        with self.database.transaction() as session:
            found = self.filling_scope(session, actor, round_id)
            if isinstance(found, Refused):
                return found
            round_, department = found
            forms = FormRepository(session)
            existing = forms.list_for_department(department.id, round_.id)
            if sum(1 for f in existing if f.kind is TableKind.C) != seen:
                return Refused(Notice.MENU_CHANGED)
            form = forms.create(department.id, round_.id, TableKind.C, actor_user_id=actor.user.id)
            ChatSessionRepository(session).set(actor.user.id, form.id, form.version)
            return self._view(session, form)

    def open_as(self, actor: Actor, form_id: int) -> FormView | Refused:
        """Open a form of the actor's own department (forged ids of others: NOT_ALLOWED)."""
        with self.database.transaction() as session:
            form = self._fillable(session, actor, form_id)
            if isinstance(form, Refused):
                return form
            ChatSessionRepository(session).set(actor.user.id, form.id, form.version)
            return self._view(session, form)

    def _review(self, session: Session, actor: Actor, form: StoredForm) -> FormReview:
        view = self._view(session, form)
        review = build_review(view.definition, form.state, view.context)
        return FormReview(review, view, may_submit=actor.may_fill(form.department_id))

    def review_as(self, actor: Actor, form_id: int) -> FormReview | Refused:
        """A form's review for anyone who may see its department."""
        with self.database.reading() as session:
            form = FormRepository(session).get(form_id)
            if form is None or not actor.may_view(form.department_id):
                return Refused(Notice.NOT_ALLOWED)
            return self._review(session, actor, form)

    @staticmethod
    def _fillable(
        session: Session,
        actor: Actor,
        form_id: int | None,
        *,
        not_staff: Notice = Notice.NOT_STAFF,
        missing: Notice = Notice.NOT_ALLOWED,
    ) -> StoredForm | Refused:
        """The form if the actor fills in for its department; else the refusal: `not_staff`
        for someone who fills in nothing, `missing` for no such form or another department's."""
        if not actor.fills:
            return Refused(not_staff)
        form = FormRepository(session).get(form_id) if form_id else None
        if form is None or not actor.may_fill(form.department_id):
            return Refused(missing)
        return form

    def _current(self, session: Session, actor: Actor) -> StoredForm | Refused:
        chat = ChatSessionRepository(session).get(actor.user.id) if actor.fills else None
        form_id = chat.form_id if chat else None
        return self._fillable(session, actor, form_id, missing=Notice.NO_CURRENT_FORM)

    def current_review(self, actor: Actor) -> FormReview | Refused:
        """/review: the review of the form the actor is filling."""
        with self.database.reading() as session:
            form = self._current(session, actor)
            return form if isinstance(form, Refused) else self._review(session, actor, form)

    def submit(
        self,
        actor: Actor,
        form_id: int | None = None,
        *,
        expected_version: int | None = None,
        confirmed: bool = False,
    ) -> ActResult | Refused:
        """Submit a form of the actor's department (None: the one they are filling, as /submit
        does); `confirmed` after the warnings were shown."""
        if form_id is None:
            with self.database.reading() as session:
                current = self._current(session, actor)
            if isinstance(current, Refused):
                return current
            form_id = current.id
        action = Action(ActionKind.SUBMIT, target="confirmed" if confirmed else "")
        result = self.act_as(actor, form_id, action, expected_version=expected_version)
        return Refused(Notice.NOT_ALLOWED) if isinstance(result, AnswerRefused) else result

    def press(
        self, actor: Actor, form_id: int, version: int, index: int
    ) -> ActResult | FormReview | Refused:
        """Button `index` of a form's prompt as it was at `version`: re-derived from the stored
        form, applied only if the form is still at that version (else a stale result)."""
        with self.database.reading() as session:
            form = self._fillable(session, actor, form_id, not_staff=Notice.NOT_ALLOWED)
            if isinstance(form, Refused):
                return form
            view = self._view(session, form)
            chosen = pressed_button(view.prompt, index) if form.version == version else None
            if chosen is None:
                unchanged = Outcome(state=form.state, accepted=False, changed=False)
                return ActResult(unchanged, view, stale=True)
            if chosen.action.kind is ActionKind.REVIEW:
                return self._review(session, actor, form)
        result = self.act_as(actor, form_id, chosen.action, expected_version=version)
        return Refused(Notice.NOT_ALLOWED) if isinstance(result, AnswerRefused) else result

    def jump(self, actor: Actor, form_id: int, version: int, target: str) -> ActResult | Refused:
        """A fix or section button: go to the step to correct (the engine refuses targets that
        cannot be reached)."""
        action = Action(ActionKind.JUMP, target=target)
        result = self.act_as(actor, form_id, action, expected_version=version)
        return Refused(Notice.NOT_ALLOWED) if isinstance(result, AnswerRefused) else result
