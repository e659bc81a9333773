"""What a channel (Telegram, the terminal) sends the engine, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from dialogs.catalogue import Problem
from dialogs.state import FormState, IndicatorRow


class ActionKind(StrEnum):
    ANSWER = "answer"  # free text for the current step
    BACK = "back"
    SKIP = "skip"  # optional steps only
    KEEP = "keep"  # a step already answered: go on with the answer as it stands
    JUMP = "jump"  # target: a section key or a step address
    ADD_ROW = "add"  # at a "more" step: another row
    NEXT = "next"  # at a "more" step: go on to the next part
    EDIT_ROW = "edit"  # target: "g:<group>:<row>" or "i:<level2>:<row>"
    DELETE_ROW = "delete"  # target as for EDIT_ROW
    NOT_APPLICABLE = "na"  # at the first 三级指标 step of a 二级指标
    CONFIRM = "yes"  # accept an unsure indicator reading
    CORRECT = "fix"  # re-enter an unsure indicator value
    REVIEW = "review"
    SUBMIT = "submit"  # target "confirmed" once warnings were shown


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    text: str = ""
    target: str = ""


@dataclass(frozen=True)
class SiblingDirection:
    """Another expenditure direction (table C) of the same department and round."""

    form_id: int
    name: str
    amount: Decimal | None
    indicators: tuple[IndicatorRow, ...] = ()


@dataclass(frozen=True)
class FilingContext:
    """What the engine may know beyond the form itself; built by the caller from storage."""

    year: int
    department_name: str
    # For a C form: the department's other directions; for A: all its directions.
    directions: tuple[SiblingDirection, ...] = ()
    # For a C form: whether the department's table A exists (cross-check happens on A).
    form_id: int = 0


@dataclass(frozen=True)
class Button:
    label: str
    action: Action


@dataclass(frozen=True)
class Progress:
    table: str
    section: str
    section_index: int  # 1-based
    section_count: int
    step_index: int  # 1-based within the section
    step_count: int
    sections_done: int

    def bar(self, width: int = 7) -> str:
        filled = round(width * self.sections_done / self.section_count) if self.section_count else 0
        return "▓" * filled + "░" * (width - filled)


@dataclass(frozen=True)
class Prompt:
    """One screen: the channel renders `text`, `hint` and `buttons`, and accepts free text
    when `accepts_text` is set."""

    step: str
    progress: Progress | None
    heading: str
    text: str
    hint: str
    buttons: tuple[Button, ...]
    accepts_text: bool
    row_buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """The result of one action. When `accepted` is False nothing changed and `state` is the
    state that came in; the channel shows `problems` and the current prompt again."""

    state: FormState
    accepted: bool
    changed: bool
    echo: str = ""
    problems: tuple[Problem, ...] = field(default=())
    fix_buttons: tuple[Button, ...] = field(default=())
    needs_confirmation: bool = False
