"""A loopback fake of the Telegram Bot API for end-to-end tests.

The real PTB `Application` talks to it over HTTP on 127.0.0.1::

    async with FakeBotApi() as fake:
        app = fake.application_builder().build()      # token, base_url, base_file_url set
        app.add_handler(...)
        async with running_polling(app):               # tests/support/telegram_client.py
            alice = fake.user(first_name="Alice")
            fake.send_text(alice, None, "hello")       # None = alice's private chat
            reply = await fake.wait_for_message(alice.id)

The server is a tornado `HTTPServer` running in the *current* event loop (the pytest-asyncio
test loop), so everything here is single-threaded: the test-side methods (`send_text`, `press`,
…) are plain functions that queue an update and wake up the bot's pending `getUpdates`, and the
waiting helpers are coroutines woken by every state change (no blind sleeps).

Bot API behaviour that matters to a bot is imitated: long polling with offsets, webhooks (the
fake POSTs queued updates to the URL given in `setWebhook`, loopback only), HTML entity parsing
and the 4096-character limit measured after parsing, inline keyboard checks, "message is not
modified", unknown messages/queries, blocked users, and programmable faults (429/500/dropped
connections/slow answers) and rate limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import itertools
import json
import mimetypes
import re
import struct
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import tornado.httpserver
import tornado.netutil
import tornado.web

if TYPE_CHECKING:
    from telegram.ext import ApplicationBuilder

JSON = dict[str, Any]

DEFAULT_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuv"
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Update types delivered when allowed_updates is empty/unset (Telegram's default).
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
# Parameters that are strings in the Bot API; all others arrive JSON-encoded from PTB (form data).
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "file_id",
        "url",
        "secret_token",
        "ip_address",
        "description",
        "short_description",
        "name",
        "title",
        "language_code",
        "action",
        "emoji",
        "business_connection_id",
        "message_effect_id",
        "document",
        "photo",
        "thumbnail",
    }
)


class ApiError(Exception):
    """Raised inside the fake (or by a custom handler) to answer with a Bot API error."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


# --------------------------------------------------------------------------------------------
# Users, chats and records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TgUser:
    """A Telegram user on the test side. Their private chat has the same id."""

    id: int
    first_name: str = "Test"
    username: str | None = None
    language_code: str | None = "zh-hans"
    last_name: str | None = None
    is_bot: bool = False

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    @property
    def private_chat(self) -> TgChat:
        return TgChat(
            id=self.id,
            type="private",
            first_name=self.first_name,
            last_name=self.last_name,
            username=self.username,
        )


@dataclass(frozen=True)
class TgChat:
    id: int
    type: str = "private"  # private | group | supergroup | channel
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


class InlineButton(tuple[str, str | None]):
    """One inline keyboard button: a `(text, data)` pair where data is the callback_data or the
    url; `kind` says which ("callback_data", "url", "switch_inline_query", …).

    Compares equal to a plain `(text, data)` tuple, so `msg.reply_markup == [[("OK", "ok")]]`.
    """

    kind: str

    def __new__(cls, text: str, data: str | None, kind: str = "callback_data") -> InlineButton:
        self = super().__new__(cls, (text, data))
        self.kind = kind
        return self

    @property
    def text(self) -> str:
        return self[0]

    @property
    def data(self) -> str | None:
        return self[1]

    @property
    def callback_data(self) -> str | None:
        return self[1] if self.kind == "callback_data" else None

    @property
    def url(self) -> str | None:
        return self[1] if self.kind == "url" else None

    def __repr__(self) -> str:
        return f"InlineButton({self[0]!r}, {self[1]!r}, kind={self.kind!r})"


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    data: bytes
    content_type: str | None


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    filename: str | None
    data: bytes
    mime_type: str | None

    def document_json(self) -> JSON:
        data: JSON = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.filename is not None:
            data["file_name"] = self.filename
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data

    def photo_size_json(self) -> JSON:
        width, height = struct.unpack(">II", self.data[16:24]) if len(self.data) >= 24 else (1, 1)
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "width": width,
            "height": height,
        }


@dataclass(frozen=True)
class SentDocument:
    """A document the bot sent: `filename`, the file bytes in `data`, `caption` (as sent)."""

    filename: str | None
    data: bytes
    caption: str | None
    mime_type: str | None
    file_id: str

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class MessageVersion:
    """A former state of a bot message (kept in `BotMessage.history` when it is edited)."""

    text: str | None
    parse_mode: str | None
    visible_text: str | None
    reply_markup: list[list[InlineButton]] | None
    caption: str | None
    time: float
    method: str


@dataclass
class BotMessage:
    """A message the bot sent, in its current state (edits are applied, see `history`).

    `text` is the text exactly as the bot sent it (with HTML tags if `parse_mode` is HTML);
    `visible_text` is what the user sees (tags removed, entities unescaped, trimmed).
    For documents `text` is None and `caption`/`visible_text` hold the caption.
    `reply_markup` is the inline keyboard (rows of `InlineButton`) or None; a custom reply
    keyboard is in `reply_keyboard` (rows of labels); the raw markup is in `raw_reply_markup`.
    """

    chat_id: int
    message_id: int
    date: int
    time: float
    method: str
    text: str | None = None
    parse_mode: str | None = None
    visible_text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    reply_markup: list[list[InlineButton]] | None = None
    reply_keyboard: list[list[str]] | None = None
    raw_reply_markup: JSON | None = None
    document: SentDocument | None = None
    photo: bool = False  # sent with sendPhoto: `document` holds the picture
    reply_to_message_id: int | None = None
    params: JSON = field(default_factory=dict)
    history: list[MessageVersion] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False

    @property
    def edited(self) -> bool:
        return bool(self.history)

    @property
    def buttons(self) -> list[InlineButton]:
        """All inline buttons, row by row."""
        return [button for row in self.reply_markup or [] for button in row]

    @property
    def button_labels(self) -> list[str]:
        return [button.text for button in self.buttons]

    def button(self, label: str, *, exact: bool = False) -> InlineButton:
        """The inline button whose text is (exact) or contains `label`; AssertionError if none
        or ambiguous."""
        return _find_button(self, label, exact=exact)

    def snapshot(self) -> BotMessage:
        return dataclasses.replace(
            self,
            entities=list(self.entities),
            reply_markup=[list(row) for row in self.reply_markup] if self.reply_markup else None,
            history=list(self.history),
            params=dict(self.params),
        )

    def _version(self) -> MessageVersion:
        return MessageVersion(
            text=self.text,
            parse_mode=self.parse_mode,
            visible_text=self.visible_text,
            reply_markup=[list(row) for row in self.reply_markup] if self.reply_markup else None,
            caption=self.caption,
            time=self.time,
            method=self.method,
        )

    def describe(self) -> str:
        body = self.visible_text if self.visible_text is not None else ""
        if self.document is not None:
            body = f"(document {self.document.filename!r}, {self.document.size} bytes) {body}"
        line = f"[bot  #{self.message_id}] {body}"
        if self.reply_markup:
            rows = " / ".join(
                " | ".join(f"{b.text} ({b.kind}={b.data})" for b in row)
                for row in self.reply_markup
            )
            line += f"  [keyboard: {rows}]"
        if self.reply_keyboard:
            line += f"  [reply keyboard: {self.reply_keyboard}]"
        if self.history:
            line += f"  (edited {len(self.history)}x)"
        if self.deleted:
            line += "  (deleted)"
        return line


@dataclass
class UserMessage:
    """A message a test user sent (kept so transcripts show both sides)."""

    chat_id: int
    message_id: int
    user: TgUser
    update_id: int
    time: float
    text: str | None = None
    document: StoredFile | None = None
    caption: str | None = None

    def describe(self) -> str:
        if self.document is not None:
            return (
                f"[user #{self.message_id}] (document {self.document.filename!r}, "
                f"{len(self.document.data)} bytes) {self.caption or ''}"
            )
        return f"[user #{self.message_id}] {self.text}"


@dataclass(frozen=True)
class MessageEvent:
    """Something happened to a bot message: kind is "sent", "edited" or "deleted"."""

    seq: int
    kind: str
    chat_id: int
    message_id: int
    message: BotMessage  # snapshot at the time of the event
    time: float


@dataclass
class ApiRequest:
    """One call the bot made. `status` is the HTTP status answered (None while in flight,
    0 when the connection was dropped); `fault` names the injected fault, if any."""

    seq: int
    method: str
    params: JSON
    files: dict[str, UploadedFile]
    time: float
    http_method: str
    status: int | None = None
    response: JSON | None = None
    fault: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def description(self) -> str | None:
        return None if self.response is None else self.response.get("description")


