"""How a reminder leaves the bot: the `Transport` protocol and its Telegram implementation.

The dispatcher only knows `Transport.send` and the four outcomes below, so it is tested with an
in-memory transport and runs against Telegram (or the loopback fake) unchanged. A transport
raises, it never returns a status: a send that returns has been accepted by Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.ratelimit import Retries, RetryingRateLimiter, retry_seconds


@dataclass(frozen=True)
class OutgoingMessage:
    """One Telegram HTML message; `buttons` are rows of (label, callback_data)."""

    chat_id: int
    text: str
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()


class DeliveryError(Exception):
    """Base class: the message was not (known to be) delivered."""


class ChatBlocked(DeliveryError):
    """The user blocked the bot or the chat is gone: never retry, tell the supervisor."""


class RetryLater(DeliveryError):
    """Telegram asked to wait (429): the message was not delivered."""

    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(detail or f"retry after {retry_after:g}s")
        self.retry_after = retry_after


class TransientError(DeliveryError):
    """A timeout, a dropped connection or a 5xx: Telegram may or may not have delivered it."""


class PermanentError(DeliveryError):
    """Telegram refused the request itself (a bad request): sending it again cannot help."""


class Transport(Protocol):
    async def send(self, message: OutgoingMessage) -> None:
        """Deliver `message` or raise a DeliveryError."""
        ...


NO_NETWORK_RETRIES = Retries(network=0)
_GONE_CHAT = ("chat not found", "user is deactivated", "peer_id_invalid")


class TelegramTransport:
    """Sends through a PTB `Bot` (the application's, so it shares its HTTP pool).

    The application's limiter (bot/ratelimit.py) paces these sends like every other message
    and retries a 429 for that chat only; a 429 it gives up on arrives here as RetryLater.
    Each send asks it not to retry a timeout (`Retries(network=0)`): the dispatcher retries
    that after the claim lease, which keeps one place deciding a possible duplicate. Any other
    limiter is left alone (it would not know `Retries`).
    """

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, message: OutgoingMessage) -> None:
        extra: dict[str, Any] = {}
        if isinstance(self.bot, ExtBot) and isinstance(self.bot.rate_limiter, RetryingRateLimiter):
            extra["rate_limit_args"] = NO_NETWORK_RETRIES
        keyboard = None
        if message.buttons:
            keyboard = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                    for row in message.buttons
                ]
            )
        try:
            await self.bot.send_message(
                message.chat_id,
                message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
                **extra,
            )
        except Forbidden as error:
            raise ChatBlocked(str(error)) from error
        except RetryAfter as error:
            raise RetryLater(retry_seconds(error), str(error)) from error
        except BadRequest as error:
            if any(text in str(error).lower() for text in _GONE_CHAT):
                raise ChatBlocked(str(error)) from error
            raise PermanentError(str(error)) from error
        except NetworkError as error:  # TimedOut, dropped connections, 5xx
            raise TransientError(f"{type(error).__name__}: {error}") from error
        except TelegramError as error:  # ChatMigrated, InvalidToken …
            raise PermanentError(f"{type(error).__name__}: {error}") from error
