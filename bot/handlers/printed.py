"""The printed tables in chat: /preview shows each table (A, B, each C) as pictures of its pages,
and /export adds the PDF beside the workbook.

LibreOffice is optional for the bot: without it (`Deps.renderer` is None) both say so and point
to the workbook. Conversions run in a worker thread, one at a time with a timeout
(`exports.render.Renderer`), cached by the versions of the department's forms; while one runs
the chat shows "sending a photo/file…", renewed until the file is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Hashable

from telegram import Update
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot import messages
from bot.handlers.common import (
    BotContext,
    chat_id_of,
    drop_keyboard,
    in_thread,
    round_and_scope,
    say,
)
from bot.keyboards import MAX_CHOICES, PreviewPress, button, decode, markup
from bot.messages import Notice, text
from dialogs.filing import DepartmentFiling
from exports import department_tables, department_workbook, table_workbook
from exports.render import Renderer, RenderError, missing
from storage.records import Round

_LOGGER = logging.getLogger(__name__)
CHAT_ACTION_EVERY = 4.0  # seconds: Telegram shows a chat action for about 5 s


@contextlib.asynccontextmanager
async def showing(update: Update, context: BotContext, action: str) -> AsyncIterator[None]:
    """Keep "sending a photo…" visible while the block runs (a conversion can take seconds)."""

    async def repeat() -> None:
        while True:
            with contextlib.suppress(TelegramError):  # cosmetic: never fail a send over it
                await context.bot.send_chat_action(chat_id_of(update), action)
            await asyncio.sleep(CHAT_ACTION_EVERY)

    task = asyncio.create_task(repeat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def filing_key(filing: DepartmentFiling, *extra: Hashable) -> Hashable:
    """What a rendering depends on: the department, the round and every form's version."""
    forms = ((filing.table_a,) if filing.table_a else ()) + filing.directions
    return (
        filing.department,
        filing.year,
        filing.layout.key,
        tuple((form.form_id, form.version) for form in forms),
        *extra,
    )


def no_pdf_note(context: BotContext) -> str:
    """Said under the workbook when no PDF can follow it."""
    return "" if context.deps.renderer is not None else messages.NO_PDF_NOTE


async def _unavailable(update: Update, context: BotContext) -> bool:
    if context.deps.renderer is not None:
        return False
    reason = missing() or "未安装 LibreOffice"
    await say(update, context, [messages.PRINT_UNAVAILABLE.format(reason=reason.split("。")[0])])
    return True


async def send_department_pdf(
    update: Update, context: BotContext, filing: DepartmentFiling, file_name: str
) -> None:
    """The department's workbook as PDF (after the workbook itself has been sent)."""
    renderer = context.deps.renderer
    if renderer is None:
        await _unavailable(update, context)
        return
    try:
        async with showing(update, context, ChatAction.UPLOAD_DOCUMENT):
            pdf = await in_thread(
                renderer.pdf, department_workbook(filing), filing_key(filing, "workbook")
            )
    except RenderError as error:
        _LOGGER.warning("PDF export failed: %s", error)
        await say(update, context, [messages.PRINT_FAILED.format(reason="转换超时或出错")])
        return
    await context.bot.send_document(
        chat_id_of(update),
        document=pdf,
        filename=file_name.removesuffix(".xlsx") + ".pdf",
        caption=messages.PDF_CAPTION.format(year=filing.year),
    )


async def send_round_pdf(
    update: Update, context: BotContext, workbook: bytes, key: Hashable, round_: Round, count: int
) -> None:
    """The round's consolidated workbook as one PDF, for printing the whole round."""
    renderer = context.deps.renderer
    if renderer is None:
        await _unavailable(update, context)
        return
    progress = await context.bot.send_message(
        chat_id_of(update), messages.ROUND_PDF_PROGRESS.format(count=count)
    )
    # LibreOffice lays out every page: allow it time in proportion to the round's size.
    timeout = renderer.timeout + 2.0 * count
    try:
        async with showing(update, context, ChatAction.UPLOAD_DOCUMENT):
            pdf = await in_thread(renderer.pdf, workbook, key, timeout)
    except RenderError as error:
        _LOGGER.warning("round PDF failed: %s", error)
        await say(update, context, [messages.PRINT_FAILED.format(reason="转换超时或出错")])
        return
    with contextlib.suppress(TelegramError):
        await progress.delete()
    await context.bot.send_document(
        chat_id_of(update),
        document=pdf,
        filename=f"{round_.year}年绩效目标表汇总.pdf",
        caption=messages.ROUND_PDF_CAPTION.format(year=round_.year),
    )


# --- /preview ---------------------------------------------------------------------------------


async def preview_command(update: Update, context: BotContext) -> None:
    found = await round_and_scope(update, context)
    if found is None:
        return
    round_, departments = found.round, found.departments
    if await _unavailable(update, context):
        return
    if len(departments) == 1:
        await _table_menu(update, context, departments[0].id, round_)
        return
    rows = [[button(d.name, PreviewPress(d.id))] for d in departments[:MAX_CHOICES]]
    await say(update, context, [messages.PREVIEW_CHOOSE_DEPARTMENT], markup(rows))


async def _table_menu(
    update: Update, context: BotContext, department_id: int, round_: Round
) -> None:
    filing = await in_thread(context.deps.service.department_filing, department_id, round_.id)
    tables = department_tables(filing)
    rows = [
        [button(f"{table.name} · {table.title}"[:60], PreviewPress(department_id, index))]
        for index, table in enumerate(tables[:MAX_CHOICES])
    ]
    text = messages.PREVIEW_CHOOSE_TABLE.format(department=filing.department)
    await say(update, context, [text], markup(rows))


async def preview_press(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, PreviewPress)
    found = await round_and_scope(update, context, press.department_id)
    if found is None:
        return
    round_, department = found.round, found.departments[0]
    if await _unavailable(update, context):
        return
    if press.table is None:
        await drop_keyboard(query)
        await _table_menu(update, context, department.id, round_)
        return
    await _send_table_pages(update, context, department.id, round_, press.table)


async def _send_table_pages(
    update: Update, context: BotContext, department_id: int, round_: Round, index: int
) -> None:
    renderer = context.deps.renderer
    assert renderer is not None
    filing = await in_thread(context.deps.service.department_filing, department_id, round_.id)
    tables = department_tables(filing)
    if index >= len(tables):
        await say(update, context, [text(Notice.PREVIEW_GONE)])
        return
    table = tables[index]
    try:
        async with showing(update, context, ChatAction.UPLOAD_PHOTO):
            pages = await in_thread(
                _pages, renderer, filing, index, filing_key(filing, "table", table.name)
            )
    except RenderError as error:
        _LOGGER.warning("preview failed: %s", error)
        await say(update, context, [messages.PRINT_FAILED.format(reason="转换超时或出错")])
        return
    for number, page in enumerate(pages, start=1):
        await context.bot.send_photo(
            chat_id_of(update), photo=page, caption=table.caption(number, len(pages))
        )


def _pages(
    renderer: Renderer, filing: DepartmentFiling, index: int, key: Hashable
) -> tuple[bytes, ...]:
    return renderer.pages(table_workbook(filing, index), key)
