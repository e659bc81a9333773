"""Review: a supervisor approves a submitted form, or returns it with a comment.

`ReviewService` takes the `Actor` and checks the right itself (`Actor.may_review`: a reviewer
whose scope holds the form's department), in the transaction that acts, so a forged button meets
the same rule as the buttons we sent; the handlers in bot/review/handlers.py only turn presses
and messages into its calls.

A decision is one transaction: FormRepository.set_status (which writes the status and the
comment to the audit log) and, for every reachable staff member of the department, a row in the
reminder log (kind `returned` or `approved`). The notice is sent by the dispatcher like a
reminder, so it survives a restart, is sent once per staff member, waits out the quiet hours,
and is dropped if the form changed status again before it went out. A returned form is editable
again (FormStatus.RETURNED), and the notice carries the "continue" button to it.

A review acts only on the version the supervisor was shown: if staff changed the form (or
another supervisor reviewed it) meanwhile, nothing is written and the supervisor is told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.messages import Notice, Refused
from bot.progress import FormProgress, form_name, form_progress
from bot.reminders.compose import APPROVED, RETURNED, notice_moment
from bot.reminders.planner import reachable_staff
from bot.reminders.schedule import leave_quiet_hours
from bot.roles import Actor, RefusedText, check_typed_text
from bot.service import FilingService
from dialogs.loader import get_layout
from dialogs.review import Review
from dialogs.state import FormStatus
from storage.db import Database
from storage.records import PendingKind, StaleVersionError, StoredForm
from storage.repos import (
    DepartmentRepository,
    Expired,
    FormRepository,
    PendingInputRepository,
    ReminderLogRepository,
    RoundRepository,
    UserRepository,
)
from storage.repos.pending import RETURN_COMMENT_TTL

MAX_COMMENT = 1000


# A refused or empty comment is asked for again: the supervisor just sends another message.
ASKED_AGAIN = frozenset({Notice.REVIEW_EMPTY_COMMENT, Notice.REVIEW_COMMENT_REFUSED})


@dataclass(frozen=True)
class ReviewCard:
    """What the supervisor sees before deciding."""

    form: StoredForm
    progress: FormProgress
    department: str
    round_title: str
    updated_by: str
    review: Review


@dataclass(frozen=True)
class ReviewDone:
    form: StoredForm
    form_name: str
    department: str
    notified: int  # staff members who will get the notice
    notice_at: datetime  # now, or when the quiet hours end


class ReviewService:
    def __init__(self, database: Database, zone: ZoneInfo, clock: Clock) -> None:
        self.database = database
        self.zone = zone
        self.clock = clock

    def card(self, actor: Actor, form_id: int) -> ReviewCard:
        with self.database.reading() as session:
            form = self._reviewable(session, actor, form_id)
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
            review=FilingService(self.database).review(form_id),
        )

    def approve(self, actor: Actor, form_id: int, version: int) -> ReviewDone:
        with self.database.transaction() as session:
            return self._decide(session, actor, form_id, version, FormStatus.APPROVED, None)

    def ask_comment(self, actor: Actor, form_id: int, version: int) -> None:
        """Wait for the supervisor's return comment (their next message). The right is checked
        now, not only when the comment comes: a forged button must not put anyone into
        "send the return comment" mode."""
        with self.database.transaction() as session:
            self._reviewable(session, actor, form_id)
            PendingInputRepository(session).await_return_comment(
                actor.user.id, form_id, version, now=self.clock.now()
            )

    def cancel_comment(self, actor: Actor) -> None:
        with self.database.transaction() as session:
            PendingInputRepository(session).discard(actor.user.id, PendingKind.RETURN_COMMENT)

    def comment(self, actor: Actor, text: str) -> ReviewDone | None:
        """Return the form the supervisor is commenting on with `text`; None when no comment is
        awaited from them (the text is something else). One transaction: the wait is taken, or
        kept for another try when the comment is refused."""
        if not actor.reviews:
            return None  # only reviewers are ever asked: everyone else's text is not looked up
        now = self.clock.now()
        with self.database.transaction() as session:
            waits = PendingInputRepository(session)
            pending = waits.return_comment(actor.user.id, now=now, take=True)
            if pending is None:
                return None
            if isinstance(pending, Expired):
                minutes = str(int(RETURN_COMMENT_TTL.total_seconds() // 60))
                refusal = Refused(Notice.REVIEW_COMMENT_EXPIRED, {"minutes": minutes})
            else:
                try:  # every refusal comes before the first write of the decision
                    comment = self._checked_comment(text)
                    return self._decide(
                        session,
                        actor,
                        pending.form_id,
                        pending.version,
                        FormStatus.RETURNED,
                        comment,
                    )
                except Refused as error:
                    if error.code in ASKED_AGAIN:
                        waits.await_return_comment(
                            actor.user.id, pending.form_id, pending.version, now=now
                        )
                    refusal = error
        raise refusal

    def return_for_changes(
        self, actor: Actor, form_id: int, version: int, comment: str
    ) -> ReviewDone:
        comment = self._checked_comment(comment)
        with self.database.transaction() as session:
            return self._decide(session, actor, form_id, version, FormStatus.RETURNED, comment)

    # --- the rules -------------------------------------------------------------------------------

    @staticmethod
    def _checked_comment(text: str) -> str:
        comment = text.strip()[:MAX_COMMENT]
        if not comment:
            raise Refused(Notice.REVIEW_EMPTY_COMMENT)
        try:
            check_typed_text(comment, "退回意见", "请补充产出指标的目标值")
        except RefusedText as error:
            problem = {"problem": error.problem.message}
            raise Refused(Notice.REVIEW_COMMENT_REFUSED, problem) from None
        return comment

    @staticmethod
    def _reviewable(session: Session, actor: Actor, form_id: int) -> StoredForm:
        form = FormRepository(session).get(form_id)
        if form is None:
            raise Refused(Notice.REVIEW_NOT_FOUND)
        if not actor.may_review(form.department_id):
            raise Refused(Notice.REVIEW_NOT_ALLOWED)
        if form.status is not FormStatus.SUBMITTED:
            raise Refused(Notice.REVIEW_NOT_SUBMITTED, {"status": form.status.label})
        return form

    def _decide(
        self,
        session: Session,
        actor: Actor,
        form_id: int,
        version: int,
        status: FormStatus,
        comment: str | None,
    ) -> ReviewDone:
        kind = RETURNED if status is FormStatus.RETURNED else APPROVED
        now = self.clock.now()
        forms = FormRepository(session)
        form = forms.get(form_id)
        if form is None:
            raise Refused(Notice.REVIEW_NOT_FOUND)
        if not actor.may_review(form.department_id):
            raise Refused(Notice.REVIEW_NOT_ALLOWED)
        if form.version != version or form.status is not FormStatus.SUBMITTED:
            raise Refused(Notice.REVIEW_CHANGED, {"status": form.status.label})
        try:
            forms.set_status(
                form_id,
                status,
                expected_version=version,
                actor_user_id=actor.user.id,
                comment=comment,
                action=f"review:{kind}",
                now=now,
            )
        except StaleVersionError as error:  # changed between our read and our write
            current = {"status": error.current.status.label}
            raise Refused(Notice.REVIEW_CHANGED, current) from None
        round_ = RoundRepository(session).get(form.round_id)
        department = DepartmentRepository(session).get(form.department_id)
        assert round_ is not None and department is not None
        # The exact moment (not the minute) keys the notice: a second return of the same
        # form is a second notice. Approvals wait out the coalescing window (compose.py).
        notice_at = leave_quiet_hours(notice_moment(kind, now), round_.policy, self.zone)
        log = ReminderLogRepository(session)
        staff = reachable_staff(session, form.department_id)
        for user in staff:
            log.schedule(user.id, form.id, round_.id, notice_at, kind, now=now)
        updated = forms.load(form_id)
        name = form_name(get_layout(round_.layout), updated)
        return ReviewDone(updated, name, department.name, len(staff), notice_at)
