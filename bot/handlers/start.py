"""The gate in front of every handler, and /start, /join, /help.

The gate (group -1) answers a pressed button at once, sends group chats to the private chat,
identifies the user, and stops strangers with the how-to-join text: nothing behind it ever runs
for someone the bot does not know, except redeeming an invite code.
"""

from __future__ import annotations

import contextlib
import logging
import re

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot import messages
from bot.handlers.common import BotContext, command_args, in_thread, say
from bot.messages import Notice, Refused, text
from bot.render import Line
from bot.roles import Actor
from dialogs.parsing.text import without_invisible
from storage.records import Role

_LOGGER = logging.getLogger(__name__)
_JOIN = re.compile(r"^/(?:start|join)(?:@\w+)?\s+\S+")
NAME_LIMIT = 64


def display_name(update: Update) -> str:
    """The Telegram name, without characters a workbook cannot hold (it is shown as who last
    changed a form in the round's export)."""
    user = update.effective_user
    return without_invisible(user.full_name)[:NAME_LIMIT] if user is not None else ""


def private_link(context: BotContext) -> str:
    return f"https://t.me/{context.bot.username}"


async def admit(update: Update, context: BotContext) -> None:
    """Group -1: runs for every update; raises ApplicationHandlerStop when nothing may follow."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or user.is_bot:
        raise ApplicationHandlerStop
    if update.message is None and update.callback_query is None:
        raise ApplicationHandlerStop  # edits, reactions, member updates: nothing to answer
    if update.callback_query is not None:
        # Answered first, before any database work: the user's client stops its spinner.
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer()
    if chat.type != ChatType.PRIVATE:
        await point_to_private_chat(update, context)
        raise ApplicationHandlerStop
    actor = await in_thread(context.deps.directory.identify, user.id, display_name(update))
    context.actor = actor
    if actor is None and not _is_join_attempt(update):
        await say(update, context, [messages.JOIN_EXPLANATION])
        raise ApplicationHandlerStop


def _is_join_attempt(update: Update) -> bool:
    message = update.message
    return message is not None and bool(message.text) and bool(_JOIN.match(message.text or ""))


async def point_to_private_chat(update: Update, context: BotContext) -> None:
    """In a group only commands get an answer (one short line), so the bot never chats there."""
    message = update.message
    text = message.text or "" if message is not None else ""
    if message is None or not text.startswith("/"):
        return
    command = text.split(maxsplit=1)[0]
    if "@" in command and command.split("@", 1)[1].lower() != (context.bot.username or "").lower():
        return  # a command for another bot in the same group
    await message.reply_text(messages.GROUP_REDIRECT.format(link=private_link(context)))


HELP_BY_ROLE = {
    Role.ADMIN: messages.HELP_ADMIN,
    Role.DISTRICT_SUPERVISOR: messages.HELP_SUPERVISOR,
    Role.SUPERVISOR: messages.HELP_SUPERVISOR,
    Role.STAFF: messages.HELP_STAFF,
}
REVIEWER_ROLES = (Role.SUPERVISOR, Role.DISTRICT_SUPERVISOR)


def help_lines(actor: Actor) -> list[str]:
    """Presentation only: the help of the actor's role (what they may do is decided by the
    services, whatever the help says)."""
    if actor.role is Role.STAFF and actor.user.department_id is None:
        return [text(Notice.NO_DEPARTMENT)]
    return [HELP_BY_ROLE[actor.role]]


async def start_command(update: Update, context: BotContext) -> None:
    """/start, or /start CODE from an invite link."""
    args = command_args(context)
    if args:
        await redeem(update, context, args[0])
        return
    actor = context.me
    greeting = Line(f"你好，{actor.user.display_name}！", "b")
    await say(update, context, [greeting, *help_lines(actor)])


async def join_command(update: Update, context: BotContext) -> None:
    """/join CODE."""
    args = command_args(context)
    if not args:
        if context.actor is None:
            await say(update, context, [messages.JOIN_EXPLANATION])
        else:
            await say(update, context, ["用法：/join 邀请码"])
        return
    await redeem(update, context, args[0])


async def help_command(update: Update, context: BotContext) -> None:
    await say(update, context, help_lines(context.me))


async def redeem(update: Update, context: BotContext, code: str) -> None:
    user = update.effective_user
    assert user is not None
    directory = context.deps.directory
    result = await in_thread(directory.redeem, user.id, display_name(update), code[:64])
    if isinstance(result, Refused):
        await say(update, context, [result.message])
        return
    context.actor = result
    lines: list[Line | str] = [Line(f"✓ 已加入，身份：{messages.ROLE_LABELS[result.role]}", "b")]
    departments = await in_thread(directory.departments, result)
    if result.role is Role.STAFF and departments:
        lines.append(f"部门：{departments[0].name}")
        lines.append("发送 /fill 开始填报。")
    elif result.role is Role.SUPERVISOR:
        lines.append("所管部门：" + "、".join(d.name for d in departments))
    lines += help_lines(result)
    await say(update, context, lines)
    if result.role in REVIEWER_ROLES:
        from bot.handlers import set_chat_menu  # the package's table imports this module

        await set_chat_menu(context.bot, user.id, result.role)


async def unknown_button(update: Update, context: BotContext) -> None:
    """A button whose data we cannot read (forged, or from an older version of the bot)."""
    await say(update, context, [text(Notice.UNKNOWN_BUTTON)])
