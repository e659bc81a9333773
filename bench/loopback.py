"""A thin Telegram Bot API on 127.0.0.1 for benchmarks: real HTTP/1.1, real sockets.

    async with LoopbackBotApi() as api:        # listens on an ephemeral port
        env = {"TELEGRAM_API_BASE_URL": api.api_base_url, ...}   # a bot in another process
        api.subscribe(listener)                # every request, when it arrives
        api.deliver(api.text_update(user_id, "/fill"))   # offered to the next getUpdates

A bot process long polls it as it would Telegram: `getUpdates` with offset, limit and timeout
returns every queued update at once (a batch) or waits up to `timeout` for the first one;
updates below the offset are acknowledged and forgotten. The calls a bot makes at start and
while answering (getMe, deleteWebhook, setMyCommands, sendMessage, editMessageText,
answerCallbackQuery, sendChatAction, sendDocument, sendPhoto…) get answers shaped like
Telegram's, enough for PTB to parse them; a method not known here is answered `true` and
counted in `unknown`, so a benchmark can say which calls it did not model.

Deliberately thin: one asyncio server with keep-alive connections and nothing else (no
validation of texts or keyboards, no files), so that what it costs stays small next to the
bots it serves. `rate_limit` makes a method answer 429 above a number of requests a second,
as Telegram does (the reminders benchmark).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import json
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bench.bot_api_json import JSON, BotApiJson
from bench.inprocess import Call

_LOGGER = logging.getLogger(__name__)
TOKEN = "123456:BENCH-LOOPBACK-abcdefghijklmnop"
# Methods whose answer is a Message; the rest answer `true` unless handled in `_answer`.
_MESSAGE_METHODS = frozenset(
    {
        "sendmessage",
        "editmessagetext",
        "editmessagereplymarkup",
        "editmessagecaption",
        "senddocument",
        "sendphoto",
        "copymessage",
    }
)
_TRUE_METHODS = frozenset(
    {
        "deletewebhook",
        "setmycommands",
        "deletemycommands",
        "setchatmenubutton",
        "answercallbackquery",
        "sendchataction",
        "deletemessage",
        "setwebhook",
        "close",
        "logout",
    }
)
# Parameters that are strings in the Bot API; PTB sends every other value JSON-encoded.
_STRING_PARAMS = frozenset(
    {"text", "caption", "parse_mode", "callback_query_id", "action", "filename", "url"}
)

Listener = Callable[[Call, Any], None]


@dataclass(frozen=True)
class Served:
    """One request as answered: the call and the HTTP status (429 when rate limited)."""

    call: Call
    status: int

    @property
    def ok(self) -> bool:
        return self.status == 200


class LoopbackBotApi(BotApiJson):
    """See the module docstring."""

    def __init__(self, *, token: str = TOKEN, username: str = "jixiao_bench_bot") -> None:
        super().__init__(token=token, username=username)
        self.listeners: list[Listener] = []
        self.served: list[Served] = []
        self.record = True  # keep `served` (the reminders benchmark reads it)
        self.counts: Counter[str] = Counter()
        self.unknown: Counter[str] = Counter()
        self.polling = asyncio.Event()  # set at the first getUpdates: the bot is up
        self._pending: list[JSON] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._limits: dict[str, tuple[float, int, deque[float]]] = {}
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._closing = False
        self.port = 0

    # --- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> LoopbackBotApi:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._closing = True
        self._wake()
        if self._server is not None:
            self._server.close()
        for writer in list(self._connections):
            writer.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    @property
    def api_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def rate_limit(self, per_second: float, *, method: str, retry_after: int = 1) -> None:
        """More than `per_second` requests of `method` within any second: 429 retry_after."""
        self._limits[method.lower()] = (per_second, retry_after, deque())

    # --- updates ---------------------------------------------------------------------------

    def deliver(self, update: JSON) -> None:
        """Offer `update` to getUpdates (a waiting long poll returns it at once)."""
        self._pending.append(update)
        self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _get_updates(self, params: JSON) -> list[JSON]:
        self.polling.set()
        offset = int(params.get("offset") or 0)
        if offset:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while not self._pending and not self._closing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, remaining)
        return self._pending[: int(params.get("limit") or 100)]

    # --- answers ---------------------------------------------------------------------------

    async def _answer(self, method: str, params: JSON) -> Any:
        key = method.lower()
        if key == "getupdates":
            return await self._get_updates(params)
        if key == "getme":
            return self.bot_user()
        if key in _MESSAGE_METHODS and "chat_id" in params:
            return self.message_json(params, key)
        if key in ("getmycommands",):
            return []
        if key == "getwebhookinfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if key not in _TRUE_METHODS and key not in _MESSAGE_METHODS:
            if not self.unknown[method]:
                _LOGGER.warning("loopback Bot API: %s is not modelled, answered true", method)
            self.unknown[method] += 1
        return True

    def _limited(self, key: str, now: float) -> int | None:
        limit = self._limits.get(key)
        if limit is None:
            return None
        per_second, retry_after, times = limit
        while times and now - times[0] >= 1.0:
            times.popleft()
        if len(times) >= per_second:
            return retry_after
        times.append(now)
        return None

    async def _handle(self, target: str, headers: dict[str, str], body: bytes) -> tuple[int, JSON]:
        path = urlsplit(target).path
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return 404 if path.startswith("/file/") else 401, {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
        method = path[len(prefix) :]
        params = _parameters(headers.get("content-type", ""), body)
        now = time.perf_counter()
        self.counts[method] += 1
        retry_after = self._limited(method.lower(), now)
        call = Call(method, params, now)
        if retry_after is not None:
            if self.record:
                self.served.append(Served(call, 429))
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            }
        result = await self._answer(method, params)
        if self.record and method.lower() != "getupdates":
            self.served.append(Served(call, 200))
        for listener in self.listeners:
            listener(call, result)
        return 200, {"ok": True, "result": result}

    # --- HTTP/1.1 --------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while not self._closing:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                line, *lines = head.decode("latin-1").split("\r\n")
                _, target, _ = line.split(" ", 2)
                headers = {}
                for header in lines:
                    name, _, value = header.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                if "content-length" in headers:
                    body = await reader.readexactly(int(headers["content-length"]))
                elif headers.get("transfer-encoding", "").lower() == "chunked":
                    body = await _read_chunked(reader)
                else:
                    body = b""
                status, payload = await self._handle(target, headers, body)
                data = json.dumps(payload, ensure_ascii=False).encode()
                writer.write(
                    f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                    "Content-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._connections.discard(writer)
            writer.close()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            await reader.readline()
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readline()


def _value(name: str, raw: str) -> Any:
    if name in _STRING_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _parameters(content_type: str, body: bytes) -> JSON:
    """The request's parameters as the Bot API reads them: form fields (PTB's encoding) or
    the non-file parts of a multipart body (uploads)."""
    if not body:
        return {}
    if content_type.startswith("application/json"):
        decoded = json.loads(body)
        return decoded if isinstance(decoded, dict) else {}
    if content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        params: JSON = {}
        for part in message.iter_parts():  # type: ignore[attr-defined]
            name = part.get_param("name", header="content-disposition")
            if name and part.get_filename() is None:
                payload = part.get_payload(decode=True) or b""
                params[name] = _value(name, payload.decode("utf-8", "replace"))
        return params
    return {
        name: _value(name, raw) for name, raw in parse_qsl(body.decode(), keep_blank_values=True)
    }
