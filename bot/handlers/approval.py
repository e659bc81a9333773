"""The review buttons and the return comment: presses and messages in, ReviewService calls out.

[📝 审核] (under /status)  the form's card and its review, with [✅ 通过] [↩️ 退回修改]
[↩️ 退回修改]               asks for the comment (the supervisor's next message)
[取消退回]                 stops waiting for it
"""

from __future__ import annotations

from telegram import Update

from bot.clock import clock_of
from bot.handlers.common import BotContext, drop_keyboard, in_thread, say, send_html
from bot.keyboards import ReviewOp, ReviewPress, button, decode, markup
from bot.messages import Refused
from bot.reminders.compose import notice_timing
from bot.reminders.jobs import runtime_of
from bot.render import review_messages
from bot.review.service import ReviewDone, ReviewService
from bot.texts import local_text, render

ASK_COMMENT = "请直接发送退回意见（一条消息），填报人员会收到。"
CANCELLED = "已取消退回。"
CANCEL_LABEL = "取消退回"
APPROVED = "✅ 已审核通过"
RETURNED = "↩️ 已退回修改"
NOBODY_NOTIFIED = "⚠ 该部门没有能收到消息的填报人员，请另行通知。"


def review_service(context: BotContext) -> ReviewService:
    return ReviewService(
        context.deps.database, context.deps.settings.zone, clock_of(context.bot_data)
    )


async def review_press(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, ReviewPress)
    service = review_service(context)
    actor = context.me
    try:
        if press.op is ReviewOp.SHOW:
            await _show_card(update, context, service, press.form_id)
            return
        await drop_keyboard(query)
        if press.op is ReviewOp.CANCEL:
            await in_thread(service.cancel_comment, actor)
            await say(update, context, [CANCELLED])
        elif press.op is ReviewOp.RETURN:
            await in_thread(service.ask_comment, actor, press.form_id, press.version)
            cancel = markup([[button(CANCEL_LABEL, ReviewPress(ReviewOp.CANCEL))]])
            await say(update, context, [ASK_COMMENT], cancel)
        else:
            done = await in_thread(service.approve, actor, press.form_id, press.version)
            await _confirm(update, context, done, APPROVED)
    except Refused as error:
        await say(update, context, [error.message])


async def comment_received(update: Update, context: BotContext) -> bool:
    """A reviewer's return comment, while one is asked of them (the wait is in the database);
    False when the text is not one, and goes on to the filling handler."""
    message = update.effective_message
    if message is None:
        return False
    service = review_service(context)
    try:
        done = await in_thread(service.comment, context.me, message.text or "")
    except Refused as error:
        await say(update, context, [error.message])
        return True
    if done is None:
        return False
    await _confirm(update, context, done, RETURNED)
    return True


async def _show_card(
    update: Update, context: BotContext, service: ReviewService, form_id: int
) -> None:
    card = await in_thread(service.card, context.me, form_id)
    header = render(
        "review_card",
        department=card.department,
        form=card.progress,
        round_title=card.round_title,
        updated_by=card.updated_by,
        updated_at=local_text(card.form.updated_at, service.zone),
    )
    version = card.form.version
    keyboard = markup(
        [
            [
                button("✅ 通过", ReviewPress(ReviewOp.APPROVE, form_id, version)),
                button("↩️ 退回修改", ReviewPress(ReviewOp.RETURN, form_id, version)),
            ]
        ]
    )
    await send_html(update, context, [header, *review_messages(card.review)], keyboard)


async def _confirm(update: Update, context: BotContext, done: ReviewDone, what: str) -> None:
    runtime = runtime_of(context.application)
    lines = [f"{what}：{done.department} · {done.form_name}"]
    if done.notified:
        when = notice_timing(done.notice_at, runtime.clock.now(), runtime.zone)
        lines.append(f"已通知 {done.notified} 位填报人员{when}。")
    else:
        lines.append(NOBODY_NOTIFIED)
    await say(update, context, lines)
    runtime.dispatch_when_due(context.application, done.notice_at)
