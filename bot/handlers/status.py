"""/status [年度] [质量]: the round department by department, overdue first (`质量`: the weakest
indicators first). A reviewer gets the round as a picture above the text and a button per form
awaiting their review; staff see their own department."""

from __future__ import annotations

import re

from telegram import InlineKeyboardMarkup, Update

from bot.clock import clock_of
from bot.handlers.common import BotContext, chat_id_of, in_thread, say, send_html
from bot.keyboards import ReviewOp, ReviewPress, button, markup
from bot.messages import Refused
from bot.split import messages_of
from bot.status.picture import send_round_picture
from bot.status.report import RoundReport
from bot.status.service import StatusService
from bot.texts import local_text, remaining_text, render, shorten

QUALITY_WORD = "质量"  # `/status 质量`: departments sorted by their indicator quality
MAX_REVIEW_BUTTONS = 10


def year_of(args: list[str]) -> int | None:
    """The year a command names as its first argument (`/status 2021`), else None."""
    return int(args[0]) if args and re.fullmatch(r"\d{4}", args[0]) else None


def status_service(context: BotContext) -> StatusService:
    return StatusService(context.deps.database, clock_of(context.bot_data))


async def status_command(update: Update, context: BotContext) -> None:
    args = list(context.args or [])
    service = status_service(context)
    try:
        view = await in_thread(
            service.round_status, context.me, year_of(args), QUALITY_WORD in args
        )
    except Refused as refused:
        await say(update, context, [refused.message])
        return
    zone = context.deps.settings.zone
    text = render(
        "status",
        report=view.report,
        by_quality=view.by_quality,
        deadline=local_text(view.round.deadline, zone),
        remaining=remaining_text(view.round.deadline, view.now),
    )
    keyboard = None
    if view.reviewer:
        await send_round_picture(context.bot, chat_id_of(update), view.report, view.now, zone)
        keyboard = review_keyboard(view.report)
    await send_html(update, context, messages_of(text), keyboard)


def review_keyboard(report: RoundReport) -> InlineKeyboardMarkup | None:
    return markup(
        [
            [
                button(
                    f"📝 审核：{shorten(department.name, 12)} · {shorten(form.name, 14)}",
                    ReviewPress(ReviewOp.SHOW, form.form_id),
                )
            ]
            for department, form in report.awaiting_review[:MAX_REVIEW_BUTTONS]
        ]
    )
