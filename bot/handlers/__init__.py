"""The bot's handlers, wired into a PTB Application by `register_handlers`.

Group -1 holds the gate (start.admit) that every update passes first; group 0 holds exactly one
handler per kind of update. Callback queries are routed by the decoded shape of their data, so a
handler only ever sees ids of its own kind; undecodable data ends at `unknown_button`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, TypeHandler, filters

from bot.handlers import admin, export, fill, imports, printed, review, start, status
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
    RoundPress,
    StepPress,
    decode,
)

NEW_MESSAGE = filters.UpdateType.MESSAGE  # edits of old messages are not new answers
PRIVATE = filters.ChatType.PRIVATE


def _data_of(kind: type[Callback]) -> Callable[[object], bool]:
    def matches(data: object) -> bool:
        return isinstance(data, str) and isinstance(decode(data), kind)

    return matches


Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]

COMMANDS: dict[str, Handler] = {
    "start": start.start_command,
    "join": start.join_command,
    "help": start.help_command,
    "fill": fill.fill_command,
    "cancel": fill.cancel_command,
    "review": review.review_command,
    "submit": review.submit_command,
    "status": status.status_command,
    "export": export.export_command,
    "preview": printed.preview_command,
    "admin": admin.admin_command,
    "invite": admin.invite_command,
    "newdept": admin.newdept_command,
    "newround": admin.newround_command,
}

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
}


def register_handlers(app: BotApplication) -> None:
    app.add_handler(TypeHandler(Update, start.admit), group=-1)
    for name, callback in COMMANDS.items():
        app.add_handler(CommandHandler(name, callback, filters=NEW_MESSAGE))
    for kind, pressed in BUTTONS.items():
        app.add_handler(CallbackQueryHandler(pressed, pattern=_data_of(kind)))
    app.add_handler(CallbackQueryHandler(start.unknown_button))
    app.add_handler(
        MessageHandler(NEW_MESSAGE & PRIVATE & filters.TEXT & ~filters.COMMAND, fill.text_answer)
    )
    app.add_handler(
        MessageHandler(NEW_MESSAGE & PRIVATE & filters.Document.ALL, imports.document_received)
    )
    app.add_handler(MessageHandler(NEW_MESSAGE & PRIVATE & filters.COMMAND, start.help_command))
    app.add_handler(MessageHandler(NEW_MESSAGE & PRIVATE, fill.other_message))
