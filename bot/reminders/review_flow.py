"""Review: a supervisor approves a submitted form, or returns it with a comment.

Both are one transaction: FormRepository.set_status (which writes the status and the comment to
the audit log) and, for every reachable staff member of the department, a row in the reminder
log (kind `returned` or `approved`). The notice is sent by the dispatcher like a reminder, so it
survives a restart, is sent once per staff member, waits out the quiet hours, and is dropped if
the form changed status again before it went out. A returned form is editable again
(FormStatus.RETURNED), and the notice carries the "continue" button to it.

A review acts only on the version the supervisor was shown: if staff changed the form (or
another supervisor reviewed it) meanwhile, nothing is written and the supervisor is told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.messages import Notice, Refusal
from bot.reminders.compose import APPROVED, RETURNED, notice_moment
from bot.reminders.planner import reachable_staff
from bot.reminders.progress import FormProgress, form_name, form_progress
from bot.reminders.schedule import leave_quiet_hours
from bot.roles import Actor, RefusedText, check_typed_text
from dialogs.loader import get_layout
from dialogs.state import FormStatus
from storage.db import Database
from storage.records import Role, StaleVersionError, StoredForm
from storage.repos import (
    DepartmentRepository,
    FormRepository,
    ReminderLogRepository,
    RoundRepository,
    UserRepository,
)

MAX_COMMENT = 1000


class ReviewError(Refusal):
    """A review that cannot be done; the message is for the supervisor, the code for tests."""

    retry = False  # the supervisor is asked for the comment again


class CommentRefused(ReviewError):
    retry = True


@dataclass(frozen=True)
class ReviewCard:
    """What the supervisor sees before deciding."""

    form: StoredForm
    progress: FormProgress
    department: str
    round_title: str
    updated_by: str


@dataclass(frozen=True)
class ReviewDone:
    form: StoredForm
    form_name: str
    department: str
    notified: int  # staff members who will get the notice
    notice_at: datetime  # now, or when the quiet hours end


def may_review(actor: Actor, department_id: int) -> bool:
    return actor.role is not Role.STAFF and actor.may_view(department_id)


def review_card(database: Database, actor: Actor, form_id: int) -> ReviewCard:
    with database.transaction() as session:
        form = FormRepository(session).get(form_id)
        if form is None:
            raise ReviewError(Notice.REVIEW_NOT_FOUND)
        if not may_review(actor, form.department_id):
            raise ReviewError(Notice.REVIEW_NOT_ALLOWED)
        if form.status is not FormStatus.SUBMITTED:
            raise ReviewError(Notice.REVIEW_NOT_SUBMITTED, status=form.status.label)
        round_ = RoundRepository(session).get(form.round_id)
        department = DepartmentRepository(session).get(form.department_id)
        author = UserRepository(session).get(form.updated_by) if form.updated_by else None
        assert round_ is not None and department is not None
        return ReviewCard(
            form=form,
            progress=form_progress(get_layout(round_.layout), form),
            department=department.name,
            round_title=round_.title,
            updated_by=author.display_name if author is not None else "",
        )


def approve(
    database: Database, actor: Actor, form_id: int, version: int, now: datetime, zone: ZoneInfo
) -> ReviewDone:
    return _review(database, actor, form_id, version, FormStatus.APPROVED, None, now, zone)


def return_for_changes(
    database: Database,
    actor: Actor,
    form_id: int,
    version: int,
    comment: str,
    now: datetime,
    zone: ZoneInfo,
) -> ReviewDone:
    comment = comment.strip()[:MAX_COMMENT]
    if not comment:
        raise ReviewError(Notice.REVIEW_EMPTY_COMMENT)
    try:
        check_typed_text(comment, "退回意见", "请补充产出指标的目标值")
    except RefusedText as error:
        raise CommentRefused(Notice.REVIEW_COMMENT_REFUSED, reason=error.problem.message) from None
    return _review(database, actor, form_id, version, FormStatus.RETURNED, comment, now, zone)


def _review(
    database: Database,
    actor: Actor,
    form_id: int,
    version: int,
    status: FormStatus,
    comment: str | None,
    now: datetime,
    zone: ZoneInfo,
) -> ReviewDone:
    kind = RETURNED if status is FormStatus.RETURNED else APPROVED
    try:
        with database.transaction() as session:
            forms = FormRepository(session)
            form = forms.get(form_id)
            if form is None:
                raise ReviewError(Notice.REVIEW_NOT_FOUND)
            if not may_review(actor, form.department_id):
                raise ReviewError(Notice.REVIEW_NOT_ALLOWED)
            if form.version != version or form.status is not FormStatus.SUBMITTED:
                raise ReviewError(Notice.REVIEW_CHANGED, status=form.status.label)
            forms.set_status(
                form_id,
                status,
                expected_version=version,
                actor_user_id=actor.user.id,
                comment=comment,
                action=f"review:{kind}",
                now=now,
            )
            round_ = RoundRepository(session).get(form.round_id)
            department = DepartmentRepository(session).get(form.department_id)
            assert round_ is not None and department is not None
            # The exact moment (not the minute) keys the notice: a second return of the same
            # form is a second notice. Approvals wait out the coalescing window (compose.py).
            notice_at = leave_quiet_hours(notice_moment(kind, now), round_.policy, zone)
            log = ReminderLogRepository(session)
            staff = reachable_staff(session, form.department_id)
            for user in staff:
                log.schedule(user.id, form.id, round_.id, notice_at, kind, now=now)
            updated = forms.load(form_id)
            name = form_name(get_layout(round_.layout), updated)
            return ReviewDone(updated, name, department.name, len(staff), notice_at)
    except StaleVersionError as error:  # changed between our read and our write
        raise ReviewError(Notice.REVIEW_CHANGED, status=error.current.status.label) from None