@dataclass
class CallbackQueryRecord:
    query_id: str
    user: TgUser
    chat_id: int
    message_id: int
    data: str
    time: float
    update_id: int
    answered: bool = False


@dataclass(frozen=True)
class CallbackAnswer:
    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    time: float


@dataclass
class WebhookInfo:
    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    max_connections: int | None = None
    last_error: str | None = None
    params: JSON = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookDelivery:
    update_id: int
    url: str
    status: int | None  # None: connection failed
    error: str | None
    time: float


@dataclass
class Fault:
    """An injected fault (see `FakeBotApi.fail_next`). `fired` counts the calls it hit."""

    method: str | None
    remaining: int
    status: int | None
    retry_after: int | None = None
    drop: bool = False
    description: str | None = None
    processed: bool = False
    delay: float = 0.0
    fired: int = 0

    def matches(self, method: str) -> bool:
        if self.remaining <= 0:
            return False
        if self.method is None:
            return method != "getUpdates"
        return self.method.lower() == method.lower()

    def error(self) -> ApiError | None:
        if self.status is None or self.drop:
            return None
        if self.status == 429:
            retry = self.retry_after or 1
            return ApiError(
                429,
                self.description or f"Too Many Requests: retry after {retry}",
                {"retry_after": retry},
            )
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Error"
        return ApiError(self.status, self.description or phrase)


@dataclass
class RateLimit:
    per_second: float
    retry_after: int
    method: str | None
    per_chat: bool
    window: float
    hits: dict[Any, list[float]] = field(default_factory=dict)
    rejected: int = 0


class _RequestContext:
    __slots__ = ("closed",)

    def __init__(self) -> None:
        self.closed = False


class _PollToken:
    __slots__ = ("terminated",)

    def __init__(self) -> None:
        self.terminated = False


_DROP = object()


# --------------------------------------------------------------------------------------------
# Text, HTML entities and keyboards
# --------------------------------------------------------------------------------------------

_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_CHAR_REF = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9A-Fa-f]{1,6})|([A-Za-z][A-Za-z0-9]{0,15}));")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ASCII_SPACE = " \t\n\r\x0b\x0c"


class EntityParseError(ValueError):
    pass


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_refs(text: str, *, strict: bool, where: str = "") -> str:
    out: list[str] = []
    i = 0
    while True:
        j = text.find("&", i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j])
        match = _CHAR_REF.match(text, j)
        char = _char_ref_value(match)
        if char is None:
            if strict:
                raise EntityParseError(
                    f'Unescaped "&" at byte offset {_byte_offset(text, j)}{where} '
                    '(write "&amp;"; the fake is stricter than Telegram here)'
                )
            out.append("&")
            i = j + 1
        else:
            assert match is not None
            out.append(char)
            i = match.end()


def _char_ref_value(match: re.Match[str] | None) -> str | None:
    if match is None:
        return None
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return _NAMED_REFS.get(name)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


@dataclass
class _OpenTag:
    name: str
    entity_type: str
    start: int  # utf-16 offset in the visible text
    byte_offset: int
    attributes: dict[str, str]
    language: str | None = None


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[JSON]]:
    """Parse Telegram-flavoured HTML like the Bot API: the visible text and its entities
    (UTF-16 offsets). Raises EntityParseError with a Telegram-like description."""
    out: list[str] = []
    out_len = 0  # utf-16 length of "".join(out)
    stack: list[_OpenTag] = []
    entities: list[JSON] = []
    n = len(text)
    i = 0

    def emit(chunk: str) -> None:
        nonlocal out_len
        if chunk:
            out.append(chunk)
            out_len += utf16_len(chunk)

    while i < n:
        lt = text.find("<", i)
        amp = text.find("&", i)
        stops = [p for p in (lt, amp) if p >= 0]
        if not stops:
            emit(text[i:])
            break
        k = min(stops)
        emit(text[i:k])
        i = k
        if text[i] == "&":
            match = _CHAR_REF.match(text, i)
            char = _char_ref_value(match)
            if char is None:
                if strict_ampersand:
                    raise EntityParseError(
                        f'Unescaped "&" at byte offset {_byte_offset(text, i)} '
                        '(write "&amp;"; the fake is stricter than Telegram here)'
                    )
                emit("&")
                i += 1
            else:
                assert match is not None
                emit(char)
                i = match.end()
            continue
        begin = i
        begin_bytes = _byte_offset(text, begin)
        if i + 1 < n and text[i + 1] == "/":
            end = text.find(">", i)
            if end < 0:
                raise EntityParseError(f"Unclosed end tag at byte offset {begin_bytes}")
            name = text[i + 2 : end].strip().lower()
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {begin_bytes}")
            top = stack.pop()
            if name and name != top.name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {begin_bytes}, expected "</{top.name}>", '
                    f'found "</{name}>"'
                )
            i = end + 1
            _close_tag(top, out_len, stack, entities)
            continue
        # start tag
        j = i + 1
        while j < n and text[j] not in _ASCII_SPACE and text[j] != ">":
            j += 1
        if j >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {begin_bytes}")
        name = text[i + 1 : j].lower()
        if name not in _HTML_ENTITY_TYPES:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {begin_bytes}')
        attributes: dict[str, str] = {}
        while True:
            while j < n and text[j] in _ASCII_SPACE:
                j += 1
            if j >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin_bytes}")
            if text[j] == ">":
                j += 1
                break
            a = j
            while j < n and text[j] not in _ASCII_SPACE and text[j] not in "=>":
                j += 1
            attr = text[a:j].lower()
            if not attr:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {begin_bytes}'
                )
            while j < n and text[j] in _ASCII_SPACE:
                j += 1
            if j < n and text[j] == "=":
                j += 1
                while j < n and text[j] in _ASCII_SPACE:
                    j += 1
                if j >= n:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin_bytes}")
                if text[j] in "\"'":
                    quote = text[j]
                    close = text.find(quote, j + 1)
                    if close < 0:
                        raise EntityParseError(
                            f'Unclosed value of the attribute "{attr}" of the tag "{name}" '
                            f"at byte offset {begin_bytes}"
                        )
                    raw_value = text[j + 1 : close]
                    j = close + 1
                else:
                    a = j
                    while j < n and text[j] not in _ASCII_SPACE and text[j] != ">":
                        j += 1
                    raw_value = text[a:j]
                attributes[attr] = _decode_refs(raw_value, strict=False)
            else:
                attributes[attr] = ""
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {begin_bytes}'
            )
        if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise EntityParseError(
                f'Tag "tg-emoji" must have a valid "emoji-id" at byte offset {begin_bytes}'
            )
        stack.append(_OpenTag(name, _HTML_ENTITY_TYPES[name], out_len, begin_bytes, attributes))
        i = j
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_tag(tag: _OpenTag, end: int, stack: list[_OpenTag], entities: list[JSON]) -> None:
    length = end - tag.start
    if tag.name == "code" and stack and stack[-1].name == "pre":
        language = tag.attributes.get("class", "")
        if language.startswith("language-") and tag.start == stack[-1].start:
            stack[-1].language = language.removeprefix("language-")
            return
    if length <= 0:
        return
    entity: JSON = {"type": tag.entity_type, "offset": tag.start, "length": length}
    if tag.name == "a":
        href = tag.attributes.get("href", "")
        if not href:
            return
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            entity = {**entity, "type": "text_mention", "user": {"id": int(user.group(1))}}
            entity["user"].update({"is_bot": False, "first_name": ""})
        else:
            entity["url"] = href
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "blockquote" and "expandable" in tag.attributes:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attributes["emoji-id"]
    entities.append(entity)


def _trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Telegram trims leading/trailing whitespace; shift the entities along."""
    stripped = text.lstrip(_ASCII_SPACE)
    lead = len(text) - len(stripped)  # ASCII, so also utf-16 units
    stripped = stripped.rstrip(_ASCII_SPACE)
    total = utf16_len(stripped)
    kept: list[JSON] = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


@dataclass(frozen=True)
class FormattedText:
    text: str
    parse_mode: str | None
    visible: str
    entities: list[JSON]


def format_text(
    text: Any,
    parse_mode: Any,
    entities: Any,
    *,
    limit: int,
    too_long: str,
    empty: str | None,
    strict_ampersand: bool = True,
) -> FormattedText:
    """Validate a message text/caption like Telegram and compute what the user sees."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        text = str(text)
    mode = parse_mode.strip() if isinstance(parse_mode, str) and parse_mode.strip() else None
    if mode is not None and mode.lower() not in ("html", "markdown", "markdownv2"):
        raise _bad_request(f"unsupported parse_mode {mode!r}")
    if mode is not None and mode.lower() == "html":
        try:
            visible, parsed = parse_html(text, strict_ampersand=strict_ampersand)
        except EntityParseError as error:
            raise _bad_request(f"can't parse entities: {error}") from None
    else:
        # Markdown modes are not parsed by the fake: the text is kept as sent.
        visible = text
        parsed = list(entities) if isinstance(entities, list) else []
    visible, parsed = _trim(visible, parsed)
    if not visible and empty is not None:
        raise _bad_request(empty)
    if len(visible) > limit:
        raise _bad_request(too_long)
    return FormattedText(text=text, parse_mode=mode, visible=visible, entities=parsed)


