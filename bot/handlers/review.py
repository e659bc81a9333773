"""/review and /submit, and the review's buttons (review, submit, confirm after warnings)."""

from __future__ import annotations

from telegram import Update

from bot import messages
from bot.carryover import CarryOverService
from bot.handlers.common import BotContext, drop_keyboard, in_thread, say
from bot.handlers.screens import send_review, show_result
from bot.keyboards import FormOp, FormPress, decode
from bot.messages import Notice, Refused, text


async def review_command(update: Update, context: BotContext) -> None:
    shown = await in_thread(context.deps.service.current_review, context.me)
    if isinstance(shown, Refused):
        await say(update, context, [shown.message])
    else:
        await send_review(update, context, shown)


async def submit_command(update: Update, context: BotContext) -> None:
    result = await in_thread(context.deps.service.submit, context.me)
    if isinstance(result, Refused):
        await say(update, context, [result.message])
    else:
        await show_result(update, context, result)


async def form_press(update: Update, context: BotContext) -> None:
    """r: review (anyone who may see the department), u: submit, c: submit despite warnings,
    y: update the year of texts copied from last year."""
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, FormPress)
    service, actor = context.deps.service, context.me
    if press.op is FormOp.REVIEW:
        shown = await in_thread(service.review_as, actor, press.form_id)
        if isinstance(shown, Refused):
            await say(update, context, [shown.message])
        else:
            await send_review(update, context, shown)
        return
    if press.op is FormOp.UPDATE_YEAR:
        await _update_old_year(update, context, press.form_id, press.version)
        return
    result = await in_thread(
        service.submit,
        actor,
        press.form_id,
        expected_version=press.version,
        confirmed=press.op is FormOp.CONFIRM,
    )
    if isinstance(result, Refused):
        await say(update, context, [result.message])
        return
    await drop_keyboard(query)
    await show_result(update, context, result)


async def _update_old_year(
    update: Update, context: BotContext, form_id: int, version: int
) -> None:
    """The one-press update of texts copied from last year, then the review again."""
    query = update.callback_query
    assert query is not None
    carry = CarryOverService(context.deps.service)
    before = await in_thread(carry.update_years_as, context.me, form_id, version)
    if isinstance(before, Refused):
        await say(update, context, [before.message])
        return
    await drop_keyboard(query)
    if before is None:
        await say(update, context, [text(Notice.OLD_YEAR_STALE)])
    else:
        years = {"from_year": before.from_year, "to_year": before.to_year}
        await say(update, context, [messages.OLD_YEAR_UPDATED.format(**years)])
    shown = await in_thread(context.deps.service.review_as, context.me, form_id)
    if not isinstance(shown, Refused):
        await send_review(update, context, shown)
