"""Inline keyboards and the callback ids behind their buttons.

callback_data carries only short ASCII ids (Telegram allows 64 bytes), never an answer or a
permission. The server re-derives what a button means when it is pressed:

  s:<form>:<version>:<i>     button i of the form's prompt (buttons + row_buttons) at <version>
  j:<form>:<version>:<step>  jump to a step address or section key (fix buttons, review)
  r:<form>:<version>         show the review          u:<form>:<version>  submit
  c:<form>:<version>         submit after the warnings were shown
  m:a | m:c:<form> | m:n:<count> | m:p | m:m
                             table A, open a form, new direction (when the department has
                             <count> directions), pause, the table menu
  e:<department>             export a department
  i:<role> | i:<role>:<department>   invite: pick a department / create the code (d: none)
  n:<year>:<yyyymmdd>:<layout>       create a round with that layout
  x:<1|0>                    apply / drop the workbook this user sent for import (the file
                             itself is held server-side for that user only)
  e:0                        export every department the user may see (the round workbook)
  rv:s:<form>                show a submitted form to review, with [通过] [退回修改]
  rv:a:<form>:<version>      approve it       rv:r:<form>:<version>  return it (a comment follows)
  rv:x                       cancel a return
                             (review buttons keep the form they had before this codec knew
                             them, so that the buttons in messages sent before still work)

A form button is honoured only while the form is still at <version> (so a stale, repeated or
forged button never changes data), and every id is re-checked against the user's rights.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from dialogs.actions import ActionKind, Button, Prompt
from storage.records import Role

MAX_CALLBACK_BYTES = 64
NAV_KINDS = frozenset({ActionKind.BACK, ActionKind.SKIP, ActionKind.REVIEW})
PAUSE_LABEL = "⏸ 暂停"
MENU_LABEL = "📂 其他表格"
MAX_CHOICES = 90  # buttons of a choice list: Telegram allows 100 per keyboard


class FormOp(StrEnum):
    REVIEW = "r"
    SUBMIT = "u"
    CONFIRM = "c"
    UPDATE_YEAR = "y"  # texts copied from last year: their old year made this round's


class ReviewOp(StrEnum):
    SHOW = "s"
    APPROVE = "a"
    RETURN = "r"
    CANCEL = "x"


class MenuOp(StrEnum):
    TABLE_A = "a"
    OPEN = "c"
    NEW = "n"
    PAUSE = "p"
    MENU = "m"
    CARRY_OVER = "y"  # start this round from the department's earlier filing


ROLE_CODES: dict[Role, str] = {
    Role.SUPERVISOR: "s",
    Role.DISTRICT_SUPERVISOR: "d",
    Role.STAFF: "t",
}
CODE_ROLES = {code: role for role, code in ROLE_CODES.items()}


@dataclass(frozen=True)
class StepPress:
    form_id: int
    version: int
    index: int


@dataclass(frozen=True)
class JumpPress:
    form_id: int
    version: int
    target: str


@dataclass(frozen=True)
class FormPress:
    op: FormOp
    form_id: int
    version: int


@dataclass(frozen=True)
class MenuPress:
    op: MenuOp
    number: int = 0


@dataclass(frozen=True)
class ExportPress:
    department_id: int


@dataclass(frozen=True)
class InvitePress:
    role: Role
    department_id: int | None = None
    create: bool = False


@dataclass(frozen=True)
class RoundPress:
    year: int
    deadline: date
    layout: str


@dataclass(frozen=True)
class ImportPress:
    apply: bool


@dataclass(frozen=True)
class PreviewPress:
    """Preview a department's tables: `table` None = choose the table, else its sheet index."""

    department_id: int
    table: int | None = None


@dataclass(frozen=True)
class ReviewPress:
    """A supervisor's review of a submitted form (`form_id` and `version` 0 for CANCEL; SHOW
    names no version: the card shows the form as it is)."""

    op: ReviewOp
    form_id: int = 0
    version: int = 0


Callback = (
    StepPress
    | JumpPress
    | FormPress
    | MenuPress
    | ExportPress
    | InvitePress
    | RoundPress
    | ImportPress
    | PreviewPress
    | ReviewPress
)

_NUMBER = r"(0|[1-9][0-9]{0,11})"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("s", rf"s:{_NUMBER}:{_NUMBER}:([0-9]{{1,3}})"),
        ("j", rf"j:{_NUMBER}:{_NUMBER}:([A-Za-z0-9_.:!-]{{1,48}})"),
        ("f", rf"([rucy]):{_NUMBER}:{_NUMBER}"),
        ("m", rf"m:([acnpmy])(?::{_NUMBER})?"),
        ("e", rf"e:{_NUMBER}"),
        ("i", rf"i:([sdt])(?::{_NUMBER})?"),
        ("n", r"n:([0-9]{4}):([0-9]{8}):([A-Za-z0-9_-]{1,16})"),
        ("x", r"x:([01])"),
        ("v", rf"v:{_NUMBER}(?::([0-9]{{1,3}}))?"),
        ("rs", rf"rv:s:{_NUMBER}"),
        ("rd", rf"rv:([ar]):{_NUMBER}:{_NUMBER}"),
        ("rx", r"rv:x"),
    )
)


