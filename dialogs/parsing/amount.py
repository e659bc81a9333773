"""Amounts in 万元, read exactly as `Decimal` (never float)."""

from __future__ import annotations

import re
from decimal import Context, Decimal

from dialogs.catalogue import Code
from dialogs.parsing.errors import ParseError
from dialogs.parsing.text import normalize_width, shorten

MAX_DECIMALS = 6  # in 万元
LIMIT = Decimal(10) ** 9  # 万元; anything at or above is a unit mistake
_WIDE = Context(prec=200)
_MAX_SHIFT = 1000  # larger exponents never come from typed text; they are left as they are

_NUMBER = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+"
_AMOUNT = re.compile(
    rf"(?P<sign>[+-]?)\s*[¥￥]?\s*(?P<number>{_NUMBER})\s*(?P<unit>万元|万|元)?",
)


def plain_decimal(value: Decimal) -> Decimal:
    """`value` without trailing zeros and without an exponent: 90.00 -> 90, 1.50 -> 1.5.

    Exact for any length (no context rounding). `Decimal('90').normalize()` would give 9E+1,
    which `format_decimal` prints correctly but which is awkward to store and compare as text.
    """
    if not value.is_finite() or value.is_zero():
        return value if not value.is_finite() else Decimal(0)
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    kept = list(digits)
    while exponent < 0 and kept[-1] == 0:
        kept.pop()
        exponent += 1
    if 0 < exponent <= _MAX_SHIFT:
        kept.extend([0] * exponent)
        exponent = 0
    return Decimal((sign, tuple(kept), exponent))


def decimals_of(value: Decimal) -> int:
    """Number of significant decimal places (trailing zeros do not count)."""
    exponent = plain_decimal(value).as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def parse_amount(text: str) -> Decimal:
    """An amount in 万元: `267.5915`, `267.5915万元`, `1,234.5 万`, `2,675,915元`, `２６７．５`.

    Yuan (`元`) are divided by 10,000 (at most 2 decimals in yuan, i.e. 6 in 万元). Raises
    ParseError AMOUNT_FORMAT (text), AMOUNT_NEGATIVE, AMOUNT_TOO_PRECISE (text, decimals),
    AMOUNT_TOO_LARGE (text). The result has no exponent and no trailing zeros.
    """
    source = normalize_width(text).strip()
    source = re.sub(r"(?<=[0-9])。(?=[0-9])", ".", source)  # 267。5915 typed with a Chinese IME
    match = _AMOUNT.fullmatch(source)
    if match is None:
        raise ParseError(Code.AMOUNT_FORMAT, {"text": shorten(text)})
    number = Decimal(match["number"].replace(",", ""))
    if match["unit"] == "元":
        number = number.scaleb(-4, _WIDE)  # exact: a shift of the exponent
    value = plain_decimal(number)
    if match["sign"] == "-" and not value.is_zero():
        raise ParseError(Code.AMOUNT_NEGATIVE, {"text": shorten(text)})
    decimals = decimals_of(value)
    if decimals > MAX_DECIMALS:
        raise ParseError(
            Code.AMOUNT_TOO_PRECISE, {"text": shorten(text), "decimals": str(decimals)}
        )
    if value >= LIMIT:
        raise ParseError(Code.AMOUNT_TOO_LARGE, {"text": shorten(format(value, "f"))})
    return value


def yuan_to_wan(value: Decimal) -> Decimal:
    """An amount in 元 as 万元, exactly."""
    return plain_decimal(value.scaleb(-4, _WIDE))
