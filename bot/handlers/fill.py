"""Filling in: /fill and its table menu, typed answers, step buttons, jumps, /cancel."""

from __future__ import annotations

from telegram import InlineKeyboardButton, Update

from bot import messages
from bot.carryover import CarryOverService
from bot.handlers.common import BotContext, drop_keyboard, in_thread, say
from bot.handlers.returned import menu_lines
from bot.handlers.screens import send_review, show_opened, show_result
from bot.keyboards import (
    JumpPress,
    MenuOp,
    MenuPress,
    StepPress,
    button,
    decode,
    markup,
)
from bot.messages import Notice, Refused, text
from bot.render import Line
from bot.service import AnswerRefused, FormReview, FormView, MenuLine, TableMenu
from dialogs.loader import get_layout


async def refuse(update: Update, context: BotContext, refused: Refused) -> None:
    await say(update, context, [refused.message])


# --- the table menu ------------------------------------------------------------------------------


def _progress_text(line: MenuLine) -> str:
    status = line.form.status
    done, total = line.sections_done, line.section_count
    return f"{status.label} {done}/{total}" if status.editable else status.label


async def send_menu(update: Update, context: BotContext, menu: TableMenu, note: str = "") -> None:
    layout = get_layout(menu.round.layout)
    a_state = "未开始"
    if menu.table_a is not None:
        a_state = _progress_text(menu.table_a)
    rows: list[list[InlineKeyboardButton]] = [
        [button(f"📝 {layout.table_a.name}（{a_state}）", MenuPress(MenuOp.TABLE_A))]
    ]
    for line in menu.directions:
        label = f"📄 支出方向：{line.name}（{_progress_text(line)}）"
        rows.append([button(label[:60], MenuPress(MenuOp.OPEN, line.form.id))])
    rows.append([button("➕ 新增支出方向", MenuPress(MenuOp.NEW, len(menu.directions)))])
    lines: list[Line | str] = [note] if note else []
    lines += [f"📂 {menu.round.year}年 · {menu.department.name}"]
    lines += menu_lines([(line.name, line.form) for line in menu.lines])
    if not menu.lines:
        carry = CarryOverService(context.deps.service)
        year = await in_thread(carry.offer, menu.department.id, menu.round.id)
        if year is not None:
            lines.append(messages.CARRY_OVER_HINT.format(year=year))
            label = messages.CARRY_OVER_BUTTON.format(year=year)
            offer = button(label, MenuPress(MenuOp.CARRY_OVER))
            rows.insert(0, [offer])
    lines.append("请选择要填写的表格：")
    await say(update, context, lines, markup(rows))


async def show_menu(update: Update, context: BotContext, note: str = "") -> None:
    menu = await in_thread(context.deps.service.menu, context.me)
    if isinstance(menu, Refused):
        await refuse(update, context, menu)
    else:
        await send_menu(update, context, menu, note)


async def show_opened_or_refuse(
    update: Update, context: BotContext, view: FormView | Refused
) -> None:
    if isinstance(view, Refused):
        await refuse(update, context, view)
    else:
        await show_opened(update, context, view)


async def fill_command(update: Update, context: BotContext) -> None:
    """/fill: back to the exact step of the form in progress, else the table menu."""
    found = await in_thread(context.deps.service.resume, context.me)
    if isinstance(found, TableMenu):
        await send_menu(update, context, found)
    else:
        await show_opened_or_refuse(update, context, found)


async def menu_press(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, MenuPress)
    await drop_keyboard(query)
    service, actor = context.deps.service, context.me
    if press.op is MenuOp.PAUSE:
        await say(update, context, [messages.PAUSED])
    elif press.op is MenuOp.MENU:
        await show_menu(update, context)
    elif press.op is MenuOp.TABLE_A:
        await show_opened_or_refuse(
            update, context, await in_thread(service.open_own_table_a, actor)
        )
    elif press.op is MenuOp.OPEN:
        await show_opened_or_refuse(
            update, context, await in_thread(service.open_as, actor, press.number)
        )
    elif press.op is MenuOp.CARRY_OVER:
        await _start_from_last_year(update, context)
    elif press.op is MenuOp.NEW:
        view = await in_thread(service.add_direction, actor, press.number)
        if isinstance(view, Refused) and view.code is Notice.MENU_CHANGED:
            # An old menu, or a second tap: never create a direction the user did not see.
            await show_menu(update, context, note=view.message)
        else:
            await show_opened_or_refuse(update, context, view)


async def _start_from_last_year(update: Update, context: BotContext) -> None:
    carried = await in_thread(CarryOverService(context.deps.service).start_as, context.me)
    if isinstance(carried, Refused):
        if carried.code is Notice.CARRY_OVER_REFUSED:
            await show_menu(update, context, note=carried.message)
        else:
            await refuse(update, context, carried)
        return
    lines = [messages.CARRY_OVER_DONE.format(year=carried.from_year, count=carried.tables)]
    if carried.not_copied:
        lines.append(messages.CARRY_OVER_ASKED.format(labels="、".join(carried.not_copied)))
    lines.append(messages.CARRY_OVER_YEAR_NOTE.format(year=carried.from_year))
    await say(update, context, lines)
    view = await in_thread(context.deps.service.open_as, context.me, carried.first_form_id)
    await show_opened_or_refuse(update, context, view)


# --- answering -----------------------------------------------------------------------------------


async def text_answer(update: Update, context: BotContext) -> None:
    """Free text answers the current step of the user's current form."""
    message = update.message
    assert message is not None and message.text is not None
    result = await in_thread(context.deps.service.answer, context.me, message.text)
    if isinstance(result, AnswerRefused):
        await refuse(update, context, result.refused)
    else:
        await show_result(update, context, result)


async def step_press(update: Update, context: BotContext) -> None:
    """A button of a prompt: re-derived from the form's current prompt at the pressed version."""
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, StepPress)
    result = await in_thread(
        context.deps.service.press, context.me, press.form_id, press.version, press.index
    )
    if isinstance(result, Refused):
        await refuse(update, context, result)
    elif isinstance(result, FormReview):
        await send_review(update, context, result)
    else:
        await drop_keyboard(query)
        await show_result(update, context, result)


async def jump_press(update: Update, context: BotContext) -> None:
    """A fix button: go to the step to correct (the engine refuses unreachable targets)."""
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, JumpPress)
    result = await in_thread(
        context.deps.service.jump, context.me, press.form_id, press.version, press.target
    )
    if isinstance(result, Refused):
        await refuse(update, context, result)
        return
    await drop_keyboard(query)
    await show_result(update, context, result)


async def cancel_command(update: Update, context: BotContext) -> None:
    """/cancel pauses: every confirmed answer is already committed, so there is nothing to do."""
    await say(update, context, [messages.PAUSED])


async def other_message(update: Update, context: BotContext) -> None:
    await say(update, context, [text(Notice.SEND_TEXT_ONLY)])
