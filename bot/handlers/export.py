"""/export: a department's workbook (表A, 表B computed, one sheet per 表C) as an xlsx document,
or, for a supervisor, the round's consolidated workbook of every department they may see.

Staff get their own department's; supervisors pick a department or "all". The department id of
a pressed button is re-checked, so a forged id gets nothing. While a workbook is built the chat
shows "sending a file…"; a round of many departments also gets a progress message.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime

from telegram import Update
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.handlers.common import (
    BotContext,
    chat_id_of,
    drop_keyboard,
    in_thread,
    round_and_scope,
    say,
)
from bot.handlers.printed import filing_key, no_pdf_note, send_department_pdf, send_round_pdf
from bot.keyboards import MAX_CHOICES, ExportPress, button, decode, markup
from bot.service import FilingService
from dialogs.filing import DepartmentFiling
from dialogs.loader import get_layout
from exports import department_workbook
from exports.consolidated import RoundHeader, consolidated_workbook
from exports.names import consolidated_file_name, department_file_name
from storage.records import Department, Round

_LOGGER = logging.getLogger(__name__)
ALL_DEPARTMENTS = 0  # ExportPress(0): the consolidated workbook of the user's departments
PROGRESS_EVERY = 10  # departments between two edits of the progress message


async def _upload_action(update: Update, context: BotContext) -> None:
    with contextlib.suppress(TelegramError):  # cosmetic: never fail an export over it
        await context.bot.send_chat_action(chat_id_of(update), ChatAction.UPLOAD_DOCUMENT)


def workbook_and_filing(
    service: FilingService, department_id: int, round_: Round
) -> tuple[DepartmentFiling, str, bytes]:
    """The filing, its file name and its workbook bytes (blocking: runs in a thread)."""
    filing = service.department_filing(department_id, round_.id)
    name = department_file_name(filing.year, filing.department)
    return filing, name, department_workbook(filing)


async def send_export(
    update: Update, context: BotContext, department_id: int, round_: Round
) -> None:
    """The workbook, then the same tables as PDF (when LibreOffice is there)."""
    await _upload_action(update, context)
    filing, name, data = await in_thread(
        workbook_and_filing, context.deps.service, department_id, round_
    )
    await context.bot.send_document(
        chat_id_of(update),
        document=data,
        filename=name,
        caption=f"{round_.year}年绩效目标表（表A、表B、表C）" + no_pdf_note(context),
    )
    if context.deps.renderer is not None:
        await send_department_pdf(update, context, filing, name)


async def send_round_export(
    update: Update, context: BotContext, departments: list[Department], round_: Round
) -> None:
    """The consolidated workbook, loading one department at a time so progress can be shown."""
    service = context.deps.service
    total = len(departments)
    progress = await context.bot.send_message(
        chat_id_of(update), f"正在生成 {round_.year} 年汇总表（0/{total} 个部门）…"
    )
    filings: list[DepartmentFiling] = []
    for number, department in enumerate(departments, start=1):
        filings.append(await in_thread(service.department_filing, department.id, round_.id))
        if number % PROGRESS_EVERY == 0 and number < total:
            await _upload_action(update, context)
            with contextlib.suppress(TelegramError):
                await progress.edit_text(
                    f"正在生成 {round_.year} 年汇总表（{number}/{total} 个部门）…"
                )
    await _upload_action(update, context)
    late = datetime.now(UTC) >= round_.deadline  # the chart on the first sheet marks overdue
    header = RoundHeader(round_.year, round_.title, datetime.now(context.deps.settings.zone))
    data = await in_thread(
        consolidated_workbook, get_layout(round_.layout), filings, header, deadline_passed=late
    )
    with contextlib.suppress(TelegramError):
        await progress.edit_text(f"✓ 汇总表已生成（{total} 个部门）。")
    await context.bot.send_document(
        chat_id_of(update),
        document=data,
        filename=consolidated_file_name(round_.year),
        caption=f"{round_.year}年汇总：部门整体、支出方向、填报状态，及各部门表A、表B、表C"
        + no_pdf_note(context),
    )
    if context.deps.renderer is not None:
        key = ("round", round_.id, tuple(filing_key(filing) for filing in filings))
        await send_round_pdf(update, context, data, key, round_, total)


async def export_command(update: Update, context: BotContext) -> None:
    found = await round_and_scope(update, context)
    if found is None:
        return
    round_, departments = found.round, found.departments
    if len(departments) == 1:
        await send_export(update, context, departments[0].id, round_)
        return
    rows = [[button(f"📊 全部 {len(departments)} 个部门（汇总表）", ExportPress(ALL_DEPARTMENTS))]]
    rows += [[button(d.name, ExportPress(d.id))] for d in departments[:MAX_CHOICES]]
    await say(update, context, ["请选择要导出的部门，或导出全部部门的汇总表："], markup(rows))


async def export_press(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, ExportPress)
    whole = press.department_id == ALL_DEPARTMENTS
    found = await round_and_scope(
        update, context, None if whole else press.department_id, whole_round=whole
    )
    if found is None:
        return
    await drop_keyboard(query)
    if whole:
        await send_round_export(update, context, list(found.departments), found.round)
    else:
        await send_export(update, context, found.departments[0].id, found.round)
