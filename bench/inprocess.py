"""The Telegram Bot API answered in process, for benchmarks: no sockets, no HTTP.

    api = InProcessBotApi()
    app = build_application(settings, database, request=api.request(),
                            get_updates_request=api.request())
    echo = api.builder().build()            # or any ApplicationBuilder: .request(api.request())

`InProcessRequest` is a `telegram.request.BaseRequest`, the class PTB's `HTTPXRequest` also
implements, so everything above the transport is the real thing: PTB serialises the parameters
(`RequestData.json_parameters`, as HTTPXRequest does for its form body), and parses a JSON
answer shaped like Telegram's into `Message` objects. Only the network is missing, so a
benchmark measures the bot and PTB, not sockets or a fake server's event loop.

Every call is recorded as a `Call` (method, decoded parameters, `time.perf_counter()` when the
bot made it) and handed to the listeners synchronously, at the moment the request is made.
Updates are fed by the caller (`application.update_queue.put(Update.de_json(...))`); the JSON
builders here shape them as Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import event
from telegram import Update
from telegram._utils.types import ODVInput
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, RequestData

from bench.bot_api_json import JSON, BotApiJson
from bench.echo_bot import echo_press, echo_text
from bot.ratelimit import Pacing, RetryingRateLimiter
from bot.settings import Settings
from bot.startup import build_application
from exports.render import Renderer
from storage.db import Database

TOKEN = "123456:BENCH-TOKEN-abcdefghijklmnopqrstuv"
# Methods whose answer is a Message: the rest answer `true` unless handled below.
_MESSAGE_METHODS = frozenset(
    {"sendmessage", "editmessagetext", "editmessagereplymarkup", "senddocument", "copymessage"}
)


@dataclass(frozen=True)
class Call:
    """One Bot API request the bot made; `params` as the server would decode them."""

    method: str
    params: JSON
    time: float  # time.perf_counter() when the request was made

    @property
    def chat_id(self) -> int | None:
        raw = self.params.get("chat_id")
        return int(raw) if isinstance(raw, int | str) and str(raw).lstrip("-").isdigit() else None

    @property
    def keyboard(self) -> list[list[JSON]] | None:
        markup = self.params.get("reply_markup")
        if isinstance(markup, dict):
            rows = markup.get("inline_keyboard")
            return rows if isinstance(rows, list) and rows else None
        return None


Listener = Callable[[Call, JSON | bool | list[JSON]], None]


class InProcessBotApi(BotApiJson):
    """The Bot API's state for one benchmark: message ids per chat, counts, listeners."""

    def __init__(self, *, token: str = TOKEN, username: str = "jixiao_bench_bot") -> None:
        super().__init__(token=token, username=username)
        self.counts: Counter[str] = Counter()
        self.listeners: list[Listener] = []

    # --- wiring ----------------------------------------------------------------------------

    def request(self) -> InProcessRequest:
        return InProcessRequest(self)

    def builder(self) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
        """An ApplicationBuilder for this API (token and both requests set)."""
        return (
            ApplicationBuilder()
            .token(self.token)
            .request(self.request())
            .get_updates_request(self.request())
        )

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    async def answer(self, method: str, params: JSON) -> JSON | bool | list[JSON]:
        key = method.lower()
        self.counts[method] += 1
        if key == "getme":
            return self.bot_user()
        if key == "getupdates":
            # Long polling with nothing to deliver: updates are put into the queue directly.
            await asyncio.sleep(min(float(params.get("timeout") or 0), 1.0))
            return []
        if key in _MESSAGE_METHODS and "chat_id" in params:
            return self.message_json(params, key)
        if key == "getmycommands":
            return []
        return True


class AnsweredRequest(BaseRequest):
    """A `BaseRequest` answered in this process: no connection to open, time out or close.
    A subclass answers `respond`; the fake Bot API of the tests builds on it too."""

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = None,
        write_timeout: ODVInput[float] = None,
        connect_timeout: ODVInput[float] = None,
        pool_timeout: ODVInput[float] = None,
    ) -> tuple[int, bytes]:
        return await self.respond(url, request_data)

    async def respond(self, url: str, request_data: RequestData | None) -> tuple[int, bytes]:
        """The HTTP status and body Telegram would answer to `url` with `request_data`."""
        raise NotImplementedError