_BUTTON_KINDS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


@dataclass(frozen=True)
class ParsedMarkup:
    raw: JSON | None
    inline: list[list[InlineButton]] | None
    reply_keyboard: list[list[str]] | None


def parse_reply_markup(raw: Any, *, inline_only: bool = False) -> ParsedMarkup:
    """Validate reply_markup like Telegram (the parts that matter) and parse inline keyboards."""
    if raw is None or raw == "":
        return ParsedMarkup(None, None, None)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise _bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(raw, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        rows = raw["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        parsed: list[list[InlineButton]] = []
        for row in rows:
            parsed_row: list[InlineButton] = []
            for button in row:
                parsed_row.append(_parse_inline_button(button))
            if parsed_row:
                parsed.append(parsed_row)
        return ParsedMarkup(raw, parsed, None)
    if inline_only:
        raise _bad_request("inline keyboard expected")
    if "keyboard" in raw:
        rows = raw["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request(
                'field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays'
            )
        labels = [
            [b if isinstance(b, str) else str(b.get("text", "")) for b in row] for row in rows
        ]
        return ParsedMarkup(raw, None, labels)
    if raw.get("remove_keyboard") or raw.get("force_reply"):
        return ParsedMarkup(raw, None, None)
    raise _bad_request("can't parse reply keyboard markup JSON object")


def _parse_inline_button(button: Any) -> InlineButton:
    if not isinstance(button, dict):
        raise _bad_request("can't parse inline keyboard button: InlineKeyboardButton expected")
    text = button.get("text")
    if not isinstance(text, str):
        raise _bad_request('can\'t parse inline keyboard button: Field "text" must be a String')
    if not text.strip():
        raise _bad_request("can't parse inline keyboard button: Text must be non-empty")
    kinds = [kind for kind in _BUTTON_KINDS if kind in button]
    if len(kinds) != 1:
        raise _bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    kind = kinds[0]
    value = button[kind]
    if kind == "callback_data":
        if not isinstance(value, str) or not 1 <= len(value.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise _bad_request("BUTTON_DATA_INVALID")
        return InlineButton(text, value, kind)
    if kind == "url":
        if not isinstance(value, str) or not re.match(r"(?i)(https?|tg)://\S+$", value):
            raise _bad_request("BUTTON_URL_INVALID")
        return InlineButton(text, value, kind)
    data = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return InlineButton(text, data, kind)


def _find_button(message: BotMessage, label: str, *, exact: bool = False) -> InlineButton:
    buttons = message.buttons
    exact_hits = [b for b in buttons if b.text == label]
    hits = exact_hits if exact or exact_hits else [b for b in buttons if label in b.text]
    if len(hits) == 1:
        return hits[0]
    how = "labelled" if exact else "containing"
    if not hits:
        raise AssertionError(
            f"no button {how} {label!r} in message #{message.message_id}; "
            f"buttons: {message.button_labels}"
        )
    raise AssertionError(
        f"{len(hits)} buttons {how} {label!r} in message #{message.message_id}: "
        f"{[b.text for b in hits]}"
    )


# --------------------------------------------------------------------------------------------
# Request parsing
# --------------------------------------------------------------------------------------------


def _decode_value(name: str, raw: str) -> Any:
    if name in _STRING_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _parse_request(request: Any) -> tuple[JSON, dict[str, UploadedFile]]:
    params: JSON = {}
    files: dict[str, UploadedFile] = {}
    for name, values in request.query_arguments.items():
        if values:
            params[name] = _decode_value(name, values[-1].decode("utf-8", "replace"))
    content_type = request.headers.get("Content-Type", "")
    if content_type.split(";")[0].strip().lower() == "application/json":
        if request.body:
            body = json.loads(request.body.decode("utf-8"))
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            params.update(body)
        return params, files
    for name, values in request.body_arguments.items():
        if values:
            params[name] = _decode_value(name, values[-1].decode("utf-8", "replace"))
    for name, parts in request.files.items():
        if parts:
            part = parts[-1]
            files[name] = UploadedFile(
                filename=part.filename, data=bytes(part.body), content_type=part.content_type
            )
    return params, files


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _scope_key(scope: Any) -> str:
    if scope is None or scope == "":
        scope = {"type": "default"}
    if isinstance(scope, str):
        scope = {"type": scope}
    return json.dumps(scope, sort_keys=True, ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# HTTP handlers
# --------------------------------------------------------------------------------------------


class _ApiHandler(tornado.web.RequestHandler):
    fake: FakeBotApi
    ctx: _RequestContext

    def initialize(self, fake: FakeBotApi) -> None:
        self.fake = fake
        self.ctx = _RequestContext()

    def on_connection_close(self) -> None:
        self.ctx.closed = True
        self.fake._notify()

    def check_xsrf_cookie(self) -> None:
        return None

    async def get(self, token: str, method: str) -> None:
        await self._handle(token, method)

    async def post(self, token: str, method: str) -> None:
        await self._handle(token, method)

    async def _handle(self, token: str, method: str) -> None:
        try:
            params, files = _parse_request(self.request)
        except ValueError as error:
            self._reply(400, ApiError(400, f"Bad Request: {error}").payload())
            return
        status, payload = await self.fake._dispatch(
            token, method, self.request.method or "POST", params, files, self.ctx
        )
        if payload is _DROP:
            self.detach().close()
            return
        if self.ctx.closed:
            return
        assert isinstance(payload, dict)
        self._reply(status, payload)

    def _reply(self, status: int, payload: JSON) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload, ensure_ascii=False))


class _FileHandler(tornado.web.RequestHandler):
    fake: FakeBotApi

    def initialize(self, fake: FakeBotApi) -> None:
        self.fake = fake

    def get(self, token: str, file_path: str) -> None:
        stored = self.fake._download(token, file_path)
        if stored is None:
            self.set_status(404)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}))
            return
        self.set_header("Content-Type", stored.mime_type or "application/octet-stream")
        self.finish(stored.data)


class _NotFoundHandler(tornado.web.RequestHandler):
    def prepare(self) -> None:
        self.set_status(404)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}))


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------

Handler = Callable[[JSON, dict[str, UploadedFile]], Any]


