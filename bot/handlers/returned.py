"""The reviewer's comment on a returned form, shown wherever staff look at the form (the /fill
menu, the form's first screen, the review), not only in the notice that may have scrolled away.

Only the display lives here: the comment itself is the form's stored `review_comment`.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.render import Line
from dialogs.filing import UNNAMED_DIRECTION
from dialogs.state import FormStatus
from storage.records import StoredForm

RETURNED_TITLE = "↩️ 本表已被审核人退回修改"
NO_COMMENT = "（审核人未写意见）"
MAX_COMMENT = 300


def _comment(form: StoredForm) -> str:
    text = (form.review_comment or "").strip() or NO_COMMENT
    return text if len(text) <= MAX_COMMENT else text[: MAX_COMMENT - 1] + "…"


def returned_lines(form: StoredForm) -> list[Line]:
    """The comment of a returned form (nothing for any other status)."""
    if form.status is not FormStatus.RETURNED:
        return []
    return [
        Line(RETURNED_TITLE, "b"),
        Line(f"审核意见：{_comment(form)}"),
        Line("请按意见修改后重新提交。"),
    ]


def menu_lines(forms: Sequence[tuple[str, StoredForm]]) -> list[Line]:
    """For the table menu: each returned form by name with its comment."""
    lines: list[Line] = []
    for name, form in forms:
        if form.status is FormStatus.RETURNED:
            shown = name or UNNAMED_DIRECTION
            lines.append(Line(f"↩️ 「{shown}」被退回修改，审核意见：{_comment(form)}"))
    return lines
