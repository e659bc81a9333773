"""How far a form is: sections done, steps left, a percentage (shared by reminders, /status and
the digest)."""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.definition import Layout, TableKind
from dialogs.engine import Engine
from dialogs.filing import UNNAMED_DIRECTION
from dialogs.prompts import REVIEW, SUBMIT
from dialogs.state import FormStatus
from dialogs.steps import all_steps, asked_sections, is_visited, section_complete
from storage.records import StoredForm

DONE_STATUSES = frozenset({FormStatus.SUBMITTED, FormStatus.APPROVED})
# The label of the submit button on the form's last screen, where "继续填写" leads a complete
# form: reminders name it so that staff know what to press.
SUBMIT_LABEL = SUBMIT.label
REVIEW_LABEL = REVIEW.label


@dataclass(frozen=True)
class FormProgress:
    form_id: int
    department_id: int
    kind: TableKind
    name: str
    status: FormStatus
    version: int
    sections_done: int
    section_count: int
    steps_left: int
    review_comment: str | None
    # The official label of the first section still to fill ("" when every section is done).
    next_section: str = ""
    # Of a complete draft, the errors that block submitting it (reminders fill this in).
    submit_errors: int = 0

    @property
    def percent(self) -> int:
        if self.status in DONE_STATUSES:
            return 100
        return self.sections_done * 100 // self.section_count if self.section_count else 0

    @property
    def sections_left(self) -> int:
        return self.section_count - self.sections_done

    @property
    def open(self) -> bool:
        """Still to be filled by staff (draft or returned)."""
        return self.status.editable

    @property
    def status_label(self) -> str:
        return self.status.label

    @property
    def ready_to_submit(self) -> bool:
        """Every section filled, not submitted yet: what is left is pressing 提交."""
        return self.open and self.section_count > 0 and self.sections_left == 0

    @property
    def submit_label(self) -> str:
        return SUBMIT_LABEL

    @property
    def review_label(self) -> str:
        return REVIEW_LABEL


def form_name(layout: Layout, form: StoredForm) -> str:
    if form.kind is TableKind.A:
        return layout.table_a.name
    return form.instance_name or UNNAMED_DIRECTION


def form_progress(layout: Layout, form: StoredForm) -> FormProgress:
    definition = layout.table(form.kind)
    engine = Engine(definition)
    state = engine.resume(form.state)
    done, total = engine.sections_done(state)
    # Steps of rows not added yet are not counted: "about" that many steps.
    steps = all_steps(definition, state)
    left = sum(1 for step in steps if not is_visited(definition, state, step))
    pending = (s for s in asked_sections(definition) if not section_complete(definition, s, state))
    next_section = next(pending, None)
    return FormProgress(
        form_id=form.id,
        department_id=form.department_id,
        kind=form.kind,
        name=form_name(layout, form),
        status=form.status,
        version=form.version,
        sections_done=done,
        section_count=total,
        steps_left=left,
        review_comment=form.review_comment,
        next_section=next_section.label if next_section is not None else "",
    )
