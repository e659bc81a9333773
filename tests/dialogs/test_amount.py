"""parse_amount: 万元 as exact Decimal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.catalogue import Code
from dialogs.parsing.amount import decimals_of, parse_amount, plain_decimal
from dialogs.parsing.errors import ParseError
from dialogs.values import format_decimal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("267.5915", "267.5915"),
        ("267.5915万元", "267.5915"),
        ("267.5915 万元", "267.5915"),
        ("2,675,915元", "267.5915"),
        ("2675915 元", "267.5915"),
        ("２６７．５９１５", "267.5915"),
        ("２６７．５９１５万元", "267.5915"),
        ("177.59151万元", "177.59151"),
        ("90", "90"),
        ("90万元", "90"),
        ("90.000", "90"),
        ("0", "0"),
        ("0.0", "0"),
        ("1,234.5 万", "1234.5"),
        ("  60  ", "60"),
        ("1775915.10元", "177.59151"),
        ("1.23元", "0.000123"),
        ("0.000001", "0.000001"),
        ("999999999.999999", "999999999.999999"),
        ("267。5915", "267.5915"),
        ("+3", "3"),
        (".5", "0.5"),
    ],
)
def test_accepts(text: str, expected: str) -> None:
    value = parse_amount(text)
    assert value == Decimal(expected)
    assert format_decimal(value) == expected
    assert str(value) == expected  # no exponent, no trailing zeros


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("-5", Code.AMOUNT_NEGATIVE),
        ("－5万元", Code.AMOUNT_NEGATIVE),
        ("-0.5", Code.AMOUNT_NEGATIVE),
        ("1.1234567", Code.AMOUNT_TOO_PRECISE),
        ("1.123元", Code.AMOUNT_TOO_PRECISE),
        ("1000000000", Code.AMOUNT_TOO_LARGE),
        ("2,000,000,000万元", Code.AMOUNT_TOO_LARGE),
        ("", Code.AMOUNT_FORMAT),
        ("   ", Code.AMOUNT_FORMAT),
        ("六万元", Code.AMOUNT_FORMAT),
        ("约60万元", Code.AMOUNT_FORMAT),
        ("60万元左右", Code.AMOUNT_FORMAT),
        ("1e5", Code.AMOUNT_FORMAT),
        ("NaN", Code.AMOUNT_FORMAT),
        ("Infinity", Code.AMOUNT_FORMAT),
        ("1.2.3", Code.AMOUNT_FORMAT),
        ("12,34", Code.AMOUNT_FORMAT),
        ("60💰", Code.AMOUNT_FORMAT),
        ("60美元", Code.AMOUNT_FORMAT),
        ("٣", Code.AMOUNT_FORMAT),
    ],
)
def test_refuses(text: str, code: Code) -> None:
    with pytest.raises(ParseError) as caught:
        parse_amount(text)
    assert caught.value.code is code


def test_refusal_parameters() -> None:
    with pytest.raises(ParseError) as caught:
        parse_amount("1.1234567")
    assert caught.value.params == {"text": "1.1234567", "decimals": "7"}
    with pytest.raises(ParseError) as caught:
        parse_amount("这是一段很长很长很长很长很长很长很长很长很长很长很长的文字而不是金额")
    assert caught.value.code is Code.AMOUNT_FORMAT
    assert len(caught.value.params["text"]) == 30
    assert caught.value.params["text"].endswith("…")
    with pytest.raises(ParseError) as caught:
        parse_amount("1000000000")
    assert caught.value.params["text"] == "1000000000"
    problem = caught.value.to_problem(field="资金总额", example="267.5915")
    assert "1000000000" in problem.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [("90", "90"), ("9E+1", "90"), ("1.500", "1.5"), ("0.000", "0"), ("-0", "0"),
     ("1E-6", "0.000001")],
)
def test_plain_decimal(value: str, expected: str) -> None:
    assert str(plain_decimal(Decimal(value))) == expected
    assert decimals_of(Decimal(value)) == len(expected.partition(".")[2])


_AMOUNTS = st.decimals(min_value=0, max_value=Decimal("999999999.999999"), places=6)
_FULL_WIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")


@given(_AMOUNTS, st.sampled_from(["", "万元", " 万元", "万"]), st.booleans(), st.booleans())
def test_round_trip(value: Decimal, suffix: str, full_width: bool, grouped: bool) -> None:
    text = format_decimal(value)
    if grouped:
        whole, dot, fraction = text.partition(".")
        text = f"{int(whole):,}{dot}{fraction}"
    text += suffix
    if full_width:
        text = text.translate(_FULL_WIDTH)
    parsed = parse_amount(text)
    assert parsed == value
    assert "E" not in str(parsed)


@given(st.decimals(min_value=0, max_value=Decimal("9999999999999.99"), places=2))
def test_yuan_round_trip(yuan: Decimal) -> None:
    assert parse_amount(f"{format_decimal(yuan)}元") == yuan / 10000


@given(st.text(max_size=40))
def test_only_parse_error(text: str) -> None:
    try:
        value = parse_amount(text)
    except ParseError as error:
        assert error.code in {
            Code.AMOUNT_FORMAT,
            Code.AMOUNT_NEGATIVE,
            Code.AMOUNT_TOO_PRECISE,
            Code.AMOUNT_TOO_LARGE,
        }
    else:
        assert 0 <= value < Decimal(10) ** 9
        assert decimals_of(value) <= 6
