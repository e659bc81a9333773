"""A workbook sent to the bot: read into the sender's department drafts after they confirm.

The file is read in a child process within a time and memory budget (exports.import_worker),
so a hostile file costs the bot nothing but that budget and other users are answered meanwhile;
problems are listed by sheet and cell and nothing changes. Otherwise the user sees what would
change, with [确认导入] / [取消]. Until they press, the workbook and the version of every form
the plan was made against wait in the database (storage.repos.pending, 30 minutes), so the
confirmation survives a restart and works on another bot process. On confirm the workbook is
read again and applied only if no form changed meanwhile; otherwise the new plan is shown with
new buttons. The button carries no data beyond yes/no, so it can only apply the sender's own
upload.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Update
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.handlers.common import BotContext, chat_id_of, drop_keyboard, in_thread, say
from bot.imports import FormsLocked, ImportPlan, ImportService, PlanOutdated
from bot.keyboards import ImportPress, button, decode, markup
from bot.messages import Notice, Refused, text
from dialogs.catalogue import Problem
from dialogs.filing import DepartmentFiling
from dialogs.loader import get_layout
from exports.import_worker import read_bounded_async
from exports.importer import ImportProblem, WorkbookRefused
from storage.records import Department, Round

_LOGGER = logging.getLogger(__name__)
MAX_PROBLEMS_SHOWN = 30
# Workbooks read at once by this process; more wait their turn (each reader is a process).
PARALLEL_READS = 2
_SLOTS_KEY = "import_read_slots"


def _slots(context: BotContext) -> asyncio.Semaphore:
    found = context.bot_data.get(_SLOTS_KEY)
    if not isinstance(found, asyncio.Semaphore):
        found = context.bot_data[_SLOTS_KEY] = asyncio.Semaphore(PARALLEL_READS)
    return found


async def _read(
    context: BotContext, data: bytes, round_: Round, department: Department
) -> DepartmentFiling | list[ImportProblem]:
    async with _slots(context):
        layout = get_layout(round_.layout)
        return await read_bounded_async(data, layout, department.name, round_.year)


def _problem_lines(problems: list[ImportProblem]) -> list[str]:
    if len(problems) == 1 and problems[0].code is not None:  # the whole file was refused
        return [f"✗ 无法导入（未做任何修改）：{problems[0].message}"]
    lines = ["✗ 无法导入，以下单元格有问题（未做任何修改）："]
    lines += [f"• {problem}" for problem in problems[:MAX_PROBLEMS_SHOWN]]
    if len(problems) > MAX_PROBLEMS_SHOWN:
        lines.append(f"…另有 {len(problems) - MAX_PROBLEMS_SHOWN} 处")
    return lines


async def _offer(
    update: Update,
    context: BotContext,
    plan: ImportPlan,
    workbook: bytes,
    lead: list[str],
) -> None:
    """Show the plan: refused when it would change a locked form, else keep it and ask."""
    if plan.blocked:
        refusals = [f"✗ {problem.message}" for problem in plan.refusals()]
        await say(update, context, [*lead, plan.summary(), *refusals])
        return
    if not plan.applicable:
        await say(update, context, [*lead, plan.summary(), text(Notice.IMPORT_NO_CHANGES)])
        return
    await in_thread(ImportService(context.deps.service).keep, context.me, plan, workbook)
    keyboard = markup(
        [[button("✅ 确认导入", ImportPress(True)), button("取消", ImportPress(False))]]
    )
    await say(update, context, [*lead, "导入后将有以下变化：", plan.summary()], keyboard)


async def document_received(update: Update, context: BotContext) -> None:
    message = update.effective_message
    assert message is not None and message.document is not None
    document = message.document
    service = ImportService(context.deps.service)
    target = await in_thread(
        service.receive, context.me, document.file_name or "", document.file_size
    )
    if isinstance(target, Refused):
        await say(update, context, [target.message])
        return
    if isinstance(target, Problem):
        # Refused before downloading: the same catalogue message as a file read and refused.
        await say(update, context, _problem_lines([WorkbookRefused(target).problem]))
        return
    telegram_file = await document.get_file()
    data = bytes(await telegram_file.download_as_bytearray())
    with contextlib.suppress(TelegramError):  # reading takes a second or two: show we are at it
        await context.bot.send_chat_action(chat_id_of(update), ChatAction.TYPING)
    result = await _read(context, data, target.round, target.department)
    if isinstance(result, list):
        await say(update, context, _problem_lines(result))
        return
    plan = await in_thread(service.plan, target.department.id, target.round.id, result)
    await _offer(update, context, plan, data, [])


async def import_press(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, ImportPress)
    await drop_keyboard(query)
    service = ImportService(context.deps.service)
    pending = await in_thread(service.take, context.me, to_apply=press.apply)
    if isinstance(pending, Refused | Problem):
        await say(update, context, [pending.message])
        return
    workbook = pending.wait.workbook
    result = await _read(context, workbook, pending.target.round, pending.target.department)
    if isinstance(result, list):  # cannot happen for a file read before, but never write then
        await say(update, context, _problem_lines(result))
        return
    try:
        written = await in_thread(service.apply_as, context.me, pending, result)
    except PlanOutdated as outdated:
        await _offer(update, context, outdated.plan, workbook, [outdated.problem().message])
        return
    except FormsLocked as locked:
        await _offer(update, context, locked.plan, workbook, [])
        return
    if isinstance(written, Refused):
        await say(update, context, [written.message])
        return
    await say(update, context, [f"✓ 已导入 {written} 张表。发送 /fill 查看或继续填写。"])
