"""/export: a department's workbook (表A, 表B computed, one sheet per 表C) as an xlsx document.

Staff get their own department's; supervisors pick one of the departments they may see. The
department id of a pressed button is re-checked, so a forged id gets nothing.
"""

from __future__ import annotations

import logging

from telegram import Update

from bot import messages
from bot.handlers.common import BotContext, chat_id_of, drop_keyboard, in_thread, say
from bot.keyboards import ExportPress, button, decode, markup
from bot.service import FilingService
from storage.records import Round

_LOGGER = logging.getLogger(__name__)
MAX_CHOICES = 90  # Telegram allows 100 buttons per keyboard


def workbook(service: FilingService, department_id: int, round_: Round) -> tuple[str, bytes]:
    """File name and bytes (blocking: runs in a thread)."""
    from exports import department_workbook
    from exports.names import department_file_name

    filing = service.department_filing(department_id, round_.id)
    return department_file_name(filing.year, filing.department), department_workbook(filing)


async def send_export(
    update: Update, context: BotContext, department_id: int, round_: Round
) -> None:
    try:
        name, data = await in_thread(workbook, context.deps.service, department_id, round_)
    except ImportError:
        _LOGGER.exception("the exports package is not available")
        await say(update, context, ["导出功能暂不可用，请稍后再试。"])
        return
    await context.bot.send_document(
        chat_id_of(update),
        document=data,
        filename=name,
        caption=f"{round_.year}年绩效目标表（表A、表B、表C）",
    )


async def export_command(update: Update, context: BotContext) -> None:
    actor = context.me
    directory = context.deps.directory
    round_ = await in_thread(directory.current_round)
    if round_ is None:
        await say(update, context, [messages.NO_ROUND])
        return
    departments = await in_thread(directory.departments, actor)
    if not departments:
        await say(update, context, [messages.NO_DEPARTMENTS_IN_SCOPE])
        return
    if len(departments) == 1:
        await send_export(update, context, departments[0].id, round_)
        return
    buttons = [[button(d.name, ExportPress(d.id))] for d in departments[:MAX_CHOICES]]
    await say(update, context, ["请选择要导出的部门："], markup(buttons))


async def export_press(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, ExportPress)
    directory = context.deps.directory
    department = await in_thread(directory.department, press.department_id)
    if department is None or not context.me.may_view(department.id):
        await say(update, context, [messages.NOT_ALLOWED])
        return
    round_ = await in_thread(directory.current_round)
    if round_ is None:
        await say(update, context, [messages.NO_ROUND])
        return
    await drop_keyboard(query)
    await send_export(update, context, department.id, round_)
