"""Building and running the Telegram bot (`jixiao run` / `jixiao webhook`).

`build_application(settings, database)` is the whole bot as a PTB Application — the same object
the tests drive over HTTP against a fake Bot API — and `run_bot` adds what a process needs:
logging that never shows the token, the database migrated at start, polling or PTB's webhook
server (which answers 403 to requests without Telegram's secret-token header).
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from functools import partial
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseRateLimiter,
    ContextTypes,
    Defaults,
)
from telegram.request import BaseRequest

from bot import messages
from bot.handlers import menu_for, register_handlers, set_chat_menu
from bot.handlers.common import DEPS_KEY, BotApplication, BotContext, Deps, in_thread
from bot.inbox import ClaimLost, Inbox, InboxApplication, InboxQueue
from bot.ratelimit import RetryingRateLimiter
from bot.reminders.jobs import install_reminders
from bot.roles import Directory
from bot.service import FilingService
from bot.settings import Settings, SettingsError
from bot.updates import PerUserOrderedProcessor, send_flood_notices
from dialogs.loader import DefinitionError, load_layouts
from exports.render import Renderer
from exports.render import missing as render_missing
from storage.db import Database
from storage.records import Role

_LOGGER = logging.getLogger(__name__)
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as secret_token


# --- logging -------------------------------------------------------------------------------------


def secrets_of(token: str, webhook_secret: str | None = None) -> dict[str, str]:
    """What must never reach a log, each with the placeholder it is replaced by: the bot token,
    its secret half on its own (after "<bot id>:"), and the webhook secret token."""
    found: dict[str, str] = {}
    if token:
        found[token] = "<TOKEN>"
        _, _, half = token.partition(":")
        if len(half) >= 16:
            found.setdefault(half, "<TOKEN>")
    if webhook_secret:
        found.setdefault(webhook_secret, "<WEBHOOK_SECRET>")
    return found


def redact(text: str, secrets: dict[str, str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):  # the whole token before its half
        if secret in text:
            text = text.replace(secret, secrets[secret])
    return text


class RedactSecrets(logging.Filter):
    """Replaces the secrets in every record (message and traceback) on the handlers it guards:
    a URL in an error message or the parameters of a logged Bot API call must not leak them,
    whatever the level."""

    def __init__(self, token: str, webhook_secret: str | None = None) -> None:
        super().__init__()
        self.secrets = secrets_of(token, webhook_secret)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logging module's to report
            return True
        redacted = redact(message, self.secrets)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


RedactToken = RedactSecrets  # the earlier name
_REDACTED: dict[str, str] = {}


def redact_everywhere(token: str, webhook_secret: str | None = None) -> None:
    """Redact the secrets from every log record when it is created, whatever logger or handler
    (PTB logs the Bot API URL with the token, and the parameters of setWebhook with the secret
    token, at DEBUG). The record factory is installed once per process; later calls add
    secrets to it."""
    added = secrets_of(token, webhook_secret)
    if not added or added.keys() <= _REDACTED.keys():
        return
    first = not _REDACTED
    for secret, label in added.items():
        _REDACTED.setdefault(secret, label)
    if not first:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logging module's to report
            return record
        redacted = redact(message, _REDACTED)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return record

    logging.setLogRecordFactory(factory)


def quiet_http_logs() -> None:
    # httpx logs every request URL at INFO, and the Bot API puts the token in the URL.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(token: str, webhook_secret: str | None = None) -> None:
    """INFO to stderr; the token and the webhook secret are redacted on every root handler, at
    every level (DEBUG included)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for handler in logging.getLogger().handlers:
        # Tracebacks are formatted after the record is created: the filter covers them.
        handler.addFilter(RedactSecrets(token, webhook_secret))
    redact_everywhere(token, webhook_secret)
    quiet_http_logs()


# --- the application -----------------------------------------------------------------------------


def detect_renderer() -> Renderer | None:
    reason = render_missing()
    if reason is not None:
        _LOGGER.warning("PDF and picture previews are off: %s", reason)
        return None
    return Renderer()


