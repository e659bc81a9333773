"""Telegram's message length limit, and the one splitter that respects it.

Telegram refuses a message longer than 4,096 characters, counted in UTF-16 code units of the
visible text (an emoji outside the Basic Multilingual Plane counts two). Every long text the bot
sends — a review, the /status report, a digest, a list of import problems — is cut here, between
lines wherever a line fits, so no channel-independent code (dialogs/) needs to know the limit.
"""

from __future__ import annotations

from telegram.constants import MessageLimit

LIMIT: int = MessageLimit.MAX_TEXT_LENGTH
EMPTY = "…"  # what is sent for a text with nothing visible (Telegram refuses an empty message)


def units(text: str) -> int:
    """The length Telegram counts: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _width(character: str) -> int:
    return 2 if ord(character) > 0xFFFF else 1


def _fitting(text: str, room: int) -> int:
    """How many characters of `text` fit into `room` UTF-16 units."""
    if units(text[:room]) <= room:  # the usual case: no character outside the BMP
        return min(room, len(text))
    used = 0
    for count, character in enumerate(text):
        used += _width(character)
        if used > room:
            return count
    return len(text)


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """`text` cut into parts of at most `limit` UTF-16 units that join back into it exactly
    (`"".join(parts) == text`). Whole lines are packed greedily, each keeping its newline; a
    line too long for a part of its own is cut at the limit (the only cut inside a line)."""
    if limit < 2:
        raise ValueError("a part must be able to hold any character (2 UTF-16 units)")
    parts: list[str] = []
    current: list[str] = []
    size = 0
    lines = text.split("\n")
    for number, line in enumerate(lines):
        piece = line if number == len(lines) - 1 else line + "\n"
        if not piece:
            continue
        width = units(piece)
        if size + width <= limit:
            current.append(piece)
            size += width
            continue
        if current:
            parts.append("".join(current))
            current, size = [], 0
        while width > limit:
            cut = _fitting(piece, limit)
            parts.append(piece[:cut])
            width -= units(piece[:cut])
            piece = piece[cut:]
        if piece:
            current, size = [piece], width
    if current:
        parts.append("".join(current))
    return parts


def messages_of(text: str, limit: int = LIMIT) -> list[str]:
    """`text` as the messages to send: its parts without the blank lines at their ends (which
    Telegram trims anyway), parts with nothing visible left out, at least one message."""
    messages = [part.strip() for part in split_text(text, limit)]
    return [message for message in messages if message] or [EMPTY]
