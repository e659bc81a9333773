"""The bot's handlers, wired into a PTB Application by `register_handlers`.

Group -1 holds the gate (start.admit) that every update passes first; group 0 holds exactly one
handler per kind of update. Every command is a row of COMMANDS, which also makes Telegram's
command menu (`menu_for`). Callback queries are routed by the decoded shape of their data
(BUTTONS), so a handler only ever sees ids of its own kind; undecodable data ends at
`unknown_button`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import Enum
from typing import Any

from telegram import Bot, BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, TypeHandler, filters

from bot.handlers import (
    admin,
    approval,
    export,
    fill,
    imports,
    printed,
    reminders,
    review,
    start,
    status,
    table_b,
)
from bot.handlers.common import BotApplication, BotContext
from bot.keyboards import (
    Callback,
    ExportPress,
    FormPress,
    ImportPress,
    InvitePress,
    JumpPress,
    MenuPress,
    PreviewPress,
    ReviewPress,
    RoundPress,
    StepPress,
    decode,
)
from storage.records import Role

_LOGGER = logging.getLogger(__name__)
NEW_MESSAGE = filters.UpdateType.MESSAGE  # edits of old messages are not new answers
PRIVATE = filters.ChatType.PRIVATE


def _data_of(kind: type[Callback]) -> Callable[[object], bool]:
    def matches(data: object) -> bool:
        return isinstance(data, str) and isinstance(decode(data), kind)

    return matches


Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


class Audience(Enum):
    """Whose command menu lists a command (everyone may still type any command: the services
    decide what it does for them)."""

    EVERYONE = "everyone"
    REVIEWERS = "reviewers"  # supervisors, district supervisors and admins
    ADMINS = "admins"


@dataclass(frozen=True)
class Command:
    handler: Handler
    menu: str  # its line in Telegram's command menu
    audience: Audience = Audience.EVERYONE


# In the order of the menu.
COMMANDS: dict[str, Command] = {
    "start": Command(start.start_command, "开始使用"),
    "fill": Command(fill.fill_command, "填报：选择或继续填写表格"),
    "review": Command(review.review_command, "预览当前表格"),
    "submit": Command(review.submit_command, "提交当前表格"),
    "cancel": Command(fill.cancel_command, "暂停填写（已填内容不会丢失）"),
    "status": Command(status.status_command, "查看填报进度"),
    "export": Command(export.export_command, "导出绩效目标表（Excel 和 PDF）"),
    "preview": Command(printed.preview_command, "以图片预览表格的打印效果"),
    "tableb": Command(table_b.table_b_command, "查看表B（由各支出方向自动汇总）"),
    "join": Command(start.join_command, "使用邀请码加入"),
    "help": Command(start.help_command, "使用说明"),
    "admin": Command(admin.admin_command, "管理菜单", Audience.ADMINS),
    "invite": Command(admin.invite_command, "生成邀请码", Audience.REVIEWERS),
    "newdept": Command(admin.newdept_command, "新建部门", Audience.ADMINS),
    "newround": Command(admin.newround_command, "新建填报轮次", Audience.ADMINS),
    "remind": Command(reminders.remind_command, "立即提醒未完成的部门", Audience.REVIEWERS),
    "policy": Command(reminders.policy_command, "设置提醒规则", Audience.REVIEWERS),
}
AUDIENCES: dict[Role, frozenset[Audience]] = {
    Role.STAFF: frozenset({Audience.EVERYONE}),
    Role.SUPERVISOR: frozenset({Audience.EVERYONE, Audience.REVIEWERS}),
    Role.DISTRICT_SUPERVISOR: frozenset({Audience.EVERYONE, Audience.REVIEWERS}),
    Role.ADMIN: frozenset({Audience.EVERYONE, Audience.REVIEWERS, Audience.ADMINS}),
}


def menu_for(role: Role) -> list[BotCommand]:
    """The command menu of a role (staff's is everyone's: the default menu)."""
    shown = AUDIENCES[role]
    return [
        BotCommand(name, command.menu)
        for name, command in COMMANDS.items()
        if command.audience in shown
    ]


async def set_chat_menu(bot: Bot, chat_id: int, role: Role) -> None:
    """A reviewer's or admin's own menu in their private chat."""
    try:
        await bot.set_my_commands(menu_for(role), scope=BotCommandScopeChat(chat_id))
    except TelegramError as error:
        # A chat the bot cannot reach yet (never opened) only misses its menu entries.
        _LOGGER.warning("commands for chat %s not set: %s", chat_id, error)


BUTTONS: dict[type[Callback], Handler] = {
    StepPress: fill.step_press,
    JumpPress: fill.jump_press,
    MenuPress: fill.menu_press,
    FormPress: review.form_press,
    ExportPress: export.export_press,
    InvitePress: admin.invite_press,
    RoundPress: admin.round_press,
    ImportPress: imports.import_press,
    PreviewPress: printed.preview_press,
    ReviewPress: approval.review_press,
}


def register_handlers(app: BotApplication) -> None:
    app.add_handler(TypeHandler(Update, start.admit), group=-1)
    for name, command in COMMANDS.items():
        app.add_handler(CommandHandler(name, command.handler, filters=NEW_MESSAGE))
    for kind, pressed in BUTTONS.items():
        app.add_handler(CallbackQueryHandler(pressed, pattern=_data_of(kind)))
    app.add_handler(CallbackQueryHandler(start.unknown_button))
    app.add_handler(
        MessageHandler(NEW_MESSAGE & PRIVATE & filters.TEXT & ~filters.COMMAND, text_message)
    )
    app.add_handler(
        MessageHandler(NEW_MESSAGE & PRIVATE & filters.Document.ALL, imports.document_received)
    )
    app.add_handler(MessageHandler(NEW_MESSAGE & PRIVATE & filters.COMMAND, start.help_command))
    app.add_handler(MessageHandler(NEW_MESSAGE & PRIVATE, fill.other_message))


async def text_message(update: Update, context: BotContext) -> None:
    """Typed text: a reviewer's return comment while one is awaited, else an answer."""
    if not await approval.comment_received(update, context):
        await fill.text_answer(update, context)
