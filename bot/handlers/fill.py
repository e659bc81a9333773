"""Filling in: /fill and its table menu, typed answers, step buttons, jumps, /cancel."""

from __future__ import annotations

from telegram import InlineKeyboardButton, Update

from bot import messages
from bot.carryover import CarryOverService
from bot.handlers.common import BotContext, drop_keyboard, in_thread, say
from bot.handlers.returned import menu_lines
from bot.handlers.screens import send_review, show_opened, show_result, show_step
from bot.handlers.status import status_service
from bot.keyboards import (
    JumpPress,
    MenuOp,
    MenuPress,
    StepPress,
    button,
    decode,
    markup,
    pressed_button,
)
from bot.render import Line
from bot.roles import Actor
from bot.service import AnswerRefused
from dialogs.actions import Action, ActionKind
from dialogs.definition import TableKind
from dialogs.loader import get_layout
from storage.records import Role, Round, StoredForm


async def staff_round(update: Update, context: BotContext) -> tuple[Actor, Round] | None:
    """The filling user and the open round, or None after telling them why not."""
    actor = context.me
    if not actor.fills:
        text = messages.NO_DEPARTMENT if actor.role is Role.STAFF else messages.NOT_STAFF
        await say(update, context, [text])
        return None
    round_ = await in_thread(context.deps.directory.current_round)
    if round_ is None:
        await say(update, context, [messages.NO_ROUND])
        return None
    return actor, round_


async def fillable_form(update: Update, context: BotContext, form_id: int) -> StoredForm | None:
    """The form if this user may change it (their own department's), else None after saying so;
    forged ids of other departments end here."""
    form = await in_thread(context.deps.directory.form, form_id)
    if form is None or not context.me.may_fill(form.department_id):
        await say(update, context, [messages.NOT_ALLOWED])
        return None
    return form


# --- the table menu ------------------------------------------------------------------------------


def _progress_text(done: int, total: int, status_label: str, editable: bool) -> str:
    return f"{status_label} {done}/{total}" if editable else status_label


async def send_menu(
    update: Update, context: BotContext, actor: Actor, round_: Round, note: str = ""
) -> None:
    own = await in_thread(status_service(context).department_forms, actor, round_)
    if own is None:
        await say(update, context, [messages.NO_DEPARTMENT])
        return
    layout = get_layout(round_.layout)
    table_a = next((f for f in own.forms if f.kind is TableKind.A), None)
    a_state = "未开始"
    if table_a is not None:
        a_state = _progress_text(
            table_a.sections_done,
            table_a.section_count,
            table_a.status.label,
            table_a.status.editable,
        )
    rows: list[list[InlineKeyboardButton]] = [
        [button(f"📝 {layout.table_a.name}（{a_state}）", MenuPress(MenuOp.TABLE_A))]
    ]
    directions = [f for f in own.forms if f.kind is TableKind.C]
    for line in directions:
        state = _progress_text(
            line.sections_done, line.section_count, line.status.label, line.status.editable
        )
        label = f"📄 支出方向：{line.name}（{state}）"
        rows.append([button(label[:60], MenuPress(MenuOp.OPEN, line.form_id))])
    rows.append([button("➕ 新增支出方向", MenuPress(MenuOp.NEW, len(directions)))])
    stored = await in_thread(context.deps.service.forms_of, own.department.id, round_.id)
    names = {line.form_id: line.name for line in own.forms}
    returned = [(names.get(form.id, ""), form) for form in stored]
    lines: list[Line | str] = [note] if note else []
    lines += [f"📂 {round_.year}年 · {own.department.name}", *menu_lines(returned)]
    if not own.forms:
        carry = CarryOverService(context.deps.service)
        year = await in_thread(carry.offer, own.department.id, round_.id)
        if year is not None:
            lines.append(messages.CARRY_OVER_HINT.format(year=year))
            label = messages.CARRY_OVER_BUTTON.format(year=year)
            offer = button(label, MenuPress(MenuOp.CARRY_OVER))
            rows.insert(0, [offer])
    lines.append("请选择要填写的表格：")
    await say(update, context, lines, markup(rows))


async def fill_command(update: Update, context: BotContext) -> None:
    """/fill: back to the exact step of the form in progress, else the table menu."""
    found = await staff_round(update, context)
    if found is None:
        return
    actor, round_ = found
    service = context.deps.service
    form_id = await in_thread(service.current_form_id, actor.user.id)
    form = await in_thread(context.deps.directory.form, form_id) if form_id else None
    if (
        form is not None
        and form.round_id == round_.id
        and actor.may_fill(form.department_id)
        and form.status.editable
    ):
        view = await in_thread(service.open_form, form.id, actor.user.id)
        await show_opened(update, context, view)
        return
    await send_menu(update, context, actor, round_)


