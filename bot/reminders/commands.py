"""Chat commands of the reminders: /status, /remind, /policy, and the review buttons.

  /status [年度]   the round department by department, overdue first (staff: their own)
  /remind          remind every unfinished form in the supervisor's departments now
  /policy [设置]   show or change the round's deadline and reminder policy (bot/reminders/policy)
  rv:s:<form>          show a submitted form with [通过] [退回修改]
  rv:a:<form>:<ver>    approve it          rv:r:<form>:<ver>  return it (the comment follows)
  rv:x                 cancel a return

`register(application)` puts them at the front of handler group 0, ahead of what
bot/handlers registers there (the simple /status they replace, the unknown-button and free-text
catch-alls); the handlers find the runtime that `install_reminders` left in bot_data. They run
behind the gate of bot/handlers/start.py (group -1), which has identified the actor and answered
the button already.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import messages
from bot.handlers.common import BotContext, drop_keyboard, in_thread, say, send_html
from bot.handlers.fill import text_answer
from bot.messages import Notice
from bot.messages import text as notice_text
from bot.reminders import remind, review_flow
from bot.reminders.compose import notice_timing
from bot.reminders.jobs import ReminderRuntime, runtime_of
from bot.reminders.policy import EXAMPLE, PolicyError, parse_settings
from bot.reminders.report import RoundReport, round_report
from bot.reminders.schedule import next_due
from bot.reminders.status_picture import send_round_picture
from bot.reminders.texts import local_text, remaining_text, render, shorten, split_messages
from bot.render import review_messages
from bot.roles import Actor
from bot.service import FilingService
from dialogs.catalogue import Code, Problem
from storage.records import PendingKind, ReminderPolicy, Role, Round
from storage.repos import (
    Expired,
    PendingInputRepository,
    ReturnCommentWait,
    RoundRepository,
)
from storage.repos.pending import RETURN_COMMENT_TTL

REVIEW_PATTERN = r"^rv:"
_SHOW = re.compile(r"rv:s:(\d{1,12})")
_DECIDE = re.compile(r"rv:([ar]):(\d{1,12}):(\d{1,12})")
CANCEL = "rv:x"
MAX_REVIEW_BUTTONS = 10
REVIEWERS_ONLY = notice_text(Notice.REVIEWERS_ONLY)
ROUND_WIDE_ONLY = notice_text(Notice.ROUND_WIDE_ONLY)
REMIND_REPLY_WAIT = 20.0  # seconds /remind waits for its reminders to go out before replying


def register(application: Application[Any, Any, Any, Any, Any, Any], *, group: int = 0) -> None:
    """Add the handlers in front of `group` (in a group only the first matching handler runs)."""
    new_message = filters.UpdateType.MESSAGE  # an edited old message is not a new command
    text = new_message & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
    handlers: list[BaseHandler[Any, Any, Any]] = [
        CommandHandler("status", status_command, filters=new_message),
        CommandHandler("remind", remind_command, filters=new_message),
        CommandHandler("policy", policy_command, filters=new_message),
        CallbackQueryHandler(review_pressed, pattern=REVIEW_PATTERN),
        MessageHandler(text, text_received),
    ]
    for handler in handlers:
        application.add_handler(handler, group)  # creates the group, checks the handler
    in_group = application.handlers[group]
    application.handlers[group] = handlers + [h for h in in_group if h not in handlers]


# --- who is asking ---------------------------------------------------------------------------


def _scope(actor: Actor) -> frozenset[int] | None:
    """Departments the actor follows (None: all)."""
    return actor.scope


def _is_reviewer(actor: Actor) -> bool:
    return actor.role is not Role.STAFF


QUALITY_WORD = "质量"  # `/status 质量`: departments sorted by their indicator quality


def _round(runtime: ReminderRuntime, args: list[str]) -> Round | None:
    """The latest open round, or the open round of the year given as first argument."""
    with runtime.database.transaction() as session:
        rounds = RoundRepository(session)
        if args and re.fullmatch(r"\d{4}", args[0]):
            year = int(args[0])
            return next((r for r in reversed(rounds.list_open()) if r.year == year), None)
        return rounds.latest_open()


# --- /status -----------------------------------------------------------------------------------


async def status_command(update: Update, context: BotContext) -> None:
    actor = context.me
    runtime = runtime_of(context.application)
    round_ = await in_thread(_round, runtime, list(context.args or []))
    if round_ is None:
        await say(update, context, [messages.NO_ROUND])
        return
    scope = _scope(actor)
    if scope == frozenset():
        await say(update, context, [messages.NO_DEPARTMENTS_IN_SCOPE])
        return
    report = await in_thread(_report, runtime, round_, scope)
    by_quality = QUALITY_WORD in (context.args or [])
    if by_quality:
        report = report.by_quality()
    text = render(
        "status",
        report=report,
        by_quality=by_quality,
        deadline=local_text(round_.deadline, runtime.zone),
        remaining=remaining_text(round_.deadline, runtime.clock.now()),
    )
    keyboard = _review_keyboard(report) if _is_reviewer(actor) else None
    if _is_reviewer(actor):  # the round as a picture above the text (staff see one department)
        await send_round_picture(update, context, report, runtime.clock.now(), runtime.zone)
    await send_html(update, context, split_messages(text), keyboard)


def _report(runtime: ReminderRuntime, round_: Round, scope: frozenset[int] | None) -> RoundReport:
    with runtime.database.transaction() as session:
        return round_report(session, round_, runtime.clock.now(), scope)


def _review_keyboard(report: RoundReport) -> InlineKeyboardMarkup | None:
    rows = [
        [
            InlineKeyboardButton(
                f"📝 审核：{shorten(department.name, 12)} · {shorten(form.name, 14)}",
                callback_data=f"rv:s:{form.form_id}",
            )
        ]
        for department, form in report.awaiting_review[:MAX_REVIEW_BUTTONS]
    ]
    return InlineKeyboardMarkup(rows) if rows else None


# --- /remind -----------------------------------------------------------------------------------


async def remind_command(update: Update, context: BotContext) -> None:
    actor = context.me
    if not _is_reviewer(actor):
        await say(update, context, [REVIEWERS_ONLY])
        return
    runtime = runtime_of(context.application)
    round_ = await in_thread(_round, runtime, list(context.args or []))
    if round_ is None:
        await say(update, context, [messages.NO_ROUND])
        return
    now = runtime.clock.now()
    due_at, planned = await in_thread(runtime.planner.plan_manual, round_, _scope(actor), now)
    if planned.new_users and due_at <= now:
        # Sent before replying, so that the reply says what was sent, not what was meant; a
        # long send (behind a big tick) goes on, and the reply tells who is still queued.
        sending = context.application.create_task(runtime.dispatch_now(), name="reminders:remind")
        await asyncio.wait({sending}, timeout=REMIND_REPLY_WAIT)
    found = await in_thread(remind.outcome, runtime.database, round_, planned, due_at, now)
    await send_html(update, context, [remind.reply(found, round_, runtime.zone)])


# --- /policy -----------------------------------------------------------------------------------


async def policy_command(update: Update, context: BotContext) -> None:
    actor = context.me
    runtime = runtime_of(context.application)
    args = list(context.args or [])
    round_ = await in_thread(_round, runtime, args[:1])
    if round_ is None:
        await say(update, context, [messages.NO_ROUND])
        return
    if args and re.fullmatch(r"\d{4}", args[0]):
        args = args[1:]
    changed = bool(args)
    if changed:
        if not actor.sets_round_policy:
            await say(update, context, [ROUND_WIDE_ONLY])
            return
        try:
            policy, deadline = parse_settings(
                " ".join(args), round_.policy, round_.deadline, runtime.zone
            )
        except PolicyError as error:
            await say(update, context, [str(error)])
            return
        round_ = await in_thread(_save_policy, runtime, round_, policy, deadline)
    now = runtime.clock.now()
    upcoming = next_due(round_.deadline, round_.policy, runtime.zone, now)
    text = render(
        "policy",
        round_title=round_.title,
        deadline=local_text(round_.deadline, runtime.zone),
        policy=round_.policy,
        next_time=local_text(upcoming.due_at, runtime.zone) if upcoming else "",
        example=EXAMPLE,
        changed=changed,
        may_change=actor.sets_round_policy,
    )
    await send_html(update, context, [text])


def _save_policy(
    runtime: ReminderRuntime, round_: Round, policy: ReminderPolicy, deadline: datetime
) -> Round:
    with runtime.database.transaction() as session:
        rounds = RoundRepository(session)
        if deadline != round_.deadline:
            rounds.set_deadline(round_.id, deadline)
        return rounds.set_policy(round_.id, policy)


# --- review --------------------------------------------------------------------------------------


async def review_pressed(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    actor = context.me
    runtime = runtime_of(context.application)
    data = query.data or ""
    if data == CANCEL:
        await in_thread(_forget_comment, runtime, actor)
        await drop_keyboard(query)
        await say(update, context, ["已取消退回。"])
        return
    if show := _SHOW.fullmatch(data):
        await _show_card(update, context, runtime, actor, int(show.group(1)))
        return
    decide = _DECIDE.fullmatch(data)
    if decide is None:
        return
    op, form_id, version = decide.group(1), int(decide.group(2)), int(decide.group(3))
    await drop_keyboard(query)
    if op == "r":
        # Check the right to review now, not only when the comment arrives: a forged button
        # must not put anyone into "send the return comment" mode.
        try:
            await in_thread(review_flow.review_card, runtime.database, actor, form_id)
        except review_flow.ReviewError as error:
            await say(update, context, [str(error)])
            return
        await in_thread(_await_comment, runtime, actor, form_id, version)
        cancel = InlineKeyboardMarkup([[InlineKeyboardButton("取消退回", callback_data=CANCEL)]])
        await say(update, context, ["请直接发送退回意见（一条消息），填报人员会收到。"], cancel)
        return
    now = runtime.clock.now()
    try:
        done = await in_thread(
            review_flow.approve, runtime.database, actor, form_id, version, now, runtime.zone
        )
    except review_flow.ReviewError as error:
        await say(update, context, [str(error)])
        return
    await _confirm(update, context, runtime, done, "✅ 已审核通过")


async def _show_card(
    update: Update, context: BotContext, runtime: ReminderRuntime, actor: Actor, form_id: int
) -> None:
    try:
        card = await in_thread(review_flow.review_card, runtime.database, actor, form_id)
    except review_flow.ReviewError as error:
        await say(update, context, [str(error)])
        return
    review = await in_thread(FilingService(runtime.database).review, form_id)
    header = render(
        "review_card",
        department=card.department,
        form=card.progress,
        round_title=card.round_title,
        updated_by=card.updated_by,
        updated_at=local_text(card.form.updated_at, runtime.zone),
    )
    version = card.form.version
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("✅ 通过", callback_data=f"rv:a:{form_id}:{version}"),
                InlineKeyboardButton("↩️ 退回修改", callback_data=f"rv:r:{form_id}:{version}"),
            ]
        ]
    )
    await send_html(update, context, [header, *review_messages(review)], keyboard)


def _await_comment(runtime: ReminderRuntime, actor: Actor, form_id: int, version: int) -> None:
    with runtime.database.transaction() as session:
        PendingInputRepository(session).await_return_comment(
            actor.user.id, form_id, version, now=runtime.clock.now()
        )


def _forget_comment(runtime: ReminderRuntime, actor: Actor) -> None:
    with runtime.database.transaction() as session:
        PendingInputRepository(session).discard(actor.user.id, PendingKind.RETURN_COMMENT)


def _take_comment(
    runtime: ReminderRuntime, actor: Actor
) -> ReturnCommentWait | Expired | None:
    with runtime.database.transaction() as session:
        return PendingInputRepository(session).return_comment(
            actor.user.id, now=runtime.clock.now(), take=True
        )


async def text_received(update: Update, context: BotContext) -> None:
    """Free text: a reviewer's return comment while one is asked of them (the wait is in the
    database, see `_await_comment`); everything else goes on to the filling handler. Reviewers
    never fill forms, so only their text is looked up."""
    actor = context.me
    if _is_reviewer(actor):
        runtime = runtime_of(context.application)
        pending = await in_thread(_take_comment, runtime, actor)
        if pending is not None:
            await comment_received(update, context, runtime, actor, pending)
            raise ApplicationHandlerStop
    await text_answer(update, context)


async def comment_received(
    update: Update,
    context: BotContext,
    runtime: ReminderRuntime,
    actor: Actor,
    pending: ReturnCommentWait | Expired,
) -> None:
    """The supervisor's return comment, taken from the wait (an expired one is refused)."""
    message = update.effective_message
    if message is None:
        return
    if isinstance(pending, Expired):
        minutes = str(int(RETURN_COMMENT_TTL.total_seconds() // 60))
        problem = Problem(Code.RETURN_COMMENT_EXPIRED, {"minutes": minutes})
        await say(update, context, [problem.message])
        return
    now = runtime.clock.now()
    try:
        done = await in_thread(
            review_flow.return_for_changes,
            runtime.database,
            actor,
            pending.form_id,
            pending.version,
            message.text or "",
            now,
            runtime.zone,
        )
    except review_flow.ReviewError as error:
        if error.code is Notice.REVIEW_EMPTY_COMMENT or error.retry:  # ask again
            await in_thread(_await_comment, runtime, actor, pending.form_id, pending.version)
        await say(update, context, [str(error)])
        return
    await _confirm(update, context, runtime, done, "↩️ 已退回修改")


async def _confirm(
    update: Update,
    context: BotContext,
    runtime: ReminderRuntime,
    done: review_flow.ReviewDone,
    what: str,
) -> None:
    lines = [f"{what}：{done.department} · {done.form_name}"]
    if done.notified:
        when = notice_timing(done.notice_at, runtime.clock.now(), runtime.zone)
        lines.append(f"已通知 {done.notified} 位填报人员{when}。")
    else:
        lines.append("⚠ 该部门没有能收到消息的填报人员，请另行通知。")
    await say(update, context, lines)
    runtime.dispatch_when_due(context.application, done.notice_at)
