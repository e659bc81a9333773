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

from bot import messages
from bot.handlers.common import BotContext, chat_id_of, drop_keyboard, in_thread, say
from bot.imports import FormsLocked, ImportPlan, ImportService, PlanOutdated
from bot.keyboards import ImportPress, button, decode, markup
from dialogs.catalogue import Code, Problem
from dialogs.filing import DepartmentFiling
from dialogs.loader import get_layout
from exports.import_worker import read_bounded_async
from exports.importer import MAX_FILE_BYTES, ImportProblem, WorkbookRefused, too_large_file
from storage.db import Database
from storage.records import Department, PendingKind, Round
from storage.repos import (
    Expired,
    ImportWait,
    PendingInputRepository,
    RoundRepository,
)
from storage.repos.pending import IMPORT_TTL

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


def _keep(database: Database, user_id: int, plan: ImportPlan, workbook: bytes) -> None:
    with database.transaction() as session:
        PendingInputRepository(session).await_import_confirmation(
            user_id, plan.department_id, plan.round_id, plan.basis, workbook
        )


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
        await say(update, context, [*lead, plan.summary(), "没有需要导入的变化。"])
        return
    await in_thread(_keep, context.deps.database, context.me.user.id, plan, workbook)
    keyboard = markup(
        [[button("✅ 确认导入", ImportPress(True)), button("取消", ImportPress(False))]]
    )
    await say(update, context, [*lead, "导入后将有以下变化：", plan.summary()], keyboard)


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
    if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
        # Refused before downloading: the same catalogue message as a file read and refused.
        refused = WorkbookRefused(too_large_file(document.file_size)).problem
        await say(update, context, _problem_lines([refused]))
        return
    round_ = await in_thread(context.deps.directory.current_round)
    if round_ is None:
        await say(update, context, [messages.NO_ROUND])
        return
    department = await in_thread(context.deps.directory.department, actor.user.department_id)
    assert department is not None
    # A new file replaces any import waiting for confirmation, even when it is refused: an
    # older plan's button must not apply a file the user has since replaced.
    await in_thread(_forget, context.deps.database, actor.user.id)
    telegram_file = await document.get_file()
    data = bytes(await telegram_file.download_as_bytearray())
    with contextlib.suppress(TelegramError):  # reading takes a second or two: show we are at it
        await context.bot.send_chat_action(chat_id_of(update), ChatAction.TYPING)
    result = await _read(context, data, round_, department)
    if isinstance(result, list):
        await say(update, context, _problem_lines(result))
        return
    service = ImportService(context.deps.service)
    plan = await in_thread(service.plan, department.id, round_.id, result)
    await _offer(update, context, plan, data, [])


def _forget(database: Database, user_id: int) -> None:
    with database.transaction() as session:
        PendingInputRepository(session).discard(user_id, PendingKind.IMPORT)


def _take(database: Database, user_id: int) -> ImportWait | Expired | None:
    with database.transaction() as session:
        return PendingInputRepository(session).import_confirmation(user_id, take=True)


def _round(database: Database, round_id: int) -> Round | None:
    with database.transaction() as session:
        return RoundRepository(session).get(round_id)


async def import_press(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, ImportPress)
    await drop_keyboard(query)
    actor = context.me
    database = context.deps.database
    pending = await in_thread(_take, database, actor.user.id)
    if isinstance(pending, Expired):
        minutes = str(int(IMPORT_TTL.total_seconds() // 60))
        await say(update, context, [Problem(Code.IMPORT_EXPIRED, {"minutes": minutes}).message])
        return
    if pending is None:
        await say(update, context, ["没有待确认的导入（可能已处理或已过期），请重新发送文件。"])
        return
    if not press.apply:
        await say(update, context, ["已取消导入，未做任何修改。"])
        return
    if not actor.may_fill(pending.department_id):
        await say(update, context, [messages.NOT_ALLOWED])
        return
    round_ = await in_thread(_round, database, pending.round_id)
    department = await in_thread(context.deps.directory.department, pending.department_id)
    if round_ is None or department is None:
        await say(update, context, [messages.NO_ROUND])
        return
    result = await _read(context, pending.workbook, round_, department)
    if isinstance(result, list):  # cannot happen for a file read before, but never write then
        await say(update, context, _problem_lines(result))
        return
    service = ImportService(context.deps.service)
    try:
        written = await in_thread(
            service.apply,
            pending.basis,
            pending.department_id,
            pending.round_id,
            result,
            actor.user.id,
        )
    except PlanOutdated as outdated:
        await _offer(update, context, outdated.plan, pending.workbook, [outdated.problem().message])
        return
    except FormsLocked as locked:
        await _offer(update, context, locked.plan, pending.workbook, [])
        return
    await say(update, context, [f"✓ 已导入 {written} 张表。发送 /fill 查看或继续填写。"])