async def menu_press(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, MenuPress)
    await drop_keyboard(query)
    if press.op is MenuOp.PAUSE:
        await say(update, context, [messages.PAUSED])
        return
    found = await staff_round(update, context)
    if found is None:
        return
    actor, round_ = found
    service = context.deps.service
    department_id = actor.user.department_id
    assert department_id is not None
    if press.op is MenuOp.MENU:
        await send_menu(update, context, actor, round_)
    elif press.op is MenuOp.TABLE_A:
        view = await in_thread(service.open_table_a, department_id, round_.id, actor.user.id)
        await show_opened(update, context, view)
    elif press.op is MenuOp.OPEN:
        if await fillable_form(update, context, press.number) is not None:
            view = await in_thread(service.open_form, press.number, actor.user.id)
            await show_opened(update, context, view)
    elif press.op is MenuOp.CARRY_OVER:
        await _start_from_last_year(update, context, actor, round_)
    elif press.op is MenuOp.NEW:
        forms = await in_thread(service.forms_of, department_id, round_.id)
        count = sum(1 for f in forms if f.kind is TableKind.C)
        if count != press.number:
            # An old menu, or a second tap: never create a direction the user did not see.
            await send_menu(update, context, actor, round_, note="表格列表已更新，请重新选择。")
            return
        view = await in_thread(service.new_direction, department_id, round_.id, actor.user.id)
        await show_opened(update, context, view)


async def _start_from_last_year(
    update: Update, context: BotContext, actor: Actor, round_: Round
) -> None:
    department_id = actor.user.department_id
    assert department_id is not None
    carried = await in_thread(
        CarryOverService(context.deps.service).start, department_id, round_.id, actor.user.id
    )
    if carried is None:
        await send_menu(update, context, actor, round_, note=messages.CARRY_OVER_REFUSED)
        return
    lines = [messages.CARRY_OVER_DONE.format(year=carried.from_year, count=carried.tables)]
    if carried.not_copied:
        lines.append(messages.CARRY_OVER_ASKED.format(labels="、".join(carried.not_copied)))
    lines.append(messages.CARRY_OVER_YEAR_NOTE.format(year=carried.from_year))
    await say(update, context, lines)
    view = await in_thread(context.deps.service.open_form, carried.first_form_id, actor.user.id)
    await show_opened(update, context, view)


# --- answering -----------------------------------------------------------------------------------


async def text_answer(update: Update, context: BotContext) -> None:
    """Free text answers the current step of the user's current form."""
    message = update.message
    assert message is not None and message.text is not None
    result = await in_thread(context.deps.service.answer, context.me, message.text)
    if result is AnswerRefused.NOT_STAFF:
        await say(update, context, [messages.NOT_STAFF])
    elif result is AnswerRefused.NO_CURRENT_FORM:
        await say(update, context, [messages.NO_CURRENT_FORM])
    else:
        await show_result(update, context, result)


async def step_press(update: Update, context: BotContext) -> None:
    """A button of a prompt: re-derived from the form's current prompt at the pressed version."""
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, StepPress)
    form = await fillable_form(update, context, press.form_id)
    if form is None:
        return
    service = context.deps.service
    view = await in_thread(service.view, form.id)
    chosen = pressed_button(view.prompt, press.index) if form.version == press.version else None
    if chosen is None or view.form.version != press.version:
        await drop_keyboard(query)
        await show_step(update, context, view, [messages.STALE_BUTTON])
        return
    if chosen.action.kind is ActionKind.REVIEW:
        await send_review(update, context, form.id, may_submit=True)
        return
    result = await in_thread(
        service.act, form.id, chosen.action, context.me.user.id, expected_version=press.version
    )
    await drop_keyboard(query)
    await show_result(update, context, result)


async def jump_press(update: Update, context: BotContext) -> None:
    """A fix button: go to the step to correct (the engine refuses unreachable targets)."""
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, JumpPress)
    action = Action(ActionKind.JUMP, target=press.target)
    result = await in_thread(
        context.deps.service.act_as,
        context.me,
        press.form_id,
        action,
        expected_version=press.version,
    )
    if isinstance(result, AnswerRefused):
        await say(update, context, [messages.NOT_ALLOWED])
        return
    await drop_keyboard(query)
    await show_result(update, context, result)


async def cancel_command(update: Update, context: BotContext) -> None:
    """/cancel pauses: every confirmed answer is already committed, so there is nothing to do."""
    await say(update, context, [messages.PAUSED])


async def other_message(update: Update, context: BotContext) -> None:
    await say(update, context, [messages.SEND_TEXT_ONLY])
