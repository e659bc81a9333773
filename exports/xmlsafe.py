"""The last line of defence before text reaches a workbook: characters XML 1.0 cannot hold.

The chat refuses them at input (dialogs.parsing.text, CONTROL_CHARACTERS), but text also comes
from older data, imports and Telegram display names. One such character makes the whole
workbook unreadable (the round's export included), so they are replaced here, visibly.
"""

from __future__ import annotations

import re
from typing import TypeVar

# Outside XML 1.0's Char production (#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
# [#x10000-#x10FFFF]), plus the other non-characters (U+FDD0..U+FDEF, U+nFFFE/U+nFFFF), which
# XML discourages and some readers refuse.
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17))
    + "]"
)
REPLACEMENT = "\ufffd"
T = TypeVar("T")


def xml_safe(value: T) -> T:
    """`value` with every character XML forbids replaced by U+FFFD; non-strings unchanged."""
    if isinstance(value, str) and _FORBIDDEN.search(value):
        return _FORBIDDEN.sub(REPLACEMENT, value)  # type: ignore[return-value]
    return value
