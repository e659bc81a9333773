"""parse_period: 项目实施期."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.catalogue import Code
from dialogs.parsing.errors import ParseError
from dialogs.parsing.period import parse_period
from dialogs.values import Period, YearMonth

WHOLE_2021 = Period(YearMonth(2021, 1), YearMonth(2021, 12))


@pytest.mark.parametrize(
    "text",
    [
        "2021.1-2021.12",
        "2021年1月-2021年12月",
        "2021.01—2021.12",
        "2021.01——2021.12",
        "2021.1－2021.12",
        "2021.1–2021.12",
        "2021/1-2021/12",
        "2021-01至2021-12",
        "2021-01-2021-12",
        "2021.1~2021.12",
        "2021.1～2021.12",
        "2021.1 - 2021.12",
        "２０２１．１－２０２１．１２",
        "2021年1月至2021年12月",
        "2021年1月到2021年12月",
        "2021年1月至12月",
        "2021.1.1-2021.12.31",
        "2021年1月1日-2021年12月31日",
        "2021年",
        "2021年度",
        " 2021.1-2021.12 ",
    ],
)
def test_accepts(text: str) -> None:
    assert parse_period(text) == WHOLE_2021


def test_other_periods() -> None:
    assert parse_period("2021.7-2022.6") == Period(YearMonth(2021, 7), YearMonth(2022, 6))
    assert parse_period("2021.3-2021.3") == Period(YearMonth(2021, 3), YearMonth(2021, 3))
    assert str(parse_period("2021.01—2021.12")) == "2021.1-2021.12"


@pytest.mark.parametrize(
    ("text", "code", "params"),
    [
        ("", Code.PERIOD_FORMAT, {"text": ""}),
        ("全年", Code.PERIOD_FORMAT, {"text": "全年"}),
        ("2021.1", Code.PERIOD_FORMAT, {"text": "2021.1"}),
        ("2021-01-12", Code.PERIOD_FORMAT, {"text": "2021-01-12"}),
        ("21.1-21.12", Code.PERIOD_FORMAT, {"text": "21.1-21.12"}),
        ("1899.1-1899.12", Code.PERIOD_FORMAT, {"text": "1899.1-1899.12"}),
        ("2101.1-2101.12", Code.PERIOD_FORMAT, {"text": "2101.1-2101.12"}),
        ("2021.1.32-2021.12.1", Code.PERIOD_FORMAT, {"text": "2021.1.32-2021.12.1"}),
        ("2021.13-2021.12", Code.PERIOD_MONTH, {"month": "13"}),
        ("2021.0-2021.12", Code.PERIOD_MONTH, {"month": "0"}),
        ("2021年1月-2021年13月", Code.PERIOD_MONTH, {"month": "13"}),
        ("2021.12-2021.1", Code.PERIOD_REVERSED, {"start": "2021.12", "end": "2021.1"}),
        ("2022.1-2021.12", Code.PERIOD_REVERSED, {"start": "2022.1", "end": "2021.12"}),
    ],
)
def test_refuses(text: str, code: Code, params: dict[str, str]) -> None:
    with pytest.raises(ParseError) as caught:
        parse_period(text)
    assert caught.value.code is code
    assert caught.value.params == params


_YEAR_MONTHS = st.builds(
    YearMonth, st.integers(min_value=1900, max_value=2100), st.integers(min_value=1, max_value=12)
)


@given(_YEAR_MONTHS, _YEAR_MONTHS, st.sampled_from(["{s}-{e}", "{s}至{e}", "{s}—{e}", "{s}~{e}"]))
def test_round_trip(a: YearMonth, b: YearMonth, shape: str) -> None:
    start, end = min(a, b), max(a, b)
    period = Period(start, end)
    assert parse_period(str(period)) == period
    assert parse_period(shape.format(s=start, e=end)) == period
    chinese = f"{start.year}年{start.month}月-{end.year}年{end.month:02d}月"
    assert parse_period(chinese) == period


@given(_YEAR_MONTHS, _YEAR_MONTHS)
def test_reversed(a: YearMonth, b: YearMonth) -> None:
    if a <= b:
        return
    with pytest.raises(ParseError) as caught:
        parse_period(f"{a}-{b}")
    assert caught.value.code is Code.PERIOD_REVERSED


@given(st.text(max_size=40))
def test_only_parse_error(text: str) -> None:
    try:
        period = parse_period(text)
    except ParseError as error:
        assert error.code in {Code.PERIOD_FORMAT, Code.PERIOD_MONTH, Code.PERIOD_REVERSED}
    else:
        assert period.start <= period.end