class FakeBotApi:
    """See the module docstring. Start with `await fake.start()` / `await fake.stop()` or
    `async with FakeBotApi() as fake:`; `fake.url` is `http://127.0.0.1:<port>`."""

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_username: str = "jixiao_test_bot",
        bot_first_name: str = "绩效测试机器人",
        long_poll_cap: float = 1.0,
        default_timeout: float = 5.0,
        blocked: Iterable[int] = (),
        strict_chats: bool = True,
        strict_html_ampersand: bool = True,
        deliver_webhooks: bool = True,
    ) -> None:
        """token: if set, other tokens are refused with 401 (else any well-formed token works,
        the bot id is the token's number). strict_chats: sending to a chat no test user has
        written from (see `register_chat`) fails with "chat not found"."""
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.long_poll_cap = long_poll_cap
        self.default_timeout = default_timeout
        self.blocked: set[int] = set(blocked)
        self.strict_chats = strict_chats
        self.strict_html_ampersand = strict_html_ampersand
        self.deliver_webhooks = deliver_webhooks

        self.requests: list[ApiRequest] = []
        self.unknown_methods: list[str] = []
        self.events: list[MessageEvent] = []
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.chat_actions: list[tuple[int, str, float]] = []
        self.bot_commands: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.menu_buttons: dict[int | None, JSON] = {}
        self.bot_profile: dict[tuple[str, str], str] = {}
        self.webhook = WebhookInfo()
        self.webhook_history: list[WebhookInfo] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.dropped_updates: list[JSON] = []
        self.faults: list[Fault] = []
        self.handlers: dict[str, Handler] = {}
        self.errors: list[str] = []  # exceptions raised inside the fake itself

        self._url: str | None = None
        self._server: tornado.httpserver.HTTPServer | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._waiters: set[asyncio.Future[None]] = set()
        self._chats: dict[int, TgChat] = {}
        self._chat_log: dict[int, list[BotMessage | UserMessage]] = {}
        self._messages: dict[int, dict[int, BotMessage | UserMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self._pending: dict[int, JSON] = {}
        self._update_ids = itertools.count(100_000_001)
        self._user_ids = itertools.count(10_001)
        self._group_ids = itertools.count(1)
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._allowed_updates: list[str] | None = None
        self._active_poll: _PollToken | None = None
        self._in_flight = 0
        self._last_activity = time.monotonic()
        self._read_cursor: dict[int, int] = {}
        self._rate_limit: RateLimit | None = None
        self._request_seq = itertools.count(1)
        self._seen_token: str | None = None
        table: dict[str, Callable[[JSON, dict[str, UploadedFile]], Any]] = {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "getUpdates": self._get_updates_placeholder,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "setMyDescription": self._profile_setter("description"),
            "getMyDescription": self._profile_getter("description"),
            "setMyShortDescription": self._profile_setter("short_description"),
            "getMyShortDescription": self._profile_getter("short_description"),
            "setMyName": self._profile_setter("name"),
            "getMyName": self._profile_getter("name"),
        }
        self._methods = {name.lower(): fn for name, fn in table.items()}
        self._canonical = {name.lower(): name for name in table}

    # ----------------------------------------------------------------------------- lifecycle

    async def start(self) -> FakeBotApi:
        if self._server is not None:
            return self
        app = tornado.web.Application(
            [
                (r"/bot([^/]+)/([A-Za-z_]+)/?", _ApiHandler, {"fake": self}),
                (r"/file/bot([^/]+)/(.+)", _FileHandler, {"fake": self}),
                (r".*", _NotFoundHandler),
            ],
            log_function=lambda handler: None,
        )
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self._server = tornado.httpserver.HTTPServer(app, max_body_size=60 * 1024 * 1024)
        self._server.add_sockets(sockets)
        port = sockets[0].getsockname()[1]
        self._url = f"http://127.0.0.1:{port}"
        self._stopping = False
        self._webhook_task = asyncio.get_running_loop().create_task(self._webhook_worker())
        return self

    async def stop(self) -> None:
        if self._server is None:
            return
        self._stopping = True
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        self._server.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.close_all_connections(), 2)
        self._server = None

    async def __aenter__(self) -> FakeBotApi:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("FakeBotApi is not started (await fake.start())")
        return self._url

    @property
    def api_base_url(self) -> str:
        """For `ApplicationBuilder().base_url(...)` / TELEGRAM_API_BASE_URL."""
        return f"{self.url}/bot"

    @property
    def file_base_url(self) -> str:
        """For `ApplicationBuilder().base_file_url(...)` / TELEGRAM_FILE_BASE_URL."""
        return f"{self.url}/file/bot"

    def application_builder(
        self, token: str = DEFAULT_TOKEN
    ) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
        """A PTB ApplicationBuilder pointed at this fake (token, base_url, base_file_url)."""
        from telegram.ext import ApplicationBuilder

        return (
            ApplicationBuilder()
            .token(token)
            .base_url(self.api_base_url)
            .base_file_url(self.file_base_url)
        )

    # ----------------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str | None = None,
        n: int = 1,
        *,
        status: int = 429,
        retry_after: int = 1,
        drop: bool = False,
        description: str | None = None,
        processed: bool = False,
    ) -> Fault:
        """Answer the next `n` calls of `method` (any method but getUpdates if None) with an
        error: 429 + parameters.retry_after, 500, any other status (with `description`), or
        `drop=True` to close the connection without an answer. `processed=True` performs the
        call first (the message is sent) and then fails - "the answer was lost"."""
        fault = Fault(
            method=method,
            remaining=n,
            status=status,
            retry_after=retry_after if status == 429 else None,
            drop=drop,
            description=description,
            processed=processed,
        )
        self.faults.append(fault)
        return fault

    def delay_next(self, method: str | None = None, n: int = 1, *, seconds: float) -> Fault:
        """Answer the next `n` calls of `method` normally but only after `seconds`."""
        fault = Fault(method=method, remaining=n, status=None, delay=seconds)
        self.faults.append(fault)
        return fault

    def rate_limit(
        self,
        per_second: float | None,
        *,
        retry_after: int = 1,
        method: str | None = None,
        per_chat: bool = False,
        window: float = 1.0,
    ) -> RateLimit | None:
        """Answer 429 (parameters.retry_after) once more than `per_second * window` calls were
        accepted in the last `window` seconds (counted per chat_id if `per_chat`; getUpdates is
        never limited unless named). `rate_limit(None)` switches it off."""
        if per_second is None:
            self._rate_limit = None
            return None
        self._rate_limit = RateLimit(per_second, retry_after, method, per_chat, window)
        return self._rate_limit

    def clear_faults(self) -> None:
        self.faults.clear()
        self._rate_limit = None

    def set_handler(self, method: str, handler: Handler | None) -> None:
        """Answer `method` with `handler(params, files)` (return the result, or raise ApiError);
        also adds methods the fake does not know. None removes the override."""
        if handler is None:
            self.handlers.pop(method.lower(), None)
        else:
            self.handlers[method.lower()] = handler

    # ------------------------------------------------------------------------ users & chats

    def user(
        self,
        first_name: str = "Test",
        *,
        id: int | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        last_name: str | None = None,
    ) -> TgUser:
        """A new user (fresh id unless given); their private chat is registered."""
        user = TgUser(
            id=next(self._user_ids) if id is None else id,
            first_name=first_name,
            username=username,
            language_code=language_code,
            last_name=last_name,
        )
        self.register_chat(user.private_chat)
        return user

    def group(
        self, title: str = "测试群", *, chat_type: str = "group", id: int | None = None
    ) -> TgChat:
        """A new group ("group" or "supergroup") chat, registered."""
        if id is None:
            number = next(self._group_ids)
            id = -1_000_000_000_000 - number if chat_type == "supergroup" else -4_000_000 - number
        chat = TgChat(id=id, type=chat_type, title=title)
        self.register_chat(chat)
        return chat

    def register_chat(self, chat: TgChat) -> TgChat:
        """Make a chat known, so the bot can send to it (see strict_chats)."""
        self._chats[chat.id] = chat
        self._chat_log.setdefault(chat.id, [])
        self._messages.setdefault(chat.id, {})
        return chat

    def chat(self, chat_id: int) -> TgChat:
        return self._chats[chat_id]

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: sends to this chat answer 403."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    # ------------------------------------------------------------------ test side: updates

    def send_text(
        self,
        user: TgUser,
        chat: TgChat | int | None,
        text: str,
        *,
        entities: list[JSON] | None = None,
        reply_to: BotMessage | int | None = None,
    ) -> JSON:
        """The user writes `text` in `chat` (None: their private chat). A leading /command gets
        its bot_command entity like a Telegram client adds it. Returns the update (queued)."""
        chat_obj = self._chat_for(user, chat)
        message = self._user_message_json(user, chat_obj)
        message["text"] = text
        found = list(entities or [])
        command = re.match(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?", text)
        if command and not any(e.get("offset") == 0 for e in found):
            found.insert(
                0, {"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))}
            )
        if found:
            message["entities"] = found
        if reply_to is not None:
            message["reply_to_message"] = self._reply_target_json(chat_obj.id, reply_to)
        update = self.enqueue_update({"message": message})
        self._log_user_message(user, chat_obj.id, message, update["update_id"], text=text)
        return update

    def send_command(
        self, user: TgUser, chat: TgChat | int | None, command: str, **kwargs: Any
    ) -> JSON:
        """`send_text` for "/start CODE" and the like (asserts the leading slash)."""
        if not command.startswith("/"):
            raise AssertionError(f"a command starts with '/': {command!r}")
        return self.send_text(user, chat, command, **kwargs)

    def send_group_text(
        self,
        user: TgUser,
        group: TgChat | int | None,
        text: str,
        *,
        chat_type: str = "group",
        **kwargs: Any,
    ) -> JSON:
        """The user writes in a group; `group=None` creates a new group of `chat_type`."""
        if group is None:
            group = self.group(chat_type=chat_type)
        chat_obj = self._chat_for(user, group)
        if chat_obj.type == "private":
            raise AssertionError(f"chat {chat_obj.id} is a private chat, not a group")
        return self.send_text(user, chat_obj, text, **kwargs)

    def send_document(
        self,
        user: TgUser,
        chat: TgChat | int | None,
        filename: str,
        data: bytes,
        mime_type: str | None = None,
        *,
        caption: str | None = None,
    ) -> JSON:
        """The user uploads a file; the bot can getFile + download it. Returns the update."""
        chat_obj = self._chat_for(user, chat)
        if mime_type is None:
            mime_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = self._store_file(filename, data, mime_type)
        message = self._user_message_json(user, chat_obj)
        message["document"] = stored.document_json()
        if caption:
            message["caption"] = caption
        update = self.enqueue_update({"message": message})
        self._log_user_message(
            user, chat_obj.id, message, update["update_id"], document=stored, caption=caption
        )
        return update

    def press(
        self,
        user: TgUser,
        message: BotMessage | int,
        callback_data: str,
        *,
        chat: TgChat | int | None = None,
        check: bool = True,
    ) -> str:
        """The user presses an inline button with `callback_data` under a bot message (a
        BotMessage, or a message id in `chat`/the user's private chat). With `check` the button
        must exist in the message's current keyboard. Returns the callback query id."""
        if isinstance(message, BotMessage):
            chat_id, message_id = message.chat_id, message.message_id
        else:
            chat_id = self._chat_for(user, chat).id
            message_id = message
        stored = self._messages.get(chat_id, {}).get(message_id)
        if not isinstance(stored, BotMessage) or stored.deleted:
            raise AssertionError(
                f"no bot message #{message_id} in chat {chat_id} to press a button under\n"
                + self.format_transcript(chat_id)
            )
        if check and callback_data not in [b.callback_data for b in stored.buttons]:
            raise AssertionError(
                f"message #{message_id} has no button with callback_data {callback_data!r}; "
                f"buttons: {stored.buttons}"
            )
        query_id = str(next(self._query_ids))
        self._mark_chat(chat_id)
        query = {
            "id": query_id,
            "from": user.to_json(),
            "message": self._bot_message_json(stored),
            "chat_instance": str(abs(chat_id) * 7919 + 13),
            "data": callback_data,
        }
        update = self.enqueue_update({"callback_query": query})
        self.callback_queries[query_id] = CallbackQueryRecord(
            query_id,
            user,
            chat_id,
            message_id,
            callback_data,
            time.monotonic(),
            update["update_id"],
        )
        return query_id

    def enqueue_update(self, update: JSON) -> JSON:
        """Queue a raw update (an `update_id` is assigned unless present). Returns it."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self._pending[update["update_id"]] = update
        self._notify()
        return update

    @property
    def pending_updates(self) -> list[JSON]:
        return list(self._pending.values())

    # --------------------------------------------------------------------------- inspection

    def sent(self, chat_id: int, *, include_deleted: bool = True) -> list[BotMessage]:
        """The bot's messages in a chat, oldest first, in their current state."""
        return [
            entry
            for entry in self._chat_log.get(chat_id, [])
            if isinstance(entry, BotMessage) and (include_deleted or not entry.deleted)
        ]

    def transcript(self, chat_id: int) -> list[BotMessage | UserMessage]:
        """Both sides of a chat, in order."""
        return list(self._chat_log.get(chat_id, []))

    def last_message(self, chat_id: int) -> BotMessage | None:
        live = self.sent(chat_id, include_deleted=False)
        return live[-1] if live else None

    def message(self, chat_id: int, message_id: int) -> BotMessage:
        stored = self._messages.get(chat_id, {}).get(message_id)
        if not isinstance(stored, BotMessage):
            raise KeyError(f"no bot message #{message_id} in chat {chat_id}")
        return stored

    def calls(self, method: str) -> list[ApiRequest]:
        """The bot's calls of one method (case-insensitive), oldest first."""
        return [r for r in self.requests if r.method.lower() == method.lower()]

    def failed_requests(self) -> list[ApiRequest]:
        return [r for r in self.requests if r.status is not None and r.status != 200]

    def get_commands(self, scope: Any = None, language_code: str = "") -> list[tuple[str, str]]:
        """Commands set with setMyCommands for a scope (dict, type name or None = default)."""
        return list(self.bot_commands.get((_scope_key(scope), language_code), []))

    def file(self, file_id: str) -> StoredFile:
        return self._files[file_id]

    def mark(self) -> int:
        """The current message-event sequence number (for `wait_for_message(after=...)`)."""
        return len(self.events)

    def mark_read(self, chat_id: int) -> None:
        """Let `wait_for_message(chat_id)` only return messages sent or edited from now on."""
        self._mark_chat(chat_id)

    def messages_since(self, chat_id: int, mark: int) -> list[BotMessage]:
        """Bot messages of a chat sent or edited after `mark`, each once (first-touch order),
        in their latest state."""
        first_seen: list[int] = []
        for event in self.events[mark:]:
            if (
                event.chat_id == chat_id
                and event.kind in ("sent", "edited")
                and event.message_id not in first_seen
            ):
                first_seen.append(event.message_id)
        return [self.message(chat_id, mid).snapshot() for mid in first_seen]

    def format_transcript(self, chat_id: int | None = None, *, last: int = 30) -> str:
        chats = [chat_id] if chat_id is not None else list(self._chat_log)
        lines: list[str] = []
        for cid in chats:
            entries = self._chat_log.get(cid, [])
            lines.append(f"chat {cid} transcript ({len(entries)} messages):")
            if len(entries) > last:
                lines.append(f"  … {len(entries) - last} earlier messages")
            for entry in entries[-last:]:
                lines.append("  " + entry.describe().replace("\n", "\n    "))
        failed = self.failed_requests()[-8:]
        if failed:
            lines.append("failed bot API calls (latest last):")
            for request in failed:
                lines.append(
                    f"  {request.method} -> {request.status} {request.description or ''}"
                    + (f" [injected {request.fault}]" if request.fault else "")
                )
        if self.unknown_methods:
            lines.append(f"unknown methods called: {sorted(set(self.unknown_methods))}")
        if self._pending:
            lines.append(f"updates not yet fetched by the bot: {sorted(self._pending)}")
        if self.errors:
            lines.append(f"errors inside the fake: {self.errors[-3:]}")
        return "\n".join(lines)

    # ------------------------------------------------------------------------------ waiting

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _wait_change(self, timeout: float | None) -> None:
        if timeout is not None and timeout <= 0:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
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
        """Wait (woken by every change in the fake) until `condition()` is truthy; returns its
        value. On timeout raises AssertionError with `what` and the transcript."""
        timeout = self.default_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout:g}s waiting for {what or condition!r}\n"
                    + self.format_transcript(chat_id)
                )
            await self._wait_change(remaining)

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[BotMessage], bool] | None = None,
        *,
        timeout: float | None = None,
        after: int | None = None,
    ) -> BotMessage:
        """The next bot message in `chat_id` that is sent or edited (a snapshot), optionally
        matching `predicate`. "Next" means after `after` (a `mark()`), by default after the
        last message returned here for this chat or the last update a test sent to it."""
        start = self._read_cursor.get(chat_id, 0) if after is None else after

        def find() -> MessageEvent | None:
            for event in self.events[start:]:
                if (
                    event.chat_id == chat_id
                    and event.kind in ("sent", "edited")
                    and (predicate is None or predicate(event.message))
                ):
                    return event
            return None

        event: MessageEvent = await self.wait_until(
            find, timeout=timeout, what=f"a bot message in chat {chat_id}", chat_id=chat_id
        )
        self._read_cursor[chat_id] = max(self._read_cursor.get(chat_id, 0), event.seq + 1)
        return event.message

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[ApiRequest], bool] | None = None,
        *,
        timeout: float | None = None,
        after: int = 0,
        completed: bool = True,
    ) -> ApiRequest:
        """The first call of `method` with request seq > `after` (see `ApiRequest.seq`,
        `len(fake.requests)` is a mark) matching `predicate`; by default it waits until the
        call was answered."""

        def find() -> ApiRequest | None:
            for request in self.requests[after:]:
                if (
                    request.method.lower() == method.lower()
                    and (not completed or request.status is not None)
                    and (predicate is None or predicate(request))
                ):
                    return request
            return None

        request: ApiRequest = await self.wait_until(find, timeout=timeout, what=f"a {method} call")
        return request

    async def wait_callback_answer(
        self, query_id: str, *, timeout: float | None = None
    ) -> CallbackAnswer:
        answer: CallbackAnswer = await self.wait_until(
            lambda: self.callback_answers.get(query_id),
            timeout=timeout,
            what=f"answerCallbackQuery for query {query_id}",
            chat_id=self.callback_queries[query_id].chat_id
            if query_id in self.callback_queries
            else None,
        )
        return answer

    async def wait_confirmed(self, update_id: int, *, timeout: float | None = None) -> None:
        """Wait until the bot fetched an update and confirmed it (polling: a getUpdates with a
        higher offset, i.e. PTB queued it; webhook: the webhook answered 2xx)."""
        await self.wait_until(
            lambda: update_id not in self._pending,
            timeout=timeout,
            what=f"the bot to fetch update {update_id}",
        )

    async def wait_idle(self, *, quiet: float = 0.05, timeout: float | None = None) -> None:
        """Wait until every queued update was fetched, no bot call (but getUpdates) is in flight
        and none happened for `quiet` seconds."""
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
                    f"bot not idle after {timeout:g}s (pending updates: {sorted(self._pending)}, "
                    f"calls in flight: {self._in_flight})\n" + self.format_transcript()
                )
            wait = deadline - now if busy else min(rest, deadline - now)
            await self._wait_change(wait)

    # ----------------------------------------------------------------------------- dispatch

    async def _dispatch(
        self,
        token: str,
        method_name: str,
        http_method: str,
        params: JSON,
        files: dict[str, UploadedFile],
        ctx: _RequestContext,
    ) -> tuple[int, Any]:
        if not re.fullmatch(r"\d{1,20}:[A-Za-z0-9_-]{1,100}", token):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if self.token is not None and token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        self._seen_token = token
        key = method_name.lower()
        method = self._canonical.get(key, method_name)
        handler = self.handlers.get(key)
        implementation = self._methods.get(key)
        request = ApiRequest(
            seq=next(self._request_seq),
            method=method,
            params=params,
            files=files,
            time=time.monotonic(),
            http_method=http_method,
        )
        self.requests.append(request)
        is_poll = key == "getupdates" and handler is None
        if not is_poll:
            self._in_flight += 1
            self._last_activity = time.monotonic()
        self._notify()
        try:
            status, payload = await self._answer(
                request, method, handler, implementation, params, files, ctx
            )
        finally:
            if not is_poll:
                self._in_flight -= 1
                self._last_activity = time.monotonic()
        request.status = 0 if payload is _DROP else status
        request.response = payload if isinstance(payload, dict) else None
        self._notify()
        return status, payload

    async def _answer(
        self,
        request: ApiRequest,
        method: str,
        handler: Handler | None,
        implementation: Callable[[JSON, dict[str, UploadedFile]], Any] | None,
        params: JSON,
        files: dict[str, UploadedFile],
        ctx: _RequestContext,
    ) -> tuple[int, Any]:
        fault = next((f for f in self.faults if f.matches(method)), None)
        failure: ApiError | None = None
        fails = False
        if fault is not None:
            fault.remaining -= 1
            fault.fired += 1
            if fault.delay:
                await asyncio.sleep(fault.delay)
            failure = fault.error()
            fails = fault.drop or failure is not None
            request.fault = "drop" if fault.drop else str(fault.status or "delay")
        if not fails:
            limited = self._check_rate_limit(method, params)
            if limited is not None:
                request.fault = "rate_limit"
                return limited.status, limited.payload()
        if fails and fault is not None and not fault.processed:
            return (0, _DROP) if failure is None else (failure.status, failure.payload())
        try:
            if handler is not None:
                result = handler(params, files)
                if asyncio.iscoroutine(result):
                    result = await result
            elif method == "getUpdates":
                result = await self._get_updates(params, ctx)
            elif implementation is not None:
                result = implementation(params, files)
            else:
                self.unknown_methods.append(method)
                raise ApiError(404, "Not Found: method not found")
        except ApiError as error:
            return error.status, error.payload()
        except Exception as error:  # a bug in the fake: tell the bot and the test
            self.errors.append(f"{method}: {error!r}")
            return 500, ApiError(500, f"Internal Server Error (fake): {error!r}").payload()
        if fails:
            return (0, _DROP) if failure is None else (failure.status, failure.payload())
        return 200, {"ok": True, "result": result}

    def _check_rate_limit(self, method: str, params: JSON) -> ApiError | None:
        limit = self._rate_limit
        if limit is None:
            return None
        if limit.method is None:
            if method == "getUpdates":
                return None
        elif limit.method.lower() != method.lower():
            return None
        key = params.get("chat_id") if limit.per_chat else None
        now = time.monotonic()
        hits = [t for t in limit.hits.get(key, []) if now - t < limit.window]
        if len(hits) >= limit.per_second * limit.window:
            limit.hits[key] = hits
            limit.rejected += 1
            return ApiError(
                429,
                f"Too Many Requests: retry after {limit.retry_after}",
                {"retry_after": limit.retry_after},
            )
        hits.append(now)
        limit.hits[key] = hits
        return None

    # ------------------------------------------------------------------------ updates, hooks

    def _update_type(self, update: JSON) -> str:
        return next((key for key in update if key != "update_id"), "")

    def _is_allowed(self, update: JSON, allowed: list[str] | None) -> bool:
        kind = self._update_type(update)
        if allowed:
            return kind in allowed
        return kind not in _NOT_DEFAULT_UPDATES

    def _deliverable(self, limit: int, allowed: list[str] | None) -> list[JSON]:
        ready: list[JSON] = []
        for update_id, update in list(self._pending.items()):
            if not self._is_allowed(update, allowed):
                del self._pending[update_id]
                self.dropped_updates.append(update)
                continue
            ready.append(update)
            if len(ready) >= limit:
                break
        return ready

    def _get_updates_placeholder(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        raise AssertionError("getUpdates is dispatched specially")

    async def _get_updates(self, params: JSON, ctx: _RequestContext) -> list[JSON]:
        if self.webhook.url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        if params.get("allowed_updates") is not None:
            self._allowed_updates = list(params["allowed_updates"])
        if offset > 0:
            for update_id in [u for u in self._pending if u < offset]:
                del self._pending[update_id]
        elif offset < 0:
            keep = sorted(self._pending)[offset:]
            for update_id in [u for u in self._pending if u not in keep]:
                del self._pending[update_id]
        self._notify()
        if self._active_poll is not None:
            self._active_poll.terminated = True
        token = _PollToken()
        self._active_poll = token
        deadline = time.monotonic() + min(timeout, self.long_poll_cap)
        try:
            while True:
                ready = self._deliverable(limit, self._allowed_updates)
                now = time.monotonic()
                if ready or now >= deadline or token.terminated or ctx.closed or self._stopping:
                    break
                await self._wait_change(deadline - now)
        finally:
            if self._active_poll is token:
                self._active_poll = None
        if token.terminated:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one bot "
                "instance is running",
            )
        return [json.loads(json.dumps(u)) for u in ready]

    async def _webhook_worker(self) -> None:
        backoff = 0.05
        async with httpx.AsyncClient(trust_env=False, timeout=5.0) as client:
            while not self._stopping:
                hook = self.webhook
                batch = (
                    self._deliverable(1, hook.allowed_updates or self._allowed_updates)
                    if hook.url and self.deliver_webhooks
                    else []
                )
                if not batch:
                    await self._wait_change(None)
                    continue
                update = batch[0]
                if not _is_loopback(hook.url):
                    hook.last_error = f"refusing to deliver to non-loopback URL {hook.url}"
                    self.errors.append(hook.last_error)
                    await self._wait_change(1.0)
                    continue
                try:
                    response = await post_update_to_webhook(
                        hook.url, update, secret_token=hook.secret_token, client=client
                    )
                except httpx.HTTPError as error:
                    self._record_delivery(update, hook.url, None, repr(error))
                    await asyncio.sleep(backoff)
                    backoff = min(1.0, backoff * 2)
                    continue
                self._record_delivery(update, hook.url, response.status_code, None)
                if 200 <= response.status_code < 300:
                    self._pending.pop(update["update_id"], None)
                    backoff = 0.05
                    self._notify()
                else:
                    await asyncio.sleep(backoff)
                    backoff = min(1.0, backoff * 2)

    def _record_delivery(
        self, update: JSON, url: str, status: int | None, error: str | None
    ) -> None:
        self.webhook_deliveries.append(
            WebhookDelivery(update["update_id"], url, status, error, time.monotonic())
        )
        if error or (status is not None and status >= 300):
            self.webhook.last_error = error or f"Wrong response from the webhook: {status}"
        self._notify()

    def _set_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        url = params.get("url") or ""
        if not isinstance(url, str):
            raise _bad_request("bad webhook: invalid URL")
        if url and not re.match(r"https?://", url):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad_request("bad webhook: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = WebhookInfo(
            url=url,
            secret_token=secret,
            allowed_updates=params.get("allowed_updates"),
            max_connections=params.get("max_connections"),
            params=dict(params),
        )
        if params.get("allowed_updates") is not None:
            self._allowed_updates = list(params["allowed_updates"])
        self.webhook_history.append(self.webhook)
        self._notify()
        return True

    def _delete_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if self.webhook.url:
            self.webhook = WebhookInfo()
            self.webhook_history.append(self.webhook)
        self._notify()
        return True

    def _get_webhook_info(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        info: JSON = {
            "url": self.webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook.max_connections:
            info["max_connections"] = self.webhook.max_connections
        if self.webhook.allowed_updates is not None:
            info["allowed_updates"] = self.webhook.allowed_updates
        if self.webhook.last_error:
            info["last_error_date"] = int(time.time())
            info["last_error_message"] = self.webhook.last_error
        return info

    # ------------------------------------------------------------------------ bot methods

    @property
    def bot_id(self) -> int:
        """The number in the token (the configured one, else the one the bot uses)."""
        token = self.token or self._seen_token or DEFAULT_TOKEN
        return int(token.split(":", 1)[0])

    def bot_user_json(self, bot_id: int | None = None) -> JSON:
        return {
            "id": self.bot_id if bot_id is None else bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _true(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        return True

    def _get_me(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return self.bot_user_json()

    def _resolve_chat(self, params: JSON, *, sending: bool = True) -> TgChat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad_request("chat_id is empty")
        chat: TgChat | None = None
        if isinstance(raw, int) or (isinstance(raw, str) and re.fullmatch(r"-?\d+", raw)):
            chat_id = int(raw)
            chat = self._chats.get(chat_id)
            if chat is None and not self.strict_chats:
                chat = self.register_chat(
                    TgChat(id=chat_id, type="private" if chat_id > 0 else "group")
                )
        elif isinstance(raw, str) and raw.startswith("@"):
            chat = next((c for c in self._chats.values() if c.username == raw[1:]), None)
        if chat is None:
            raise _bad_request("chat not found")
        if sending and chat.id in self.blocked:
            if chat.type == "private":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind}")
        return chat

    def _new_message_id(self, chat_id: int) -> int:
        number = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = number + 1
        return number

    def _reply_to(self, chat_id: int, params: JSON) -> int | None:
        reply = params.get("reply_parameters")
        message_id: Any = None
        allow = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = allow or bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") not in (None, chat_id):
                return None
        elif params.get("reply_to_message_id") is not None:
            message_id = params.get("reply_to_message_id")
        if message_id is None:
            return None
        target = int(message_id)
        if target not in self._messages.get(chat_id, {}):
            if allow:
                return None
            raise _bad_request("message to be replied not found")
        return target

    def _send_message(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._resolve_chat(params)
        formatted = format_text(
            params.get("text"),
            params.get("parse_mode"),
            params.get("entities"),
            limit=MAX_TEXT_LENGTH,
            too_long="message is too long",
            empty="message text is empty",
            strict_ampersand=self.strict_html_ampersand,
        )
        markup = parse_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat.id, params)
        message = self._new_bot_message(chat.id, "sendMessage", params)
        message.text = formatted.text
        message.parse_mode = formatted.parse_mode
        message.visible_text = formatted.visible
        message.entities = formatted.entities
        message.reply_to_message_id = reply_to
        self._apply_markup(message, markup)
        return self._commit_new(message)

    def _send_photo(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return self._send_document(params, files, field_name="photo")

    def _send_document(
        self, params: JSON, files: dict[str, UploadedFile], field_name: str = "document"
    ) -> JSON:
        chat = self._resolve_chat(params)
        stored = self._document_input(params, files, field_name)
        caption = params.get("caption")
        formatted = (
            format_text(
                caption,
                params.get("parse_mode"),
                params.get("caption_entities"),
                limit=MAX_CAPTION_LENGTH,
                too_long="message caption is too long",
                empty=None,
                strict_ampersand=self.strict_html_ampersand,
            )
            if caption
            else None
        )
        markup = parse_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat.id, params)
        message = self._new_bot_message(
            chat.id, "sendPhoto" if field_name == "photo" else "sendDocument", params
        )
        message.photo = field_name == "photo"
        message.document = SentDocument(
            filename=stored.filename,
            data=stored.data,
            caption=caption if caption else None,
            mime_type=stored.mime_type,
            file_id=stored.file_id,
        )
        if formatted is not None:
            message.caption = formatted.text
            message.parse_mode = formatted.parse_mode
            message.visible_text = formatted.visible
            message.entities = formatted.entities
        message.reply_to_message_id = reply_to
        self._apply_markup(message, markup)
        return self._commit_new(message)

    def _document_input(
        self, params: JSON, files: dict[str, UploadedFile], field_name: str = "document"
    ) -> StoredFile:
        value = params.get(field_name)
        upload = files.get(field_name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None:
                raise _bad_request("wrong file identifier/HTTP URL specified")
        if upload is not None:
            if not upload.data:
                raise _bad_request("file must be non-empty")
            mime = upload.content_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(upload.filename)[0] or mime
            return self._store_file(upload.filename, upload.data, mime)
        if isinstance(value, str) and value:
            if value in self._files:
                return self._files[value]
            if re.match(r"https?://", value):
                raise _bad_request("failed to get HTTP URL content")
            raise _bad_request("wrong file identifier/HTTP URL specified")
        raise _bad_request(f"there is no {field_name} in the request")

    def _store_file(self, filename: str | None, data: bytes, mime_type: str | None) -> StoredFile:
        number = next(self._file_ids)
        suffix = ""
        if filename and "." in filename:
            suffix = "." + re.sub(r"[^A-Za-z0-9]", "", filename.rsplit(".", 1)[1])[:10]
        stored = StoredFile(
            file_id=f"BQACAgUAAxkBAAI{number:06d}fake",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"documents/file_{number}{suffix}",
            filename=filename,
            data=bytes(data),
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _apply_markup(self, message: BotMessage, markup: ParsedMarkup) -> None:
        message.raw_reply_markup = markup.raw
        message.reply_markup = markup.inline
        message.reply_keyboard = markup.reply_keyboard

    def _new_bot_message(self, chat_id: int, method: str, params: JSON) -> BotMessage:
        return BotMessage(
            chat_id=chat_id,
            message_id=0,
            date=int(time.time()),
            time=time.monotonic(),
            method=method,
            params=dict(params),
        )

    def _commit_new(self, message: BotMessage) -> JSON:
        message.message_id = self._new_message_id(message.chat_id)
        self._messages[message.chat_id][message.message_id] = message
        self._chat_log[message.chat_id].append(message)
        self._event("sent", message)
        return self._bot_message_json(message)

    def _event(self, kind: str, message: BotMessage) -> None:
        self.events.append(
            MessageEvent(
                seq=len(self.events),
                kind=kind,
                chat_id=message.chat_id,
                message_id=message.message_id,
                message=message.snapshot(),
                time=time.monotonic(),
            )
        )
        self._notify()

    def _bot_message_json(self, message: BotMessage) -> JSON:
        data: JSON = {
            "message_id": message.message_id,
            "from": self.bot_user_json(),
            "chat": self._chats[message.chat_id].to_json(),
            "date": message.date,
        }
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if message.document is not None and message.photo:
            stored = self._files[message.document.file_id]
            data["photo"] = [stored.photo_size_json()]
            if message.visible_text:
                data["caption"] = message.visible_text
        elif message.document is not None:
            stored = self._files[message.document.file_id]
            data["document"] = stored.document_json()
            if message.visible_text:
                data["caption"] = message.visible_text
                if message.entities:
                    data["caption_entities"] = message.entities
        else:
            data["text"] = message.visible_text or ""
            if message.entities:
                data["entities"] = message.entities
        if message.reply_markup is not None and message.raw_reply_markup is not None:
            data["reply_markup"] = message.raw_reply_markup
        if message.reply_to_message_id is not None:
            target = self._messages[message.chat_id].get(message.reply_to_message_id)
            if isinstance(target, BotMessage):
                data["reply_to_message"] = self._bot_message_json(
                    dataclasses.replace(target, reply_to_message_id=None)
                )
            elif isinstance(target, UserMessage):
                data["reply_to_message"] = self._user_message_stub(target)
        return data

    def _user_message_stub(self, message: UserMessage) -> JSON:
        data: JSON = {
            "message_id": message.message_id,
            "from": message.user.to_json(),
            "chat": self._chats[message.chat_id].to_json(),
            "date": int(time.time()),
        }
        if message.text is not None:
            data["text"] = message.text
        if message.document is not None:
            data["document"] = message.document.document_json()
        return data

    def _editable(self, params: JSON) -> BotMessage:
        if params.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID (inline messages are not supported by the fake)")
        chat = self._resolve_chat(params, sending=False)
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        stored = self._messages.get(chat.id, {}).get(int(message_id))
        if stored is None or (isinstance(stored, BotMessage) and stored.deleted):
            raise _bad_request("message to edit not found")
        if not isinstance(stored, BotMessage):
            raise _bad_request("message can't be edited")
        return stored

    def _commit_edit(
        self,
        message: BotMessage,
        method: str,
        params: JSON,
        *,
        formatted: FormattedText | None,
        markup: ParsedMarkup,
        caption: bool = False,
    ) -> JSON:
        new_visible = formatted.visible if formatted is not None else message.visible_text
        new_entities = formatted.entities if formatted is not None else message.entities
        if (
            new_visible == message.visible_text
            and new_entities == message.entities
            and markup.inline == message.reply_markup
        ):
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        message.history.append(message._version())
        if formatted is not None:
            if caption:
                message.caption = formatted.text
                if message.document is not None:
                    message.document = dataclasses.replace(message.document, caption=formatted.text)
            else:
                message.text = formatted.text
            message.parse_mode = formatted.parse_mode
            message.visible_text = formatted.visible
            message.entities = formatted.entities
        self._apply_markup(message, markup)
        message.method = method
        message.params = dict(params)
        message.time = time.monotonic()
        message.edit_date = int(time.time())
        self._event("edited", message)
        return self._bot_message_json(message)

    def _edit_message_text(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        message = self._editable(params)
        if message.document is not None:
            raise _bad_request("there is no text in the message to edit")
        formatted = format_text(
            params.get("text"),
            params.get("parse_mode"),
            params.get("entities"),
            limit=MAX_TEXT_LENGTH,
            too_long="MESSAGE_TOO_LONG",
            empty="message text is empty",
            strict_ampersand=self.strict_html_ampersand,
        )
        markup = parse_reply_markup(params.get("reply_markup"), inline_only=True)
        return self._commit_edit(
            message, "editMessageText", params, formatted=formatted, markup=markup
        )

    def _edit_message_caption(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        message = self._editable(params)
        if message.document is None:
            raise _bad_request("there is no caption in the message to edit")
        formatted = format_text(
            params.get("caption"),
            params.get("parse_mode"),
            params.get("caption_entities"),
            limit=MAX_CAPTION_LENGTH,
            too_long="message caption is too long",
            empty=None,
            strict_ampersand=self.strict_html_ampersand,
        )
        markup = parse_reply_markup(params.get("reply_markup"), inline_only=True)
        return self._commit_edit(
            message,
            "editMessageCaption",
            params,
            formatted=formatted,
            markup=markup,
            caption=True,
        )

    def _edit_message_reply_markup(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        message = self._editable(params)
        markup = parse_reply_markup(params.get("reply_markup"), inline_only=True)
        return self._commit_edit(
            message, "editMessageReplyMarkup", params, formatted=None, markup=markup
        )

    def _delete_message(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        chat = self._resolve_chat(params, sending=False)
        message_id = params.get("message_id")
        stored = self._messages.get(chat.id, {}).get(int(message_id or 0))
        if stored is None or (isinstance(stored, BotMessage) and stored.deleted):
            raise _bad_request("message to delete not found")
        if isinstance(stored, BotMessage):
            stored.deleted = True
            self._event("deleted", stored)
        else:
            self._chat_log[chat.id].remove(stored)
            del self._messages[chat.id][stored.message_id]
            self._notify()
        return True

    def _answer_callback_query(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        record = self.callback_queries.get(query_id)
        if record is None or record.answered:
            raise _bad_request(_QUERY_INVALID.removeprefix("Bad Request: "))
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        record.answered = True
        self.callback_answers[query_id] = CallbackAnswer(
            query_id=query_id,
            text=text,
            show_alert=bool(params.get("show_alert")),
            url=params.get("url"),
            cache_time=params.get("cache_time"),
            time=time.monotonic(),
        )
        return True

    def _send_chat_action(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        chat = self._resolve_chat(params)
        action = params.get("action")
        if action not in CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self.chat_actions.append((chat.id, str(action), time.monotonic()))
        return True

    def _get_file(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad_request("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_SIZE:
            raise _bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    def _download(self, token: str, file_path: str) -> StoredFile | None:
        if self.token is not None and token != self.token:
            return None
        return self._files_by_path.get(file_path)

    def _set_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("too many commands")
        parsed: list[tuple[str, str]] = []
        for command in commands:
            name = command.get("command") if isinstance(command, dict) else None
            description = command.get("description") if isinstance(command, dict) else None
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            parsed.append((name, description))
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        if parsed:
            self.bot_commands[key] = parsed
        else:
            self.bot_commands.pop(key, None)
        return True

    def _get_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        return [
            {"command": name, "description": description}
            for name, description in self.bot_commands.get(key, [])
        ]

    def _delete_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self.bot_commands.pop(key, None)
        return True

    def _set_chat_menu_button(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        chat_id = params.get("chat_id")
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise _bad_request("can't parse menu button JSON object")
        self.menu_buttons[int(chat_id) if chat_id not in (None, "") else None] = button
        return True

    def _get_chat_menu_button(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat_id = params.get("chat_id")
        key = int(chat_id) if chat_id not in (None, "") else None
        return self.menu_buttons.get(key) or self.menu_buttons.get(None) or {"type": "default"}

    def _profile_setter(self, field_name: str) -> Callable[[JSON, dict[str, UploadedFile]], bool]:
        def setter(params: JSON, files: dict[str, UploadedFile]) -> bool:
            key = (field_name, str(params.get("language_code") or ""))
            value = params.get(field_name)
            if value:
                self.bot_profile[key] = str(value)
            else:
                self.bot_profile.pop(key, None)
            return True

        return setter

    def _profile_getter(self, field_name: str) -> Callable[[JSON, dict[str, UploadedFile]], JSON]:
        def getter(params: JSON, files: dict[str, UploadedFile]) -> JSON:
            language = str(params.get("language_code") or "")
            value = self.bot_profile.get((field_name, language))
            if value is None:
                value = self.bot_profile.get((field_name, ""), "")
            return {field_name: value}

        return getter

    # -------------------------------------------------------------------- helpers (updates)

    def _chat_for(self, user: TgUser, chat: TgChat | int | None) -> TgChat:
        if chat is None:
            return self.register_chat(self._chats.get(user.id) or user.private_chat)
        if isinstance(chat, TgChat):
            return self.register_chat(self._chats.get(chat.id) or chat)
        if chat == user.id:
            return self.register_chat(self._chats.get(user.id) or user.private_chat)
        known = self._chats.get(chat)
        if known is None:
            raise AssertionError(f"unknown chat {chat}: create it with fake.group(...) first")
        return known

    def _mark_chat(self, chat_id: int) -> None:
        self._read_cursor[chat_id] = max(self._read_cursor.get(chat_id, 0), len(self.events))

    def _user_message_json(self, user: TgUser, chat: TgChat) -> JSON:
        self._mark_chat(chat.id)
        return {
            "message_id": self._new_message_id(chat.id),
            "from": user.to_json(),
            "chat": chat.to_json(),
            "date": int(time.time()),
        }

    def _log_user_message(
        self,
        user: TgUser,
        chat_id: int,
        message: JSON,
        update_id: int,
        *,
        text: str | None = None,
        document: StoredFile | None = None,
        caption: str | None = None,
    ) -> None:
        entry = UserMessage(
            chat_id=chat_id,
            message_id=message["message_id"],
            user=user,
            update_id=update_id,
            time=time.monotonic(),
            text=text,
            document=document,
            caption=caption,
        )
        self._chat_log[chat_id].append(entry)
        self._messages[chat_id][entry.message_id] = entry

    def _reply_target_json(self, chat_id: int, target: BotMessage | int) -> JSON:
        message_id = target.message_id if isinstance(target, BotMessage) else target
        stored = self._messages.get(chat_id, {}).get(message_id)
        if isinstance(stored, BotMessage):
            return self._bot_message_json(dataclasses.replace(stored, reply_to_message_id=None))
        if isinstance(stored, UserMessage):
            return self._user_message_stub(stored)
        raise AssertionError(f"no message #{message_id} in chat {chat_id} to reply to")


# --------------------------------------------------------------------------------------------
# Webhook helper
# --------------------------------------------------------------------------------------------


async def post_update_to_webhook(
    url: str,
    update: JSON,
    secret_token: str | None = None,
    *,
    timeout: float = 5.0,
    client: httpx.AsyncClient | None = None,
) -> httpx.Response:
    """POST an update to a bot's webhook like Telegram does (JSON body, and the
    X-Telegram-Bot-Api-Secret-Token header if a secret is given). Loopback URLs only."""
    if not _is_loopback(url):
        raise AssertionError(f"tests only talk to 127.0.0.1, not {url}")
    headers = {"Content-Type": "application/json"}
    if secret_token:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
    body = json.dumps(update, ensure_ascii=False).encode("utf-8")
    if client is not None:
        return await client.post(url, content=body, headers=headers, timeout=timeout)
    async with httpx.AsyncClient(trust_env=False, timeout=timeout) as own:
        return await own.post(url, content=body, headers=headers)


def buttons_of(messages: Sequence[BotMessage]) -> list[str]:
    """All inline button labels of some messages (handy in assertions)."""
    return [label for message in messages for label in message.button_labels]