class InProcessRequest(AnsweredRequest):
    """`AnsweredRequest` answered by an `InProcessBotApi` (see the module docstring)."""

    def __init__(self, api: InProcessBotApi) -> None:
        self.api = api

    async def respond(self, url: str, request_data: RequestData | None) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        params: JSON = {}
        if request_data is not None:
            # What HTTPXRequest does to build its body: the bot pays the same encoding cost.
            _ = request_data.json_parameters
            params = dict(request_data.parameters)
        call = Call(endpoint, params, time.perf_counter())
        result = await self.api.answer(endpoint, params)
        for listener in self.api.listeners:
            listener(call, result)
        return 200, json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()


# --- the two bots, in process --------------------------------------------------------------------


def bench_settings(database: Database, api: InProcessBotApi) -> Settings:
    values: dict[str, Any] = {
        "TELEGRAM_BOT_TOKEN": api.token,
        "DATABASE_URL": database.url.render_as_string(hide_password=False),
        "ADMIN_TELEGRAM_IDS": "",
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def our_application(
    database: Database,
    api: InProcessBotApi,
    *,
    renderer: Renderer | Literal["detect"] | None = "detect",
) -> Application[Any, Any, Any, Any, Any, Any]:
    # Pacing off: in production replies are spaced to stay under Telegram's flood limits
    # (25 messages/s overall), which would measure Telegram's limit instead of the bot. The
    # limiter itself stays in the path (it wraps every request). Reminders off: their ticks
    # would message the same users (bench/reminders.py measures them).
    return build_application(
        bench_settings(database, api),
        database,
        rate_limiter=RetryingRateLimiter(pacing=Pacing.off()),
        reminders=False,
        renderer=renderer,
        request=api.request(),
        get_updates_request=api.request(),
    )


def echo_application(api: InProcessBotApi) -> Application[Any, Any, Any, Any, Any, Any]:
    """PTB's defaults, a text handler and a button handler: nothing of ours."""
    app = api.builder().build()
    app.add_handler(MessageHandler(filters.TEXT, echo_text))
    app.add_handler(CallbackQueryHandler(echo_press))
    return app


@contextlib.asynccontextmanager
async def running(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    """initialize + start (the update fetcher reads `update_queue`); no polling, no webhook."""
    async with app:
        if app.post_init is not None:
            await app.post_init(app)  # what run_polling does first (the command menus)
        await app.start()
        try:
            yield
        finally:
            await app.stop()


def deliver_to(app: Application[Any, Any, Any, Any, Any, Any]) -> Callable[[JSON], Any]:
    """`Conversations`' deliver for an in-process application: straight into its queue."""

    async def deliver(update: JSON) -> None:
        await app.update_queue.put(Update.de_json(update, app.bot))

    return deliver


async def measure(run: Any, work: Awaitable[object], database: Database | None = None) -> None:
    """Wall time and this process's CPU time into `run` (a bench.chat.Run), and with a
    database the SQL statements and commits made meanwhile."""
    counts = Counter[str]()

    def statement(*_: object) -> None:
        counts["statements"] += 1

    def commit(*_: object) -> None:
        counts["transactions"] += 1

    if database is not None:
        event.listen(database.engine, "before_cursor_execute", statement)
        event.listen(database.engine, "commit", commit)
    cpu, start = time.process_time(), time.perf_counter()
    try:
        await work
    finally:
        run.seconds = time.perf_counter() - start
        run.cpu = time.process_time() - cpu
        if database is not None:
            event.remove(database.engine, "before_cursor_execute", statement)
            event.remove(database.engine, "commit", commit)
    run.statements, run.transactions = counts["statements"], counts["transactions"]
