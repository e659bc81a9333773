"""/review and /submit, and the review's buttons (review, submit, confirm after warnings)."""

from __future__ import annotations

from telegram import Update

from bot import messages
from bot.carryover import CarryOverService
from bot.handlers.common import BotContext, drop_keyboard, in_thread, say
from bot.handlers.fill import fillable_form
from bot.handlers.screens import send_review, show_result
from bot.keyboards import FormOp, FormPress, decode
from dialogs.actions import Action, ActionKind
from storage.records import StoredForm


async def current_form(update: Update, context: BotContext) -> StoredForm | None:
    """The form the user is filling, or None after saying how to pick one."""
    actor = context.me
    if not actor.fills:
        await say(update, context, [messages.NOT_STAFF])
        return None
    form_id = await in_thread(context.deps.service.current_form_id, actor.user.id)
    form = await in_thread(context.deps.directory.form, form_id) if form_id else None
    if form is None or not actor.may_fill(form.department_id):
        await say(update, context, [messages.NO_CURRENT_FORM])
        return None
    return form


async def review_command(update: Update, context: BotContext) -> None:
    form = await current_form(update, context)
    if form is not None:
        await send_review(update, context, form.id, may_submit=True)


async def submit_command(update: Update, context: BotContext) -> None:
    form = await current_form(update, context)
    if form is None:
        return
    result = await in_thread(
        context.deps.service.act, form.id, Action(ActionKind.SUBMIT), context.me.user.id
    )
    await show_result(update, context, result)


async def form_press(update: Update, context: BotContext) -> None:
    """r: review (anyone who may see the department), u: submit, c: submit despite warnings."""
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, FormPress)
    actor = context.me
    if press.op is FormOp.REVIEW:
        form = await in_thread(context.deps.directory.form, press.form_id)
        if form is None or not actor.may_view(form.department_id):
            await say(update, context, [messages.NOT_ALLOWED])
            return
        await send_review(update, context, form.id, may_submit=actor.may_fill(form.department_id))
        return
    if await fillable_form(update, context, press.form_id) is None:
        return
    if press.op is FormOp.UPDATE_YEAR:
        await _update_old_year(update, context, press.form_id, press.version)
        return
    target = "confirmed" if press.op is FormOp.CONFIRM else ""
    result = await in_thread(
        context.deps.service.act,
        press.form_id,
        Action(ActionKind.SUBMIT, target=target),
        actor.user.id,
        expected_version=press.version,
    )
    await drop_keyboard(query)
    await show_result(update, context, result)


async def _update_old_year(
    update: Update, context: BotContext, form_id: int, version: int
) -> None:
    """The one-press update of texts copied from last year, then the review again."""
    query = update.callback_query
    assert query is not None
    carry = CarryOverService(context.deps.service)
    before = await in_thread(carry.last_year, form_id)
    done = await in_thread(carry.update_years, form_id, context.me.user.id, version)
    await drop_keyboard(query)
    if not done or before is None:
        await say(update, context, [messages.OLD_YEAR_STALE])
    else:
        text = messages.OLD_YEAR_UPDATED.format(from_year=before.from_year, to_year=before.to_year)
        await say(update, context, [text])
    await send_review(update, context, form_id, may_submit=True)
