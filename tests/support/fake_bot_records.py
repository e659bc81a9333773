"""What the fake Bot API (tests/support/fake_bot_api.py) keeps: users and chats, the bot's
messages, the calls it made, and the Telegram rules for what it sends (HTML, keyboards)."""

from __future__ import annotations

import dataclasses
import re
import struct
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, NamedTuple

JSON = dict[str, Any]
DEFAULT_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuv"


class ApiError(Exception):
    """A Bot API error answer (raise it from a `set_handler` override too)."""

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


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True)
class TgChat:
    id: int
    type: str = "private"
    title: str | None = None

    def to_json(self) -> JSON:
        return {key: value for key, value in vars(self).items() if value is not None}


@dataclass(frozen=True)
class TgUser:
    """A Telegram user on the test side. Their private chat has the same id."""

    id: int
    first_name: str = "Test"
    username: str | None = None
    language_code: str | None = "zh-hans"

    def to_json(self) -> JSON:
        return {"is_bot": False, **{key: value for key, value in vars(self).items() if value}}

    @property
    def private_chat(self) -> TgChat:
        return TgChat(self.id)


class InlineButton(NamedTuple):
    text: str
    callback_data: str


@dataclass(frozen=True)
class FakeFile:
    """A file a user uploaded or the bot sent (`caption` as the bot sent it)."""

    file_id: str
    filename: str | None
    data: bytes
    mime_type: str | None
    caption: str | None = None

    @property
    def file_path(self) -> str:
        return f"documents/{self.file_id}"

    def to_json(self, *, photo: bool = False) -> JSON:
        data: JSON = {"file_id": self.file_id, "file_unique_id": self.file_id}
        data["file_size"] = len(self.data)
        if photo:  # a PhotoSize: its size from the PNG header
            png = self.data.startswith(b"\x89PNG") and len(self.data) >= 24
            data["width"], data["height"] = (
                struct.unpack(">II", self.data[16:24]) if png else (1, 1)
            )
        else:
            data |= {"file_name": self.filename, "mime_type": self.mime_type}
        return {key: value for key, value in data.items() if value is not None}


@dataclass
class BotMessage:
    """A message the bot sent, in its current state (edits applied).

    `text` (or `caption`) is exactly what the bot sent, HTML included; `visible_text` is what
    the user sees (tags removed, references decoded, trimmed; the caption for a document).
    `reply_markup` holds the inline keyboard's rows of `InlineButton`, or None."""

    chat_id: int
    message_id: int
    method: str
    date: int
    text: str | None = None
    caption: str | None = None
    visible_text: str | None = None
    reply_markup: list[list[InlineButton]] | None = None
    document: FakeFile | None = None
    photo: bool = False  # sent with sendPhoto: `document` holds the picture
    params: JSON = field(default_factory=dict)
    edits: int = 0
    deleted: bool = False

    @property
    def buttons(self) -> list[InlineButton]:
        return [button for row in self.reply_markup or [] for button in row]

    @property
    def button_labels(self) -> list[str]:
        return [button.text for button in self.buttons]

    def button(self, label: str, *, exact: bool = False) -> InlineButton:
        """The button labelled `label` (an exact label always wins) or, unless `exact`,
        the one button whose label contains it."""
        hits = [b for b in self.buttons if b.text == label]
        if not hits and not exact:
            hits = [b for b in self.buttons if label in b.text]
        if len(hits) != 1:
            raise AssertionError(
                f"{len(hits)} buttons {'labelled' if exact else 'with'} {label!r} in message "
                f"#{self.message_id}; buttons: {self.button_labels}"
            )
        return hits[0]

    def snapshot(self) -> BotMessage:
        return dataclasses.replace(self)  # the fake replaces fields, never changes them inside

    def describe(self) -> str:
        body = self.visible_text or ""
        if self.document is not None:
            body = f"({self.method} {self.document.filename!r}, {len(self.document.data)} B) {body}"
        line = f"[bot  #{self.message_id}] {body}"
        if self.reply_markup:
            rows = " / ".join(" | ".join(b.text for b in row) for row in self.reply_markup)
            line += f"  [keyboard: {rows}]"
        line += f"  (edited {self.edits}x)" if self.edits else ""
        return line + ("  (deleted)" if self.deleted else "")


@dataclass(frozen=True)
class MessageEvent:
    """A bot message was "sent" or "edited"; `message` is its state at that moment."""

    seq: int
    kind: str
    chat_id: int
    message_id: int
    message: BotMessage


