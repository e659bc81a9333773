"""Text answers: width normalisation for number parsing and the checks every text answer gets."""

from __future__ import annotations

import unicodedata

from dialogs.catalogue import Code
from dialogs.parsing.errors import ParseError

# Dashes and tildes users type between numbers; all read as ASCII for number parsing.
_EXTRA_WIDTH = {
    "\u3000": " ",  # ideographic space
    "\u2013": "-",  # en dash
    "\u2212": "-",  # minus sign
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\ufe63": "-",  # small hyphen-minus
    "\u301c": "~",  # wave dash
    "\ufe6a": "%",  # small percent sign
    "\ufe50": ",",  # small comma
    "\ufe52": ".",  # small full stop
}


# One translation table (built once) so that normalising is a single C-level pass.
_WIDTH_TABLE: dict[int, str] = {
    **{code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)},
    **{ord(char): replacement for char, replacement in _EXTRA_WIDTH.items()},
}


def normalize_width(text: str) -> str:
    """Full-width ASCII variants (０-９, Ａ-Ｚ, ．，＋－％＞＜＝～／ …) to ASCII.

    Meant for reading numbers, symbols and units; prose answers are stored as typed, so Chinese
    punctuation such as 。、“” is left alone here and never reaches a stored text through this.
    """
    return text.translate(_WIDTH_TABLE)


def shorten(text: str, limit: int = 30) -> str:
    """`text` cut to `limit` characters with an ellipsis, for echoing a refused answer."""
    visible = "".join("?" if _is_control(char) else char for char in text.strip())
    if len(visible) <= limit:
        return visible
    return visible[: limit - 1] + "…"


# Characters that are emoji by default (Emoji_Presentation) in the BMP, outside the big
# pictograph blocks of plane 1. Text-style symbols such as ★ ☆ ✓ ① are not in the list.
_BMP_EMOJI = frozenset(
    [
        *(0x231A, 0x231B, 0x23E9, 0x23EA, 0x23EB, 0x23EC, 0x23F0, 0x23F3, 0x25FD, 0x25FE),
        *(0x2614, 0x2615, *range(0x2648, 0x2654), 0x267F, 0x2693, 0x26A1, 0x26AA, 0x26AB),
        *(0x26BD, 0x26BE, 0x26C4, 0x26C5, 0x26CE, 0x26D4, 0x26EA, 0x26F2, 0x26F3, 0x26F5),
        *(0x26FA, 0x26FD, 0x2705, 0x270A, 0x270B, 0x2728, 0x274C, 0x274E, 0x2753, 0x2754),
        *(0x2755, 0x2757, 0x2795, 0x2796, 0x2797, 0x27B0, 0x27BF, 0x2B1B, 0x2B1C, 0x2B50),
        0x2B55,
    ]
)


def is_emoji(char: str) -> bool:
    """Pictographs, emoticons, flags (regional indicators), keycaps, variation selector 16, tags."""
    code = ord(char)
    return (
        0x1F000 <= code <= 0x1FAFF  # mahjong … symbols and pictographs extended-A, flags, tones
        or code in (0xFE0E, 0xFE0F, 0x20E3)  # presentation selectors, combining keycap
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
        or code in _BMP_EMOJI
    )


def is_noncharacter(char: str) -> bool:
    """Unicode's 66 non-characters: U+FDD0..U+FDEF and the last two code points of every plane
    (U+FFFE, U+FFFF, U+1FFFE …). XML forbids U+FFFE and U+FFFF: a workbook holding one cannot
    be opened."""
    code = ord(char)
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


def _is_control(char: str) -> bool:
    """C0/C1 controls other than newline and tab, format characters (zero-width, bidi
    overrides, BOM, soft hyphen), line/paragraph separators, private use, surrogates and
    non-characters: everything a workbook (XML) cannot hold, and more that prints as nothing."""
    if char in "\n\t":
        return False
    code = ord(char)
    if 0xFE00 <= code <= 0xFE0D or 0xE0100 <= code <= 0xE01EF:  # other variation selectors
        return True
    if is_noncharacter(char):
        return True
    return unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp")


def without_invisible(text: str) -> str:
    """`text` without the characters `clean_text` refuses, for texts the user did not type to
    us and so cannot be asked to correct (a Telegram display name)."""
    return "".join(char for char in text if not _is_control(char))


def has_invisible_characters(text: str) -> bool:
    """Whether `text` holds a character `clean_text` refuses as CONTROL_CHARACTERS (for the
    texts that do not go through it: names, comments)."""
    return any(_is_control(char) for char in text.replace("\r", ""))


def clean_text(text: str, max_length: int) -> str:
    """A stored text answer: \\r\\n to \\n, surrounding whitespace stripped, then checked.

    Raises ParseError REQUIRED (empty), EMOJI, CONTROL_CHARACTERS, FORMULA_LIKE (starts with
    "="), TOO_LONG (params limit, length). Inner newlines are kept.
    """
    cleaned = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not cleaned:
        raise ParseError(Code.REQUIRED)
    if any(is_emoji(char) for char in cleaned):
        raise ParseError(Code.EMOJI, {"text": shorten(cleaned)})
    if any(_is_control(char) for char in cleaned):
        raise ParseError(Code.CONTROL_CHARACTERS, {"text": shorten(cleaned)})
    if cleaned.startswith(("=", "＝")):
        raise ParseError(Code.FORMULA_LIKE, {"text": shorten(cleaned)})
    if len(cleaned) > max_length:
        raise ParseError(Code.TOO_LONG, {"limit": str(max_length), "length": str(len(cleaned))})
    return cleaned
