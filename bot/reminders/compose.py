"""The messages the reminder log sends: reminders and review notices, one per user and moment.

Every kind of row in the log is a message to a staff member about some of their forms:
reminders (before_7d, on_day, overdue_1, manual …) while the forms are open, and the notice
that a supervisor returned or approved a form. `still_relevant` decides at send time whether a
form still belongs in the message (a form submitted since a reminder was planned drops out).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.keyboards import MenuOp, MenuPress, encode
from bot.progress import FormProgress
from bot.reminders.schedule import MANUAL
from bot.reminders.transport import OutgoingMessage
from bot.texts import local_text, remaining_text, render, shorten
from dialogs.state import FormStatus
from storage.records import Round

RETURNED = "returned"
APPROVED = "approved"
# Notices are about one status; reminders about every form still open.
NOTICE_STATUS = {RETURNED: FormStatus.RETURNED, APPROVED: FormStatus.APPROVED}
MAX_BUTTONS = 6
BUTTON_LABEL = 24
# Approvals wait this long before their notice goes out, and a notice takes in every approval
# of the user's forms logged by then (see dispatcher: coalescing): several approvals for one
# department within a minute reach its staff as one notice. A return asks for work and goes at
# once. (Two messages remain possible only if two workers claim one user's notices in the same
# instant; PostgreSQL's SKIP LOCKED and SQLite's single writer make that a narrow race.)
COALESCE_WINDOW = timedelta(minutes=1)
COALESCED_KINDS = frozenset({APPROVED})


def notice_moment(kind: str, now: datetime) -> datetime:
    """When a review notice of `kind` is due (before the quiet hours move it)."""
    return now + COALESCE_WINDOW if kind in COALESCED_KINDS else now


def still_relevant(kind: str, status: FormStatus) -> bool:
    wanted = NOTICE_STATUS.get(kind)
    return status is wanted if wanted is not None else status.editable


def resume_buttons(forms: Sequence[FormProgress]) -> tuple[tuple[tuple[str, str], ...], ...]:
    """One "continue" button per form (the filling handlers open it at its current step)."""
    return tuple(
        ((f"✏️ 继续填写：{shorten(form.name, BUTTON_LABEL)}", open_form_callback(form.form_id)),)
        for form in forms[:MAX_BUTTONS]
    )


def open_form_callback(form_id: int) -> str:
    """The filling handlers' "open this form" id (bot/keyboards.py: m:c:<form>)."""
    return encode(MenuPress(MenuOp.OPEN, form_id))


def compose(
    kind: str,
    chat_id: int,
    round_: Round,
    forms: Sequence[FormProgress],
    now: datetime,
    zone: ZoneInfo,
    *,
    reviewer: str = "",
) -> OutgoingMessage:
    """The message of one log group (one user, one round, one kind)."""
    common = {
        "round_title": round_.title,
        "deadline": local_text(round_.deadline, zone),
        "remaining": remaining_text(round_.deadline, now),
        "overdue": now >= round_.deadline,
        "forms": forms,
        "reviewer": reviewer,
    }
    if kind == APPROVED:
        return OutgoingMessage(chat_id, render("review_approved", **common))
    if kind == RETURNED:
        return OutgoingMessage(chat_id, render("review_returned", **common), resume_buttons(forms))
    text = render("reminder", manual=kind == MANUAL, **common)
    return OutgoingMessage(chat_id, text, resume_buttons(forms))


def notice_timing(notice_at: datetime, now: datetime, zone: ZoneInfo) -> str:
    """For the supervisor's confirmation: when the staff get the notice ("" for now)."""
    if notice_at <= now:
        return ""
    if notice_at - now <= COALESCE_WINDOW:
        return "，1 分钟后发出（这 1 分钟内对该部门的其他审核合并为一条通知）"
    return f"，将于免打扰时段结束后（{local_text(notice_at, zone)}）发出"
