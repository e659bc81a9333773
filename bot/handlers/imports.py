"""A workbook sent to the bot: read into the sender's department drafts after they confirm.

The file is read at once; problems are listed by sheet and cell and nothing changes. Otherwise the
user sees what would change, with [确认导入] / [取消]. Until they press, the parsed workbook is
held in this process's memory for that user only (a restart drops it: they send the file again);
the button carries no data beyond yes/no, so it can only ever apply the sender's own upload.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Update

from bot import messages
from bot.handlers.common import BotContext, drop_keyboard, in_thread, say
from bot.imports import ImportPlan, ImportService
from bot.keyboards import ImportPress, button, decode, markup
from dialogs.filing import DepartmentFiling
from dialogs.loader import get_layout
from exports.importer import import_workbook

_LOGGER = logging.getLogger(__name__)
PENDING_KEY = "pending_import"
MAX_BYTES = 5 * 2**20  # official workbooks are a few dozen KB
MAX_PROBLEMS_SHOWN = 30


@dataclass(frozen=True)
class PendingImport:
    plan: ImportPlan
    filing: DepartmentFiling


async def document_received(update: Update, context: BotContext) -> None:
    message = update.effective_message
    assert message is not None and message.document is not None
    document = message.document
    actor = context.me
    if not actor.fills or actor.user.department_id is None:
        await say(update, context, [messages.NOT_STAFF])
        return
    name = document.file_name or ""
    if not name.lower().endswith(".xlsx"):
        await say(update, context, ["请发送 .xlsx 格式的绩效目标表（可先用 /export 导出模板）。"])
        return
    if document.file_size is not None and document.file_size > MAX_BYTES:
        await say(update, context, ["文件过大（超过 5 MB），请检查是否为绩效目标表。"])
        return
    round_ = await in_thread(context.deps.directory.current_round)
    if round_ is None:
        await say(update, context, [messages.NO_ROUND])
        return
    department = await in_thread(context.deps.directory.department, actor.user.department_id)
    assert department is not None
    telegram_file = await document.get_file()
    data = bytes(await telegram_file.download_as_bytearray())
    layout = get_layout(round_.layout)
    result = await in_thread(import_workbook, data, layout, department.name, round_.year)
    if isinstance(result, list):
        lines = ["✗ 无法导入，以下单元格有问题（未做任何修改）："]
        lines += [f"• {problem}" for problem in result[:MAX_PROBLEMS_SHOWN]]
        if len(result) > MAX_PROBLEMS_SHOWN:
            lines.append(f"…另有 {len(result) - MAX_PROBLEMS_SHOWN} 处")
        await say(update, context, lines)
        return
    service = ImportService(context.deps.service)
    plan = await in_thread(service.plan, department.id, round_.id, result)
    if not plan.applicable:
        await say(update, context, [plan.summary(), "没有需要导入的变化。"])
        return
    assert context.user_data is not None
    context.user_data[PENDING_KEY] = PendingImport(plan, result)
    keyboard = markup(
        [[button("✅ 确认导入", ImportPress(True)), button("取消", ImportPress(False))]]
    )
    await say(update, context, ["导入后将有以下变化：", plan.summary()], keyboard)


async def import_press(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, ImportPress)
    await drop_keyboard(query)
    assert context.user_data is not None
    pending = context.user_data.pop(PENDING_KEY, None)
    if not isinstance(pending, PendingImport):
        await say(update, context, ["没有待确认的导入（可能已处理或已过期），请重新发送文件。"])
        return
    actor = context.me
    if not press.apply:
        await say(update, context, ["已取消导入，未做任何修改。"])
        return
    if not actor.may_fill(pending.plan.department_id):
        await say(update, context, [messages.NOT_ALLOWED])
        return
    service = ImportService(context.deps.service)
    written = await in_thread(service.apply, pending.plan, pending.filing, actor.user.id)
    await say(update, context, [f"✓ 已导入 {written} 张表。发送 /fill 查看或继续填写。"])