def build_application(
    settings: Settings,
    database: Database,
    *,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    reminders: bool = True,
    renderer: Renderer | Literal["detect"] | None = "detect",
    inbox: bool = True,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> BotApplication:
    """The bot on `database` (already migrated), talking to settings' Bot API base URL.

    `reminders=False` leaves out the reminder jobs, for a caller that installs them itself
    (tests on a fake clock): /remind, /policy and the review buttons need them. `renderer` makes
    PDFs and pictures of the printed tables: by default LibreOffice when it is installed, else none
    (the bot then says so and offers the workbook only). `inbox=False` leaves out the durable
    inbox (bot/inbox.py), only for measuring what it costs (bench/inbox.py). `request` and
    `get_updates_request` (PTB's `BaseRequest`; default PTB's HTTPX transport) carry the Bot API
    calls, for tests and benchmarks that answer them in process instead of over HTTP."""
    if settings.telegram_bot_token is None:
        raise SettingsError("TELEGRAM_BOT_TOKEN: not set (get one from @BotFather)")
    quiet_http_logs()
    webhook_secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    redact_everywhere(settings.telegram_bot_token.get_secret_value(), webhook_secret)
    deps = Deps(
        settings=settings,
        database=database,
        service=FilingService(database),
        directory=Directory(database, settings.admin_telegram_ids),
        renderer=detect_renderer() if renderer == "detect" else renderer,
    )
    defaults = Defaults(
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        tzinfo=settings.zone,
    )
    builder = ApplicationBuilder()
    queue: InboxQueue | None = None
    if inbox:
        # Updates are stored before they are acknowledged and applied once (bot/inbox.py).
        durable = Inbox(database)
        queue = InboxQueue(durable)
        builder = builder.application_class(InboxApplication, kwargs={"inbox": durable})
        builder = builder.update_queue(queue)
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    app: BotApplication = (
        builder.token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .context_types(ContextTypes(context=BotContext))
        .defaults(defaults)
        .concurrent_updates(PerUserOrderedProcessor())
        .rate_limiter(rate_limiter if rate_limiter is not None else RetryingRateLimiter())
        .post_init(_post_init)
        .build()
    )
    app.bot_data[DEPS_KEY] = deps
    send_flood_notices(app, messages.FLOOD_NOTICE)
    if queue is not None:
        queue.on_unstored = partial(tell_waiting_for_database, app)
    register_handlers(app)
    if reminders:
        install_reminders(app, database, settings)
    app.add_error_handler(on_error)
    return app


async def _post_init(app: BotApplication) -> None:
    """Register the command menu: everyone's in the default scope, admins' and supervisors' in
    their own chats."""
    deps: Deps = app.bot_data[DEPS_KEY]
    await app.bot.set_my_commands(menu_for(Role.STAFF))
    for admin_id in sorted(deps.settings.admin_telegram_ids):
        await set_chat_menu(app.bot, admin_id, Role.ADMIN)
    for user in await in_thread(deps.directory.supervisors):
        await set_chat_menu(app.bot, user.telegram_id, user.role)


async def tell_waiting_for_database(app: BotApplication, update: Update) -> None:
    """An update the inbox cannot store (the database is down) is not acknowledged, so Telegram
    delivers it again and it is handled once the database is back; its user is told so."""
    chat = update.effective_chat
    if chat is not None and chat.type == "private":
        await app.bot.send_message(chat.id, messages.DATABASE_DOWN_QUEUED)


def database_unavailable(error: BaseException | None) -> bool:
    """The database could not be reached (down, refused, locked, pool exhausted)."""
    if isinstance(error, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure and tell the user, once, that their confirmed answers are safe.

    A failed update ends here: ApplicationHandlerStop keeps PTB from running the next handler
    group, which would fail again (the gate in group -1 failed, so no one is identified) and
    send a second message."""
    error = context.error
    if isinstance(error, ClaimLost):
        # Another process took the update over and answers it; nothing was saved here.
        raise ApplicationHandlerStop
    if isinstance(update, Update) and isinstance(error, Forbidden) and update.effective_user:
        # The user blocked the bot: remember it, so reminders stop until they write again.
        with contextlib.suppress(SQLAlchemyError):
            await in_thread(context.deps.directory.mark_blocked, update.effective_user.id)
        raise ApplicationHandlerStop
    update_id = update.update_id if isinstance(update, Update) else None
    _LOGGER.error("update %s failed", update_id, exc_info=error)
    if not isinstance(update, Update):
        return
    chat = update.effective_chat
    if chat is not None and chat.type == "private":
        text = messages.DATABASE_DOWN if database_unavailable(error) else messages.ERROR_TEXT
        try:
            await context.bot.send_message(chat.id, text)
        except TelegramError as send_error:
            _LOGGER.warning("could not tell the user about the error: %s", send_error)
    raise ApplicationHandlerStop


# --- running -------------------------------------------------------------------------------------


def webhook_options(settings: Settings) -> dict[str, Any]:
    """Arguments for run_webhook / Updater.start_webhook; SettingsError when incomplete."""
    if not settings.webhook_url:
        raise SettingsError("WEBHOOK_URL: not set (the public https URL Telegram posts to)")
    if settings.webhook_secret is None:
        raise SettingsError("WEBHOOK_SECRET_TOKEN: not set (1-256 of A-Z a-z 0-9 _ -)")
    secret = settings.webhook_secret.get_secret_value()
    if not _SECRET.fullmatch(secret):
        raise SettingsError("WEBHOOK_SECRET_TOKEN: use 1-256 of A-Z a-z 0-9 _ -")
    parts = urlsplit(settings.webhook_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError("WEBHOOK_URL: must be an https URL, e.g. https://example.org/tg")
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": parts.path.strip("/"),
        "webhook_url": settings.webhook_url,
        "secret_token": secret,
        "allowed_updates": ALLOWED_UPDATES,
    }


def _fail(kind: str, message: str, code: int) -> int:
    print(f"{kind}: {message}", file=sys.stderr)
    return code


def run_bot(settings: Settings, *, webhook: bool = False) -> int:
    """Run until interrupted. Configuration problems are one line on stderr and exit 2."""
    assert settings.telegram_bot_token is not None  # settings_or_exit(require_token=True)
    webhook_secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    configure_logging(settings.telegram_bot_token.get_secret_value(), webhook_secret)
    try:
        options = webhook_options(settings) if webhook else {}
    except SettingsError as error:
        return _fail("配置错误 / configuration error", str(error), 2)
    try:
        load_layouts()  # a broken form definition stops the start, not a user's later step
    except DefinitionError as error:
        return _fail("表样定义错误 / form definition error", str(error), 2)
    try:
        database = Database(settings.effective_database_url)
    except (ArgumentError, ValueError) as error:
        return _fail("配置错误 / configuration error", f"DATABASE_URL: {error}", 2)
    try:
        database.upgrade()
    except SQLAlchemyError as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        return _fail("数据库错误 / database error", first, 1)
    try:
        app = build_application(settings, database)
        if webhook:
            app.run_webhook(**options)
        else:
            app.run_polling(allowed_updates=ALLOWED_UPDATES)
    finally:
        database.dispose()
    return 0


__all__ = ["build_application", "run_bot", "webhook_options"]
