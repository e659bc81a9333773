"""Importing a filled workbook into a department's drafts: plan (what would change), then apply.

The plan is shown to the user before anything is written, and records the version of every
stored form the workbook maps to (its basis). Applying re-plans in one transaction and writes
only if that basis is unchanged: if a colleague confirmed an answer, or a form was submitted or
reviewed, after the plan was shown, nothing is written and the caller shows the new plan
(`PlanOutdated`). A form that is not editable (submitted, approved) is never written: the plan
is refused and names who can return it. A workbook is imported whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from bot.messages import Notice, Refused
from bot.roles import Actor
from bot.service import FilingService
from dialogs.catalogue import Code, Problem
from dialogs.definition import FormDefinition, Layout, TableKind
from dialogs.engine import Engine
from dialogs.filing import DepartmentFiling
from dialogs.prompts import show_value
from dialogs.state import FormState, FormStatus
from exports.importer import MAX_FILE_BYTES, too_large_file
from storage.records import Department, PendingKind, Role, Round, StaleVersionError, StoredForm
from storage.repos import (
    DepartmentRepository,
    Expired,
    FormRepository,
    ImportWait,
    PendingInputRepository,
    PlannedForm,
    RoundRepository,
    UserRepository,
)
from storage.repos.pending import IMPORT_TTL

MAX_CHANGES_SHOWN = 15


@dataclass(frozen=True)
class FormChange:
    kind: TableKind
    name: str  # the table's name, with the direction for a C table
    form_id: int | None  # None: a new direction
    changes: tuple[str, ...]  # human-readable lines "资金总额：267.5915 → 267.59151"
    status: FormStatus | None  # the stored form's status; None: a new form
    version: int | None  # the stored form's version the plan was made against
    instance: str  # the direction (子项) a C table is matched by; '' for table A

    @property
    def locked(self) -> bool:
        """Submitted or approved: never written by an import."""
        return self.status is not None and not self.status.editable

    @property
    def planned(self) -> PlannedForm:
        return PlannedForm(self.kind.value, self.instance, self.form_id, self.version)


@dataclass(frozen=True)
class ImportPlan:
    department_id: int
    round_id: int
    changes: tuple[FormChange, ...]
    reviewers: str = ""  # who can return a locked form, e.g. "审核人 王五、区级审核人 赵六"

    @property
    def basis(self) -> tuple[PlannedForm, ...]:
        """Every stored form (or its absence) the plan was made against."""
        return tuple(change.planned for change in self.changes)

    @property
    def applicable(self) -> tuple[FormChange, ...]:
        return tuple(c for c in self.changes if not c.locked and c.changes)

    @property
    def blocked(self) -> tuple[FormChange, ...]:
        """Forms the workbook would change but that are not editable: the import is refused."""
        return tuple(c for c in self.changes if c.locked and c.changes)

    def refusals(self) -> list[Problem]:
        return [
            Problem(
                Code.IMPORT_FORM_LOCKED,
                {
                    "form": change.name,
                    "status": change.status.label if change.status else "",
                    "reviewers": self.reviewers or "审核人",
                },
            )
            for change in self.blocked
        ]

    def summary(self) -> str:
        if not self.changes:
            return "工作簿中没有可导入的表。"
        lines = []
        for change in self.changes:
            if change.locked and change.status is not None:
                what = "与工作簿一致" if not change.changes else "不能导入"
                lines.append(f"• {change.name}：当前为「{change.status.label}」，{what}。")
            elif not change.changes:
                lines.append(f"• {change.name}：没有变化。")
            else:
                lines.append(f"• {change.name}（{len(change.changes)} 处变化）：")
                lines.extend(f"    {line}" for line in change.changes[:MAX_CHANGES_SHOWN])
                if len(change.changes) > MAX_CHANGES_SHOWN:
                    lines.append(f"    …另有 {len(change.changes) - MAX_CHANGES_SHOWN} 处")
        return "\n".join(lines)


class PlanOutdated(Exception):
    """The stored forms changed since the plan was shown: nothing was written."""

    def __init__(self, plan: ImportPlan, changed: tuple[str, ...]) -> None:
        super().__init__(f"import plan outdated: {', '.join(changed)}")
        self.plan = plan
        self.changed = changed

    def problem(self) -> Problem:
        forms = "、".join(f"「{name}」" for name in self.changed)
        return Problem(Code.IMPORT_PLAN_CHANGED, {"forms": forms})


class FormsLocked(Exception):
    """The workbook would change a form that is not editable: nothing was written."""

    def __init__(self, plan: ImportPlan) -> None:
        super().__init__("import would change forms that are not editable")
        self.plan = plan


def _differences(definition: FormDefinition, old: FormState, new: FormState) -> tuple[str, ...]:
    lines = []
    for field in definition.fields():
        if field.key in new.values or field.key in old.values:
            before, after = old.values.get(field.key), new.values.get(field.key)
            if before != after and field.asked:
                label = field.label.removeprefix("其中：")
                lines.append(f"{label}：{show_value(before)} → {show_value(after)}")
    for key in set(old.groups) | set(new.groups):
        if old.groups.get(key, ()) != new.groups.get(key, ()):
            count = len(new.groups.get(key, ()))
            lines.append(f"{definition.field(key).label}：改为 {count} 条")
    old_rows = [(r.level2, r.name, r.value) for r in old.indicators]
    new_rows = [(r.level2, r.name, r.value) for r in new.indicators]
    if old_rows != new_rows:
        lines.append(f"年度绩效指标：改为 {len(new_rows)} 条")
    return tuple(lines)


def _name(definition: FormDefinition, state: FormState) -> str:
    key = definition.instance_field
    value = state.values.get(key) if key else None
    return f"{definition.name}：{value}" if value else definition.name


def _states(imported: DepartmentFiling) -> list[FormState]:
    states = [imported.table_a.state] if imported.table_a is not None else []
    return states + [d.state for d in imported.directions]


def reviewers_of(session: Session, department_id: int) -> str:
    """Who can return a department's form: its supervisors, then the district supervisors."""
    users = UserRepository(session)
    supervisors = [
        user.display_name
        for user in users.list_by_role(Role.SUPERVISOR)
        if department_id in users.overseen_department_ids(user.id) and user.display_name
    ]
    district = [u.display_name for u in users.list_by_role(Role.DISTRICT_SUPERVISOR)]
    parts = []
    if supervisors:
        parts.append("审核人 " + "、".join(supervisors[:5]))
    if district:
        parts.append("区级审核人 " + "、".join([d for d in district if d][:5]))
    return "，或".join(parts) if parts else "本部门的审核人或管理员"


