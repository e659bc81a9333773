"""What every handler shares: the context (with the identified actor), the services, the thread
hop for the synchronous database, and sending HTML messages with a keyboard on the last one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, cast

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackContext, ExtBot

from bot.messages import Refused
from bot.render import Line, html_messages
from bot.roles import Actor, Directory, Scope
from bot.service import FilingService
from bot.settings import Settings
from exports.render import Renderer
from storage.db import Database

_LOGGER = logging.getLogger(__name__)
DEPS_KEY = "jixiao"
P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class Deps:
    settings: Settings
    database: Database
    service: FilingService
    directory: Directory
    # LibreOffice for PDF and pictures of the printed tables; None where it is not installed.
    renderer: Renderer | None = None


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB builds one context per update and reuses it for every handler group, so the actor
    identified by the gate (group -1) is there for the handler that answers."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id, user_id)
        self.actor: Actor | None = None

    @property
    def deps(self) -> Deps:
        return cast(Deps, self.bot_data[DEPS_KEY])

    @property
    def me(self) -> Actor:
        """The identified actor; handlers behind the gate may rely on it."""
        if self.actor is None:
            raise RuntimeError("handler reached without an identified user")
        return self.actor


BotApplication = Application[
    ExtBot[None],
    BotContext,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    Any,  # the JobQueue (the builder does not infer its context type)
]


async def in_thread(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking (SQLAlchemy) call off the event loop."""
    return await asyncio.to_thread(function, *args, **kwargs)


def chat_id_of(update: Update) -> int:
    chat = update.effective_chat
    if chat is None:
        raise RuntimeError("update without a chat")
    return chat.id


async def send_html(
    update: Update,
    context: BotContext,
    messages: Sequence[str],
    keyboard: InlineKeyboardMarkup | None = None,
) -> None:
    """Send rendered messages in order; the keyboard goes under the last one."""
    chat_id = chat_id_of(update)
    for index, text in enumerate(messages):
        last = index == len(messages) - 1
        await context.bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard if last else None
        )


async def say(
    update: Update,
    context: BotContext,
    lines: Sequence[Line | str],
    keyboard: InlineKeyboardMarkup | None = None,
) -> None:
    await send_html(update, context, html_messages(lines), keyboard)


async def drop_keyboard(query: CallbackQuery) -> None:
    """Take the buttons off a pressed message so only the newest prompt offers any. Cosmetic:
    an old message that can no longer be edited, or one already without buttons ("message is
    not modified"), is fine."""
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            _LOGGER.debug("could not remove a keyboard: %s", error)
    except TelegramError as error:
        _LOGGER.info("could not remove a keyboard: %s", error)


def command_args(context: BotContext) -> list[str]:
    return list(context.args or [])


async def round_and_scope(
    update: Update,
    context: BotContext,
    department_id: int | None = None,
    *,
    whole_round: bool = False,
) -> Scope | None:
    """The open round and the departments the actor may see (see Directory.scope), or None
    after saying why not: what /export, /preview, /tableb and their buttons start from."""
    found = await in_thread(
        context.deps.directory.scope, context.me, department_id, whole_round=whole_round
    )
    if isinstance(found, Refused):
        await say(update, context, [found.message])
        return None
    return found
