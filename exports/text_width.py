"""How wide text prints: Excel column units, wrapped line counts, and where LibreOffice breaks
lines (measured on rendered pages), for sizing columns and rows without opening a workbook."""

from __future__ import annotations

import functools
import math
import re
import unicodedata

# Excel's column unit is the width of "0" in the workbook's default font, which the writer sets
# to 宋体 11 pt (as in Chinese Excel): 8 px. A CJK character is 15 px wide, a Latin one 8 px.
DIGIT_PIXELS = 8
CJK_UNITS = 15 / DIGIT_PIXELS
LATIN_UNITS = 8 / DIGIT_PIXELS
WRAP_SLACK = 1.08  # lines break at character (or word) boundaries, never mid-glyph


@functools.lru_cache(maxsize=8192)
def _char_units(char: str) -> float:
    wide = unicodedata.east_asian_width(char) in ("W", "F", "A")
    return CJK_UNITS if wide else LATIN_UNITS


# Measured once per distinct text: a round repeats its labels in every table of every
# department, and a text is measured for its width, its lines and its punctuation.
@functools.lru_cache(maxsize=65536)
def text_units(text: str) -> float:
    """Width of `text` in Excel column units at 11 pt."""
    return sum(map(_char_units, text))


@functools.lru_cache(maxsize=65536)
def text_lines(text: str, width: float, size: float = 11) -> int:
    """Lines that `text` wraps to in a column `width` units wide at font `size`."""
    scale = size / 11
    usable = max(width - 0.3, 1.0)  # the cell's own padding
    lines = 0
    for paragraph in text.split("\n"):
        lines += max(1, math.ceil(text_units(paragraph) * scale * WRAP_SLACK / usable))
    return lines


def fits_one_line(text: str, width: float) -> bool:
    """Whether `text` fits on one line at 11 pt (no slack: a near fit stays centred)."""
    return "\n" not in text and text_units(text) <= width - 0.3


# Punctuation that must not begin a line (GB/T 15834); LibreOffice and Excel wrap cell text
# without that rule, so a text ending `…为准。` can print its `。` alone on the last line.
CLOSING_PUNCTUATION = frozenset("。，、；：？！）》」』】〕”’．.,;:?!)%")
# Where LibreOffice breaks a wrapped line, measured on rendered pages (any print scale): a column
# `w` units wide holds (8w + 2) px of 11 pt text, a CJK character being 15 px and others about
# 8; Latin words and numbers are not broken. Slightly narrower fits are tried as well, since a
# Latin glyph's width varies by font.
LINE_PIXELS = (8.0, 2.0)
LINE_FITS = (1.0, 0.97)
_TOKEN = re.compile(r"[A-Za-z0-9.,%+\-]+|.", re.S)


@functools.lru_cache(maxsize=4096)
def _token_pixels(paragraph: str) -> tuple[float, ...]:
    return tuple(text_units(token) * DIGIT_PIXELS for token in _TOKEN.findall(paragraph))


@functools.lru_cache(maxsize=4096)
def _total_pixels(paragraph: str) -> float:
    return sum(_token_pixels(paragraph))


def _last_line_tokens(paragraph: str, capacity: float) -> int:
    """How many tokens the last line of `paragraph` wrapped at `capacity` pixels holds."""
    pixels = _token_pixels(paragraph)
    if _total_pixels(paragraph) <= capacity:
        return len(pixels)
    count, used = 0, 0.0
    for width in pixels:
        if count and used + width > capacity:
            count, used = 0, 0.0
        count += 1
        used += width
    return count


@functools.lru_cache(maxsize=4096)
def _trailing_punctuation(paragraph: str) -> int:
    """How many tokens (characters) of closing punctuation end `paragraph`."""
    tokens = _TOKEN.findall(paragraph)
    count = 0
    while count < len(tokens) and all(c in CLOSING_PUNCTUATION for c in tokens[-1 - count]):
        count += 1
    return count if count < len(tokens) else 0


INDENT_PIXELS = 10.0


@functools.lru_cache(maxsize=65536)
def lone_punctuation(text: str, width: float, size: float = 11, indent: int = 0) -> bool:
    """Whether wrapping `text` at `width` may leave only closing punctuation on a paragraph's
    last line."""
    for paragraph in text.split("\n"):
        body = paragraph.rstrip()
        if not body.rstrip("".join(CLOSING_PUNCTUATION)) or body[-1] not in CLOSING_PUNCTUATION:
            continue
        trailing = _trailing_punctuation(body)
        if not trailing:
            continue
        for fit in LINE_FITS:
            line = LINE_PIXELS[0] * width + LINE_PIXELS[1] - indent * INDENT_PIXELS
            capacity = line * fit * 11 / size
            if _last_line_tokens(body, capacity) <= trailing:
                return True
    return False


def clear_caches() -> None:
    """Forget every measured text (benchmarks time an export from cold)."""
    for cached in (_char_units, text_units, text_lines, _token_pixels, _total_pixels):
        cached.cache_clear()
    _trailing_punctuation.cache_clear()
    lone_punctuation.cache_clear()