@dataclass(frozen=True)
class ImportTarget:
    """Where a workbook the actor sent goes: their department in the open round."""

    round: Round
    department: Department


@dataclass(frozen=True)
class PendingImport:
    """The actor's workbook waiting for their confirmation, with where it goes."""

    wait: ImportWait
    target: ImportTarget


class ImportService:
    def __init__(self, filing: FilingService) -> None:
        self.filing = filing
        self.database = filing.database

    # --- what a channel calls, the actor's rights checked in the call -----------------------

    def receive(
        self, actor: Actor, file_name: str, size: int | None
    ) -> ImportTarget | Refused | Problem:
        """A workbook the actor sends: refused unless they fill a department's forms in the
        open round and it is an .xlsx within the size limit (checked before it is fetched).
        Any import waiting for their confirmation is dropped, even when this one is refused
        later: an older plan's button must not apply a file the user has since replaced."""
        with self.database.transaction() as session:
            found = FilingService.filling_scope(session, actor)
            if isinstance(found, Refused):
                return Refused(Notice.NOT_STAFF) if not actor.fills else found
            if not file_name.lower().endswith(".xlsx"):
                return Refused(Notice.IMPORT_NOT_XLSX)
            if size is not None and size > MAX_FILE_BYTES:
                return too_large_file(size)
            PendingInputRepository(session).discard(actor.user.id, PendingKind.IMPORT)
            return ImportTarget(*found)

    def keep(self, actor: Actor, plan: ImportPlan, workbook: bytes) -> None:
        """Hold the workbook and its plan's basis until the actor confirms (or it expires)."""
        with self.database.transaction() as session:
            PendingInputRepository(session).await_import_confirmation(
                actor.user.id, plan.department_id, plan.round_id, plan.basis, workbook
            )

    def take(self, actor: Actor, *, to_apply: bool) -> PendingImport | Refused | Problem:
        """The actor's waiting import, taken (a second press finds nothing): IMPORT_EXPIRED
        after its time, NOTHING_PENDING without one, IMPORT_CANCELLED when not `to_apply`,
        NOT_ALLOWED when it is no longer for a department the actor fills."""
        with self.database.transaction() as session:
            pending = PendingInputRepository(session).import_confirmation(actor.user.id, take=True)
            if isinstance(pending, Expired):
                minutes = str(int(IMPORT_TTL.total_seconds() // 60))
                return Problem(Code.IMPORT_EXPIRED, {"minutes": minutes})
            if pending is None:
                return Refused(Notice.IMPORT_NOTHING_PENDING)
            if not to_apply:
                return Refused(Notice.IMPORT_CANCELLED)
            if not actor.may_fill(pending.department_id):
                return Refused(Notice.NOT_ALLOWED)
            round_ = RoundRepository(session).get(pending.round_id)
            department = DepartmentRepository(session).get(pending.department_id)
            if round_ is None or department is None:
                return Refused(Notice.NO_ROUND)
            return PendingImport(pending, ImportTarget(round_, department))

    def apply_as(
        self, actor: Actor, pending: PendingImport, imported: DepartmentFiling
    ) -> int | Refused:
        """`apply` for the actor: only into a department they fill (checked again here, as
        the actor may have been moved since the plan was shown)."""
        wait = pending.wait
        if not actor.may_fill(wait.department_id):
            return Refused(Notice.NOT_ALLOWED)
        return self.apply(wait.basis, wait.department_id, wait.round_id, imported, actor.user.id)

    def plan(self, department_id: int, round_id: int, imported: DepartmentFiling) -> ImportPlan:
        with self.database.transaction() as session:
            return self._plan(session, department_id, round_id, imported)

    def _layout(self, session: Session, round_id: int) -> Layout:
        round_ = RoundRepository(session).get(round_id)
        assert round_ is not None
        return self.filing.layout_of(round_)

    def _plan(
        self, session: Session, department_id: int, round_id: int, imported: DepartmentFiling
    ) -> ImportPlan:
        layout = self._layout(session, round_id)
        stored = FormRepository(session).list_for_department(department_id, round_id)
        changes = []
        if imported.table_a is not None:
            current = next((f for f in stored if f.kind is TableKind.A), None)
            changes.append(self._change(layout.table_a, current, imported.table_a.state, ""))
        by_name = {f.instance_name: f for f in stored if f.kind is TableKind.C}
        for direction in imported.directions:
            name = str(direction.state.values.get(layout.table_c.instance_field or "") or "")
            changes.append(self._change(layout.table_c, by_name.get(name), direction.state, name))
        plan = ImportPlan(department_id, round_id, tuple(changes))
        if plan.blocked:
            plan = replace(plan, reviewers=reviewers_of(session, department_id))
        return plan

    @staticmethod
    def _change(
        definition: FormDefinition, current: StoredForm | None, new: FormState, instance: str
    ) -> FormChange:
        old = current.state if current is not None else FormState()
        return FormChange(
            kind=definition.kind,
            name=_name(definition, new),
            form_id=current.id if current is not None else None,
            changes=_differences(definition, old, new),
            status=current.status if current is not None else None,
            version=current.version if current is not None else None,
            instance=instance,
        )

    def apply(
        self,
        basis: tuple[PlannedForm, ...],
        department_id: int,
        round_id: int,
        imported: DepartmentFiling,
        actor_user_id: int,
    ) -> int:
        """Write the import if every form is still as planned (`basis`); returns the forms
        written. Raises PlanOutdated (with the new plan) or FormsLocked, writing nothing."""
        try:
            return self._apply(basis, department_id, round_id, imported, actor_user_id)
        except StaleVersionError:  # a colleague's write landed between our read and ours
            plan = self.plan(department_id, round_id, imported)
            raise PlanOutdated(plan, _changed(basis, plan)) from None

    def _apply(
        self,
        basis: tuple[PlannedForm, ...],
        department_id: int,
        round_id: int,
        imported: DepartmentFiling,
        actor_user_id: int,
    ) -> int:
        written = 0
        with self.database.transaction() as session:
            plan = self._plan(session, department_id, round_id, imported)
            if plan.basis != basis:
                raise PlanOutdated(plan, _changed(basis, plan))
            if plan.blocked:
                raise FormsLocked(plan)
            layout = self._layout(session, round_id)
            forms = FormRepository(session)
            for change, state in zip(plan.changes, _states(imported), strict=True):
                if change.locked or not change.changes:
                    continue
                definition = layout.table(change.kind)
                if change.form_id is not None:
                    form = forms.load(change.form_id)
                elif change.kind is TableKind.A:
                    form = forms.get_or_create(department_id, round_id, TableKind.A)
                else:
                    form = forms.create(department_id, round_id, TableKind.C)
                resumed = Engine(definition).resume(replace(state, cursor="", status=form.status))
                forms.save(
                    form.id,
                    resumed,
                    # the planned version, not the one just read: a write in between is stale
                    expected_version=change.version if change.version is not None else form.version,
                    actor_user_id=actor_user_id,
                    action="import",
                    instance_key=definition.instance_field,
                )
                written += 1
        return written


def _changed(basis: tuple[PlannedForm, ...], plan: ImportPlan) -> tuple[str, ...]:
    """The names of the forms whose stored version differs from the basis."""
    before = {(p.kind, p.name): p for p in basis}
    names = [
        change.name
        for change in plan.changes
        if before.get((change.kind.value, change.instance)) != change.planned
    ]
    return tuple(names) or tuple(change.name for change in plan.changes)
