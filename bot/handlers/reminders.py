"""/remind and /policy (the rules are in bot/reminders/service.py).

/remind [年度]          remind every unfinished form in the supervisor's departments now
/policy [年度] [设置]   show or change the round's deadline and reminder policy (policy.py)
"""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.handlers.common import BotContext, in_thread, say, send_html
from bot.handlers.status import year_of
from bot.messages import Notice, Refused
from bot.messages import text as notice_text
from bot.reminders import remind
from bot.reminders.jobs import runtime_of
from bot.reminders.policy import EXAMPLE, PolicyError
from bot.reminders.schedule import next_due
from bot.reminders.service import RoundsService
from bot.texts import local_text, render

REVIEWERS_ONLY = notice_text(Notice.REVIEWERS_ONLY)
ROUND_WIDE_ONLY = notice_text(Notice.ROUND_WIDE_ONLY)
REMIND_REPLY_WAIT = 20.0  # seconds /remind waits for its reminders to go out before replying


async def remind_command(update: Update, context: BotContext) -> None:
    runtime = runtime_of(context.application)
    year = year_of(list(context.args or []))
    try:
        asked = await in_thread(RoundsService(runtime).remind, context.me, year)
    except Refused as refused:
        await say(update, context, [refused.message])
        return
    if asked.planned.new_users and asked.due_at <= asked.now:
        # Sent before replying, so that the reply says what was sent, not what was meant; a
        # long send (behind a big tick) goes on, and the reply tells who is still queued.
        sending = context.application.create_task(runtime.dispatch_now(), name="reminders:remind")
        await asyncio.wait({sending}, timeout=REMIND_REPLY_WAIT)
    found = await in_thread(
        remind.outcome, runtime.database, asked.round, asked.planned, asked.due_at, asked.now
    )
    await send_html(update, context, [remind.reply(found, asked.round, runtime.zone)])


async def policy_command(update: Update, context: BotContext) -> None:
    runtime = runtime_of(context.application)
    args = list(context.args or [])
    year = year_of(args)
    settings = " ".join(args[1:] if year is not None else args)
    try:
        view = await in_thread(RoundsService(runtime).policy, context.me, year, settings)
    except Refused as refused:
        await say(update, context, [refused.message])
        return
    except PolicyError as error:
        await say(update, context, [str(error)])
        return
    round_ = view.round
    upcoming = next_due(round_.deadline, round_.policy, runtime.zone, view.now)
    text = render(
        "policy",
        round_title=round_.title,
        deadline=local_text(round_.deadline, runtime.zone),
        policy=round_.policy,
        next_time=local_text(upcoming.due_at, runtime.zone) if upcoming else "",
        example=EXAMPLE,
        changed=view.changed,
        may_change=view.may_change,
    )
    await send_html(update, context, [text])