@dataclass
class ApiRequest:
    """One call the bot made. `status` is None while it is in flight, 0 when the connection
    was dropped; `fault` names the injected fault, if any."""

    seq: int
    method: str
    params: JSON
    time: float
    status: int | None = None
    response: JSON | None = None
    fault: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class CallbackQuery:
    chat_id: int
    update_id: int
    answered: bool = False


@dataclass(frozen=True)
class CallbackAnswer:
    text: str | None
    show_alert: bool


@dataclass
class Webhook:
    url: str = ""
    secret_token: str | None = None


@dataclass
class Fault:
    """An injected fault (`FakeBotApi.fail_next`); `fired` counts the calls it hit."""

    method: str
    remaining: int
    status: int
    retry_after: int
    drop: bool
    processed: bool
    description: str | None = None
    fired: int = 0

    def answer(self) -> tuple[int, JSON] | None:
        """The error to answer with; None to drop the connection."""
        if self.drop:
            return None
        retry = {"retry_after": self.retry_after} if self.status == 429 else None
        flood = f"Too Many Requests: retry after {self.retry_after}" if retry else None
        description = self.description or flood or HTTPStatus(self.status).phrase
        error = ApiError(self.status, description, retry)
        return error.status, error.payload()


# --- Telegram's rules for what the bot sends ------------------------------------------------

_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a"}
    | {"code", "pre", "blockquote", "tg-emoji"}
)
_MARKUP = re.compile(
    r"<(?P<close>/?)(?P<tag>[A-Za-z][\w-]*)?[^<>]*>|&(?P<ref>#\d+|#[xX][0-9A-Fa-f]+|\w+);|[<&]"
)
_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class EntityParseError(ValueError):
    pass


def parse_html(text: str) -> str:
    """What the user sees of a message sent with parse_mode HTML: tags removed, character
    references decoded. EntityParseError where Telegram refuses the text (unknown or unbalanced
    tags); a bare "&" is refused too, which Telegram lets through, so the bot escapes it."""
    out: list[str] = []
    stack: list[str] = []
    position = 0
    for found in _MARKUP.finditer(text):
        out.append(text[position : found.start()])
        position = found.end()
        where = f"at byte offset {len(text[: found.start()].encode())}"
        if found["ref"] is not None:
            out.append(_reference(found["ref"], where))
        elif found["tag"] is None:
            raise EntityParseError(f"Unescaped {found[0]!r} {where}")
        elif found["close"]:
            if not stack or stack.pop() != found["tag"].lower():
                raise EntityParseError(f'Unmatched end tag "{found[0]}" {where}')
        elif found["tag"].lower() in _TAGS:
            stack.append(found["tag"].lower())
        else:
            raise EntityParseError(f'Unsupported start tag "{found["tag"]}" {where}')
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out) + text[position:]


def _reference(ref: str, where: str) -> str:
    if not ref.startswith("#"):
        if ref not in _REFS:
            raise EntityParseError(f'Unknown character reference "&{ref};" {where}')
        return _REFS[ref]
    code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
    if not 0 < code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise EntityParseError(f'Invalid character reference "&{ref};" {where}')
    return chr(code)


def visible(text: Any, parse_mode: Any, limit: int, too_long: str, empty: str | None = None) -> str:
    """What the user sees of a text or caption, refused as Telegram refuses it (`empty`:
    what an empty one is called)."""
    shown = "" if text is None else str(text)
    if str(parse_mode or "").lower() == "html":
        try:
            shown = parse_html(shown)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    elif parse_mode:
        raise bad_request(f"the fake parses HTML only, not {parse_mode}")
    shown = shown.strip(" \t\n\r\x0b\x0c")  # Telegram trims a message
    if not shown and empty is not None:
        raise bad_request(f"message {empty} is empty")
    if len(shown) > limit:
        raise bad_request(too_long)
    return shown


def inline_keyboard(raw: Any) -> list[list[InlineButton]] | None:
    """The inline keyboard of a reply_markup (callback buttons only: the bot uses no others)."""
    if raw in (None, ""):
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("inline_keyboard"), list):
        raise bad_request(f"the fake knows inline keyboards only: {raw!r}")
    rows: list[list[InlineButton]] = []
    for row in raw["inline_keyboard"]:
        buttons: list[InlineButton] = []
        for button in row:
            text, data = button.get("text"), button.get("callback_data")
            if not isinstance(text, str) or not text.strip():
                raise bad_request("can't parse inline keyboard button: Text must be non-empty")
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
            buttons.append(InlineButton(text, data))
        if buttons:
            rows.append(buttons)
    return rows or None


def keyboard_json(rows: list[list[InlineButton]]) -> JSON:
    return {"inline_keyboard": [[b._asdict() for b in row] for row in rows]}
