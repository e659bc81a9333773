"""Importing a filled workbook into a department's drafts: plan (what would change), then apply.

The plan is shown to the user before anything is written; applying is one transaction, so a
workbook is imported whole or not at all. Submitted or approved forms are never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.service import FilingService
from dialogs.definition import FormDefinition, TableKind
from dialogs.engine import Engine
from dialogs.filing import DepartmentFiling
from dialogs.prompts import show_value
from dialogs.state import FormState, FormStatus
from storage.records import StoredForm
from storage.repos import FormRepository, RoundRepository


@dataclass(frozen=True)
class FormChange:
    kind: TableKind
    name: str  # the table's name, with the direction for a C table
    form_id: int | None  # None: a new direction
    changes: tuple[str, ...]  # human-readable lines "资金总额：267.5915 → 267.59151"
    locked: bool  # submitted / approved: will not be overwritten


@dataclass(frozen=True)
class ImportPlan:
    department_id: int
    round_id: int
    changes: tuple[FormChange, ...]

    @property
    def applicable(self) -> tuple[FormChange, ...]:
        return tuple(c for c in self.changes if not c.locked and c.changes)

    def summary(self) -> str:
        if not self.changes:
            return "工作簿中没有可导入的表。"
        lines = []
        for change in self.changes:
            if change.locked:
                lines.append(f"• {change.name}：已提交或已审核，不会被覆盖。")
            elif not change.changes:
                lines.append(f"• {change.name}：没有变化。")
            else:
                lines.append(f"• {change.name}（{len(change.changes)} 处变化）：")
                lines.extend(f"    {line}" for line in change.changes[:15])
                if len(change.changes) > 15:
                    lines.append(f"    …另有 {len(change.changes) - 15} 处")
        return "\n".join(lines)


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


class ImportService:
    def __init__(self, filing: FilingService) -> None:
        self.filing = filing
        self.database = filing.database

    def plan(self, department_id: int, round_id: int, imported: DepartmentFiling) -> ImportPlan:
        with self.database.transaction() as session:
            round_ = RoundRepository(session).get(round_id)
            assert round_ is not None
            layout = self.filing.layout_of(round_)
            stored = FormRepository(session).list_for_department(department_id, round_id)
        changes = []
        if imported.table_a is not None:
            current = next((f for f in stored if f.kind is TableKind.A), None)
            changes.append(self._change(layout.table_a, current, imported.table_a.state))
        by_name = {f.instance_name: f for f in stored if f.kind is TableKind.C}
        for direction in imported.directions:
            name = str(direction.state.values.get(layout.table_c.instance_field or "") or "")
            changes.append(self._change(layout.table_c, by_name.get(name), direction.state))
        return ImportPlan(department_id, round_id, tuple(changes))

    @staticmethod
    def _change(
        definition: FormDefinition, current: StoredForm | None, new: FormState
    ) -> FormChange:
        old = current.state if current is not None else FormState()
        locked = current is not None and not current.status.editable
        return FormChange(
            kind=definition.kind,
            name=_name(definition, new),
            form_id=current.id if current is not None else None,
            changes=_differences(definition, old, new),
            locked=locked,
        )

    def apply(self, plan: ImportPlan, imported: DepartmentFiling, actor_user_id: int) -> int:
        """Write every applicable change in one transaction; returns the forms written."""
        states = [imported.table_a.state] if imported.table_a is not None else []
        states += [d.state for d in imported.directions]
        written = 0
        with self.database.transaction() as session:
            round_ = RoundRepository(session).get(plan.round_id)
            assert round_ is not None
            layout = self.filing.layout_of(round_)
            forms = FormRepository(session)
            for change, state in zip(plan.changes, states, strict=True):
                if change.locked or not change.changes:
                    continue
                definition = layout.table(change.kind)
                if change.form_id is not None:
                    form = forms.load(change.form_id)
                elif change.kind is TableKind.A:
                    form = forms.get_or_create(plan.department_id, plan.round_id, TableKind.A)
                else:
                    form = forms.create(plan.department_id, plan.round_id, TableKind.C)
                status = FormStatus.DRAFT if form.status is FormStatus.DRAFT else form.status
                resumed = Engine(definition).resume(replace(state, cursor="", status=status))
                forms.save(
                    form.id,
                    resumed,
                    expected_version=form.version,
                    actor_user_id=actor_user_id,
                    action="import",
                    instance_key=definition.instance_field,
                )
                written += 1
        return written