def encode(callback: Callback) -> str:
    match callback:
        case StepPress(form_id, version, index):
            data = f"s:{form_id}:{version}:{index}"
        case JumpPress(form_id, version, target):
            data = f"j:{form_id}:{version}:{target}"
        case FormPress(op, form_id, version):
            data = f"{op.value}:{form_id}:{version}"
        case MenuPress(op, number):
            data = f"m:{op.value}" + (f":{number}" if op in (MenuOp.OPEN, MenuOp.NEW) else "")
        case ExportPress(department_id):
            data = f"e:{department_id}"
        case InvitePress(role, department_id, create):
            data = f"i:{ROLE_CODES[role]}" + (f":{department_id or 0}" if create else "")
        case RoundPress(year, deadline, layout):
            data = f"n:{year}:{deadline:%Y%m%d}:{layout}"
        case ImportPress(apply):
            data = f"x:{int(apply)}"
        case PreviewPress(department_id, table):
            data = f"v:{department_id}" + ("" if table is None else f":{table}")
        case ReviewPress(ReviewOp.SHOW, form_id, _):
            data = f"rv:s:{form_id}"
        case ReviewPress(ReviewOp.CANCEL, _, _):
            data = "rv:x"
        case ReviewPress(op, form_id, version):
            data = f"rv:{op.value}:{form_id}:{version}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> Callback | None:
    """The callback an id names, or None for anything malformed (forged or from an old bot)."""
    if not data or len(data) > MAX_CALLBACK_BYTES:
        return None
    for kind, pattern in _PATTERNS:
        match = pattern.fullmatch(data)
        if match is None:
            continue
        g = match.groups()
        if kind == "s":
            return StepPress(int(g[0]), int(g[1]), int(g[2]))
        if kind == "j":
            return JumpPress(int(g[0]), int(g[1]), g[2])
        if kind == "f":
            return FormPress(FormOp(g[0]), int(g[1]), int(g[2]))
        if kind == "m":
            return MenuPress(MenuOp(g[0]), int(g[1]) if g[1] is not None else 0)
        if kind == "e":
            return ExportPress(int(g[0]))
        if kind == "i":
            role = CODE_ROLES[g[0]]
            if g[1] is None:
                return InvitePress(role)
            return InvitePress(role, int(g[1]) or None, create=True)
        if kind == "x":
            return ImportPress(g[0] == "1")
        if kind == "v":
            return PreviewPress(int(g[0]), None if g[1] is None else int(g[1]))
        if kind == "rs":
            return ReviewPress(ReviewOp.SHOW, int(g[0]))
        if kind == "rd":
            return ReviewPress(ReviewOp(g[0]), int(g[1]), int(g[2]))
        if kind == "rx":
            return ReviewPress(ReviewOp.CANCEL)
        try:
            deadline = date(int(g[1][:4]), int(g[1][4:6]), int(g[1][6:]))
        except ValueError:
            return None
        return RoundPress(int(g[0]), deadline, g[2])
    return None


# --- building keyboards -----------------------------------------------------------------------


def button(label: str, callback: Callback) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=encode(callback))


def rows_of(
    buttons: Sequence[InlineKeyboardButton], width: int
) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def markup(rows: Sequence[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup | None:
    kept = [list(row) for row in rows if row]
    return InlineKeyboardMarkup(kept) if kept else None


def fix_buttons(form_id: int, version: int, fixes: Sequence[Button]) -> list[InlineKeyboardButton]:
    """An Outcome's fix buttons (jumps to the numbers to correct), re-checked when pressed."""
    found = []
    for fix in fixes[:3]:
        if fix.action.kind is ActionKind.JUMP and fix.action.target:
            try:
                found.append(button(fix.label, JumpPress(form_id, version, fix.action.target)))
            except ValueError:
                continue  # a target too long for callback data is simply not offered
    return found


def prompt_keyboard(
    form_id: int, version: int, prompt: Prompt, fixes: Sequence[Button] = ()
) -> InlineKeyboardMarkup | None:
    """Fix buttons first, then the step's choices, the row buttons (edit/delete pairs), the
    navigation row, and pause / other tables."""
    offered = (*prompt.buttons, *prompt.row_buttons)
    main: list[InlineKeyboardButton] = []
    nav: list[InlineKeyboardButton] = []
    rows_part: list[InlineKeyboardButton] = []
    for index, item in enumerate(offered):
        pressed = button(item.label, StepPress(form_id, version, index))
        if index >= len(prompt.buttons):
            rows_part.append(pressed)
        elif item.action.kind in NAV_KINDS:
            nav.append(pressed)
        else:
            main.append(pressed)
    rows: list[list[InlineKeyboardButton]] = [fix_buttons(form_id, version, fixes)]
    rows += rows_of(main, 2) + rows_of(rows_part, 2) + [nav]
    rows.append(
        [button(PAUSE_LABEL, MenuPress(MenuOp.PAUSE)), button(MENU_LABEL, MenuPress(MenuOp.MENU))]
    )
    return markup(rows)
