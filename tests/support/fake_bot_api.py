"""A fake of the Telegram Bot API: the methods the bot calls, answered like Telegram, in memory.

In process, PTB talks to it through `fake.request()`, a `telegram.request.BaseRequest`::

    fake = FakeBotApi()
    app = build_application(settings, database, request=fake.request(),
                            get_updates_request=fake.request())

A bot in another process, or on a webhook, reaches it over HTTP on 127.0.0.1 while
`async with FakeBotApi() as fake:` runs (tests/support/fake_bot_http.py); `fake.api_base_url`
and `fake.file_base_url` are then its URLs. Both transports hand each call to `call`.

The test side plays the users (`send_text`, `send_document`, `press` queue an update) and reads
what the bot did (`sent`, `messages_since`, `calls`, …); the waiting helpers are woken by every
change (no blind sleeps). Telegram's rules the bot relies on are kept: HTML checked and the
4,096 limit measured on what the user sees, callback data of at most 64 bytes, "message is not
modified", a callback query answered once, blocked users, files downloaded by path; and faults
can be injected (`fail_next`, `set_handler`).
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from telegram.error import NetworkError
from telegram.request import RequestData

from bench.inprocess import AnsweredRequest
from tests.support.fake_bot_http import post_update_to_webhook, serve_http
from tests.support.fake_bot_records import (
    DEFAULT_TOKEN,
    JSON,
    ApiError,
    ApiRequest,
    BotMessage,
    CallbackAnswer,
    CallbackQuery,
    FakeFile,
    Fault,
    MessageEvent,
    TgChat,
    TgUser,
    Webhook,
    bad_request,
    inline_keyboard,
    keyboard_json,
    parse_html,
    visible,
)

if TYPE_CHECKING:
    from bench.inprocess import AnsweredRequest
from tests.support.fake_bot_http import HttpFront

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "BotMessage",
    "FakeBotApi",
    "TgUser",
    "parse_html",
    "post_update_to_webhook",
]

Files = dict[str, tuple[str | None, bytes, str | None]]  # part -> (filename, data, mime type)
Handler = Callable[[JSON, Files], Any]
METHODS = frozenset(  # everything the bot calls, PTB's start and stop included
    {"getMe", "getUpdates", "setWebhook", "deleteWebhook", "setMyCommands", "sendMessage"}
    | {"sendDocument", "sendPhoto", "sendChatAction", "editMessageText", "deleteMessage"}
    | {"editMessageReplyMarkup", "answerCallbackQuery", "getFile"}
)
_BOT: JSON = {"id": int(DEFAULT_TOKEN.split(":")[0]), "is_bot": True, "first_name": "测试机器人"}
_IN_PROCESS = "http://fake-bot-api.invalid"  # only ever parsed by `FakeRequest`, never dialled
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


class FakeBotApi:
    def __init__(self, *, default_timeout: float = 5.0, deliver_webhooks: bool = True) -> None:
        """default_timeout: of the waiting helpers. deliver_webhooks: over HTTP, post queued
        updates to the webhook the bot set (False: the test posts them itself)."""
        self.default_timeout = default_timeout
        self.deliver_webhooks = deliver_webhooks
        self.long_poll_cap = 1.0  # seconds a getUpdates waits at most, whatever it asks
        self.bot_username = "jixiao_test_bot"
        self.requests: list[ApiRequest] = []
        self.events: list[MessageEvent] = []
        self.errors: list[str] = []  # exceptions raised inside the fake itself
        self.callback_queries: dict[str, CallbackQuery] = {}
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.chat_actions: list[tuple[int, str, float]] = []
        self.commands: dict[str, list[tuple[str, str]]] = {}  # scope (as JSON) -> commands
        self.webhook = Webhook()
        self.faults: list[Fault] = []
        self.handlers: dict[str, Handler] = {}
        self.blocked: set[int] = set()
        self._chats: dict[int, TgChat] = {}
        self._log: dict[int, list[BotMessage | str]] = {}  # both sides of each chat
        self._messages: dict[tuple[int, int], BotMessage] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._files: dict[str, FakeFile] = {}
        self._pending: dict[int, JSON] = {}  # updates the bot has not confirmed
        self._ids = itertools.count(10_001)
        self._update_ids = itertools.count(100_000_001)
        self._cursor: dict[int, int] = {}  # chat -> first event `wait_for_message` looks at
        self._waiters: set[asyncio.Future[None]] = set()
        self._in_flight = 0
        self._last_activity = time.monotonic()
        self._http: HttpFront | None = None

    # --- transports ----------------------------------------------------------------------------

    def request(self) -> FakeRequest:
        """A PTB transport answered by this fake (one for `request`, one for getUpdates)."""
        return FakeRequest(self)

    async def __aenter__(self) -> FakeBotApi:
        self._http = await serve_http(self)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._http is not None:
            await self._http.stop()
            self._http = None

    @property
    def api_base_url(self) -> str:
        """TELEGRAM_API_BASE_URL: the HTTP server while it runs."""
        return f"{self._http.url if self._http else _IN_PROCESS}/bot"

    @property
    def file_base_url(self) -> str:
        return f"{self._http.url if self._http else _IN_PROCESS}/file/bot"

    # --- faults --------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        n: int = 1,
        *,
        status: int = 429,
        retry_after: int = 1,
        drop: bool = False,
        processed: bool = False,
        description: str | None = None,
    ) -> Fault:
        """Answer the next `n` calls of `method` with an error: 429 with retry_after, another
        status (and `description`), or `drop=True` to drop the connection unanswered.
        `processed=True` performs the call first (the message is sent) and fails after: "the
        answer was lost"."""
        fault = Fault(method.lower(), n, status, retry_after, drop, processed, description)
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_handler(self, method: str, handler: Handler | None) -> None:
        """Answer `method` with `handler(params, files)`, sync or async: its result, or the
        ApiError it raises; `perform` gives the fake's own answer. None: the fake's again."""
        if handler is None:
            self.handlers.pop(method.lower(), None)
        else:
            self.handlers[method.lower()] = handler

    def perform(self, method: str, params: JSON, files: Files | None = None) -> Any:
        snake = re.sub(r"([A-Z])", r"_\1", method).lower()
        return getattr(self, f"_{snake}")(params, files or {})

    # --- users and chats -----------------------------------------------------------------------

    def user(self, first_name: str = "Test", *, id: int | None = None, **more: Any) -> TgUser:
        """A new user (a fresh id unless given) whose private chat the bot may write to."""
        user = TgUser(next(self._ids) if id is None else id, first_name, **more)
        self.register_chat(user.private_chat)
        return user

    def group(self, title: str = "测试群") -> TgChat:
        return self.register_chat(TgChat(-4_000_000 - next(self._ids), "group", title))

    def register_chat(self, chat: TgChat) -> TgChat:
        """Make a chat known: sending to any other is refused with "chat not found"."""
        self._log.setdefault(chat.id, [])
        self._message_ids.setdefault(chat.id, itertools.count(1))
        return self._chats.setdefault(chat.id, chat)

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: sending to them is refused with 403."""
        self.blocked.add(chat_id)

    # --- the users' side -----------------------------------------------------------------------

    def send_text(self, user: TgUser, chat: TgChat | None, text: str) -> JSON:
        """`user` writes `text` in `chat` (None: their private chat); a leading /command gets
        its bot_command entity as a Telegram client adds it. Returns the queued update."""
        message = self._user_message(user, chat, text)
        message["text"] = text
        if command := re.match(r"/\w+(@\w+)?", text):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
        return self._enqueue({"message": message})

    def send_document(
        self,
        user: TgUser,
        chat: TgChat | None,
        filename: str,
        data: bytes,
        mime_type: str | None = None,
        *,
        caption: str | None = None,
    ) -> JSON:
        """`user` sends a file, which the bot can getFile and download. Returns the update."""
        stored = self._store(filename, data, mime_type)
        message = self._user_message(user, chat, f"({filename!r}, {len(data)} B) {caption or ''}")
        message["document"] = stored.to_json()
        if caption:
            message["caption"] = caption
        return self._enqueue({"message": message})

    def press(
        self, user: TgUser, message: BotMessage, callback_data: str, *, check: bool = True
    ) -> str:
        """`user` presses the button with `callback_data` under `message` (`check=False`
        forges data that is not in its current keyboard). Returns the callback query's id."""
        current = self.message(message.chat_id, message.message_id)
        if check and callback_data not in [b.callback_data for b in current.buttons]:
            raise AssertionError(f"no {callback_data!r} under #{current.message_id}: {current}")
        query_id = str(4_000_000_000 + len(self.callback_queries))
        self._cursor[current.chat_id] = len(self.events)
        self._log[current.chat_id].append(f"[user presses {callback_data!r}]")
        query = {"id": query_id, "from": user.to_json(), "data": callback_data}
        query |= {"message": self._message_json(current), "chat_instance": str(current.chat_id)}
        update_id = self._enqueue({"callback_query": query})["update_id"]
        self.callback_queries[query_id] = CallbackQuery(current.chat_id, update_id)
        return query_id

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates queued and not yet confirmed by the bot."""
        return list(self._pending.values())

    def _user_message(self, user: TgUser, chat: TgChat | None, text: str) -> JSON:
        chat = self.register_chat(chat or user.private_chat)
        self._cursor[chat.id] = len(self.events)
        message_id = next(self._message_ids[chat.id])
        self._log[chat.id].append(f"[user #{message_id}] {text}")
        return {
            "message_id": message_id,
            "from": user.to_json(),
            "chat": chat.to_json(),
            "date": int(time.time()),
        }

    def _enqueue(self, update: JSON) -> JSON:
        update = {"update_id": next(self._update_ids), **update}
        self._pending[update["update_id"]] = update
        self._notify()
        return update

    # --- what the bot did ----------------------------------------------------------------------

    def sent(self, chat_id: int, *, include_deleted: bool = True) -> list[BotMessage]:
        """The bot's messages in a chat, oldest first, in their current state."""
        log = self._log.get(chat_id, [])
        return [m for m in log if isinstance(m, BotMessage) and (include_deleted or not m.deleted)]

    def last_message(self, chat_id: int) -> BotMessage | None:
        return ([None, *self.sent(chat_id, include_deleted=False)])[-1]

    def message(self, chat_id: int, message_id: int) -> BotMessage:
        if (chat_id, message_id) not in self._messages:
            raise AssertionError(f"no bot message #{message_id} in chat {chat_id}")
        return self._messages[(chat_id, message_id)]

    def calls(self, method: str) -> list[ApiRequest]:
        return [r for r in self.requests if r.method.lower() == method.lower()]

    def failed_requests(self) -> list[ApiRequest]:
        return [r for r in self.requests if r.status not in (None, 200)]

    def get_commands(self, scope: JSON | None = None) -> list[tuple[str, str]]:
        """The commands set with setMyCommands for a scope (None: the default scope)."""
        return list(self.commands.get(_scope_key(scope), []))

    def mark(self) -> int:
        """A point in the message events, for `messages_since` and `wait_for_message`."""
        return len(self.events)

    def mark_read(self, chat_id: int) -> None:
        """`wait_for_message(chat_id)` only returns messages sent or edited from now on."""
        self._cursor[chat_id] = len(self.events)

    def messages_since(self, chat_id: int, mark: int) -> list[BotMessage]:
        """The bot messages of a chat sent or edited after `mark`, each once in the order first
        touched, in their current state."""
        ids = dict.fromkeys(e.message_id for e in self.events[mark:] if e.chat_id == chat_id)
        return [self.message(chat_id, message_id).snapshot() for message_id in ids]

    def format_transcript(self, chat_id: int | None = None, *, last: int = 30) -> str:
        lines: list[str] = []
        for chat in [chat_id] if chat_id is not None else list(self._log):
            log = self._log.get(chat, [])
            lines.append(f"chat {chat} ({len(log)} messages, the last {last} shown):")
            lines += [f"  {m if isinstance(m, str) else m.describe()}" for m in log[-last:]]
        failed = [f"{r.method} -> {r.status} {r.response}" for r in self.failed_requests()]
        lines += ["failed bot API calls: " + "; ".join(failed[-8:])] if failed else []
        lines += [f"updates not confirmed: {sorted(self._pending)}"] if self._pending else []
        lines += [f"errors inside the fake: {self.errors[-3:]}"] if self.errors else []
        return "\n".join(lines)

    # --- waiting -------------------------------------------------------------------------------

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def changed(self, timeout: float | None) -> None:
        """Return at the next change in the fake, or after `timeout` seconds."""
        if timeout is not None and timeout <= 0:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait({waiter}, timeout=timeout)
        finally:
            self._waiters.discard(waiter)

    async def wait_until(
        self,
        condition: Callable[[], Any],
        *,
        timeout: float | None = None,
        what: str = "",
        chat_id: int | None = None,
    ) -> Any:
        """`condition()` once it is truthy; AssertionError with the transcript on timeout."""
        timeout = self.default_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while not (value := condition()):
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"timed out after {timeout:g}s waiting for {what or condition!r}\n"
                    + self.format_transcript(chat_id)
                )
            await self.changed(deadline - time.monotonic())
        return value

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[BotMessage], bool] | None = None,
        *,
        timeout: float | None = None,
        after: int | None = None,
    ) -> BotMessage:
        """The next bot message sent or edited in a chat (as it was then) that matches
        `predicate`: after `after` (a `mark()`), by default after the last one returned here or
        the last update sent to the chat."""
        start = self._cursor.get(chat_id, 0) if after is None else after

        def found() -> list[MessageEvent]:
            events = self.events[start:]
            return [e for e in events if e.chat_id == chat_id and (predicate or bool)(e.message)]

        what = f"a bot message in chat {chat_id}"
        event = (await self.wait_until(found, timeout=timeout, what=what, chat_id=chat_id))[0]
        self._cursor[chat_id] = max(self._cursor.get(chat_id, 0), event.seq + 1)
        return event.message  # type: ignore[no-any-return]

    async def wait_for_call(
        self, method: str, *, after: int = 0, completed: bool = True, timeout: float | None = None
    ) -> ApiRequest:
        """The first call of `method` after `after` (a `len(fake.requests)`), by default once
        it was answered."""

        def found() -> list[ApiRequest]:
            calls = [r for r in self.requests[after:] if r.method.lower() == method.lower()]
            return [r for r in calls if not completed or r.status is not None]

        return (await self.wait_until(found, timeout=timeout, what=f"a {method} call"))[0]  # type: ignore[no-any-return]

    async def wait_confirmed(self, update_id: int, *, timeout: float | None = None) -> None:
        """Until the bot confirmed an update: a later getUpdates offset, or its webhook's 2xx."""
        what = f"the bot to confirm update {update_id}"
        await self.wait_until(lambda: update_id not in self._pending, timeout=timeout, what=what)

    async def wait_idle(self, *, quiet: float = 0.05, timeout: float | None = None) -> None:
        """Until every update was confirmed, no call (but getUpdates) is in flight and none
        came for `quiet` seconds."""
        timeout = self.default_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            busy = bool(self._pending) or self._in_flight > 0
            rest = quiet - (now - self._last_activity)
            if not busy and rest <= 0:
                return
            if now >= deadline:
                raise AssertionError(
                    f"the bot is not idle after {timeout:g}s ({self._in_flight} calls in "
                    f"flight)\n" + self.format_transcript()
                )
            await self.changed(deadline - now if busy else min(rest, deadline - now))

    # --- answering a call ----------------------------------------------------------------------

    async def call(self, method: str, params: JSON, files: Files) -> tuple[int, JSON] | None:
        """Answer one Bot API call: (HTTP status, body), or None to drop the connection."""
        record = ApiRequest(len(self.requests) + 1, method, params, time.monotonic())
        self.requests.append(record)
        counted = method != "getUpdates"  # a waiting long poll is no work in flight
        self._in_flight += counted
        self._last_activity = time.monotonic()
        self._notify()
        try:
            answer = await self._answer(record, files)
        finally:
            self._in_flight -= counted
            self._last_activity = time.monotonic()
        record.status, record.response = answer or (0, None)
        self._notify()
        return answer

    async def _answer(self, record: ApiRequest, files: Files) -> tuple[int, JSON] | None:
        key = record.method.lower()
        fault = next((f for f in self.faults if f.method == key and f.remaining > 0), None)
        if fault is not None:
            fault.remaining -= 1
            fault.fired += 1
            record.fault = "drop" if fault.drop else str(fault.status)
            if not fault.processed:
                return fault.answer()
        try:
            if key in self.handlers:
                result = self.handlers[key](record.params, files)
            elif record.method in METHODS:
                result = self.perform(record.method, record.params, files)
            else:
                raise ApiError(404, f"Not Found: the fake does not know {record.method}")
            if inspect.isawaitable(result):
                result = await result
        except ApiError as error:
            return error.status, error.payload()
        except Exception as error:  # a bug in the fake: tell the bot and the test
            self.errors.append(f"{record.method}: {error!r}")
            return 500, ApiError(500, f"Internal Server Error (fake): {error!r}").payload()
        return fault.answer() if fault is not None else (200, {"ok": True, "result": result})

    def download(self, file_path: str) -> bytes | None:
        found = [f for f in self._files.values() if f.file_path == file_path]
        return found[0].data if found else None

    def next_webhook_update(self) -> JSON | None:
        """The update to post to the webhook, if one is set and the fake delivers."""
        if not (self.webhook.url and self.deliver_webhooks and self._pending):
            return None
        return self._pending[min(self._pending)]

    def confirm(self, update_id: int) -> None:
        """The webhook took the update."""
        self._pending.pop(update_id, None)
        self._notify()

    # --- the Bot API methods -------------------------------------------------------------------

    def _get_me(self, params: JSON, files: Files) -> JSON:
        return {**_BOT, "username": self.bot_username}

    async def _get_updates(self, params: JSON, files: Files) -> list[JSON]:
        if self.webhook.url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        for update_id in [u for u in self._pending if u < int(params.get("offset") or 0)]:
            del self._pending[update_id]
        self._notify()
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), self.long_poll_cap)
        while not self._pending and time.monotonic() < deadline:
            await self.changed(deadline - time.monotonic())
        return [self._pending[u] for u in sorted(self._pending)[: int(params.get("limit") or 100)]]

    def _set_webhook(self, params: JSON, files: Files) -> bool:
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        self._delete_webhook(params, files)
        self.webhook = Webhook(str(params.get("url") or ""), secret)
        return True

    def _delete_webhook(self, params: JSON, files: Files) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = Webhook()
        return True

    def _set_my_commands(self, params: JSON, files: Files) -> bool:
        commands = [(c.get("command"), c.get("description")) for c in params.get("commands") or []]
        for name, description in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(name)):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[_scope_key(params.get("scope"))] = commands
        return True

    def _chat(self, params: JSON) -> TgChat:
        chat = self._chats.get(int(params.get("chat_id") or 0))
        if chat is None:
            raise bad_request("chat not found")
        if chat.id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _send_message(self, params: JSON, files: Files) -> JSON:
        chat = self._chat(params)
        text = str(params.get("text"))
        shown = visible(text, params.get("parse_mode"), 4096, "message is too long", "text")
        return self._new(chat, "sendMessage", params, text=text, visible_text=shown)

    def _send_document(self, params: JSON, files: Files, kind: str = "document") -> JSON:
        chat = self._chat(params)
        caption = params.get("caption")
        shown = visible(caption, params.get("parse_mode"), 1024, "message caption is too long")
        attached = str(params.get(kind) or "")
        upload = files.get(attached.removeprefix("attach://") if attached else kind)
        if upload is None or not upload[1]:
            raise bad_request(f"there is no {kind} in the request (the fake takes uploads only)")
        document = self._store(*upload, caption=caption)
        method = "sendPhoto" if kind == "photo" else "sendDocument"
        return self._new(
            chat, method, params, caption=caption, visible_text=shown, document=document
        )

    def _send_photo(self, params: JSON, files: Files) -> JSON:
        return self._send_document(params, files, "photo")

    def _new(self, chat: TgChat, method: str, params: JSON, **content: Any) -> JSON:
        markup = inline_keyboard(params.get("reply_markup"))
        message_id = next(self._message_ids[chat.id])
        message = BotMessage(chat.id, message_id, method, int(time.time()), **content)
        message.reply_markup, message.params, message.photo = markup, params, method == "sendPhoto"
        self._messages[(chat.id, message_id)] = message
        self._log[chat.id].append(message)
        self._event("sent", message)
        return self._message_json(message)

    def _event(self, kind: str, message: BotMessage) -> None:
        seq = len(self.events)
        snapshot = message.snapshot()
        self.events.append(MessageEvent(seq, kind, message.chat_id, message.message_id, snapshot))
        self._notify()

    def _message_json(self, message: BotMessage) -> JSON:
        data: JSON = {"message_id": message.message_id, "from": _BOT, "date": message.date}
        data["chat"] = self._chats[message.chat_id].to_json()
        if message.photo and message.document:
            data["photo"] = [message.document.to_json(photo=True)]
        elif message.document:
            data["document"] = message.document.to_json()
        key = "text" if message.document is None else "caption"
        data[key] = message.visible_text
        if message.reply_markup:
            data["reply_markup"] = keyboard_json(message.reply_markup)
        if message.edits:
            data["edit_date"] = int(time.time())
        return {key: value for key, value in data.items() if value}

    def _editable(self, params: JSON, what: str = "edit") -> BotMessage:
        found = self._messages.get((int(params.get("chat_id") or 0), int(params["message_id"])))
        if found is None or found.deleted:
            raise bad_request(f"message to {what} not found")
        return found

    def _edit(self, message: BotMessage, params: JSON, text: str | None = None) -> JSON:
        markup = inline_keyboard(params.get("reply_markup"))
        mode = params.get("parse_mode")
        shown = None if text is None else visible(text, mode, 4096, "MESSAGE_TOO_LONG", "text")
        if shown in (None, message.visible_text) and markup == message.reply_markup:
            raise bad_request(_NOT_MODIFIED)
        if shown is not None:
            message.text, message.visible_text = text, shown
        message.reply_markup, message.params = markup, params
        message.edits += 1
        self._event("edited", message)
        return self._message_json(message)

    def _edit_message_text(self, params: JSON, files: Files) -> JSON:
        message = self._editable(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        return self._edit(message, params, str(params.get("text")))

    def _edit_message_reply_markup(self, params: JSON, files: Files) -> JSON:
        return self._edit(self._editable(params), params)

    def _delete_message(self, params: JSON, files: Files) -> bool:
        self._editable(params, "delete").deleted = True
        self._notify()
        return True

    def _answer_callback_query(self, params: JSON, files: Files) -> bool:
        query_id = str(params.get("callback_query_id"))
        query = self.callback_queries.get(query_id)
        if query is None or query.answered:
            raise bad_request(_QUERY_INVALID)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        self.callback_answers[query_id] = CallbackAnswer(text, bool(params.get("show_alert")))
        return True

    def _send_chat_action(self, params: JSON, files: Files) -> bool:
        chat = self._chat(params)
        self.chat_actions.append((chat.id, str(params.get("action")), time.monotonic()))
        return True

    def _get_file(self, params: JSON, files: Files) -> JSON:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > 20 * 1024 * 1024:
            raise bad_request("file is too big")
        return {**stored.to_json(), "file_path": stored.file_path}

    def _store(
        self, filename: str | None, data: bytes, mime_type: str | None, caption: Any = None
    ) -> FakeFile:
        stored = FakeFile(f"FILE{len(self._files) + 1:06d}", filename, data, mime_type, caption)
        self._files[stored.file_id] = stored
        return stored


def _scope_key(scope: Any) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


class FakeRequest(AnsweredRequest):
    """PTB's transport, answered in process by a `FakeBotApi`: PTB builds its requests and
    reads Telegram's answers as over HTTP; a dropped connection is PTB's NetworkError."""

    def __init__(self, fake: FakeBotApi) -> None:
        self.fake = fake

    async def respond(self, url: str, request_data: RequestData | None) -> tuple[int, bytes]:
        if "/file/bot" in url:
            data = self.fake.download(url.split("/file/bot", 1)[1].split("/", 1)[1])
            return (200, data) if data is not None else (404, b'{"ok":false,"error_code":404}')
        params = dict(request_data.parameters) if request_data else {}
        parts = request_data.multipart_data if request_data else {}
        files: Files = {
            name: (filename, content if isinstance(content, bytes) else content.read(), mime)
            for name, (filename, content, mime) in parts.items()
        }
        answer = await self.fake.call(url.rsplit("/", 1)[1], params, files)
        if answer is None:
            raise NetworkError("the fake dropped the connection")
        return answer[0], json.dumps(answer[1], ensure_ascii=False).encode()
