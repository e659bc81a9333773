"""clean_text and normalize_width."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.catalogue import Code
from dialogs.parsing.errors import ParseError
from dialogs.parsing.text import clean_text, normalize_width, shorten


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("２６７．５９１５", "267.5915"),
        ("１，２３４％", "1,234%"),
        ("＋－＞＜＝～／", "+-><=~/"),
        ("ＡＢＣｘｙｚ", "ABCxyz"),
        ("2021.1－2021.12", "2021.1-2021.12"),
        ("2021.1〜2021.12", "2021.1~2021.12"),
        ("a\u3000b", "a b"),
        ("开展宣讲。", "开展宣讲。"),  # 。 is not a number character
        ("“一极三区”、（一）", "“一极三区”、(一)"),
    ],
)
def test_normalize_width(raw: str, expected: str) -> None:
    assert normalize_width(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  宣传部  ", "宣传部"),
        ("第一行\r\n第二行\r第三行", "第一行\n第二行\n第三行"),
        ("（一）指导全区的理论学习，做好工作。", "（一）指导全区的理论学习，做好工作。"),
        ("列1\t列2", "列1\t列2"),
        ("★重点工作☆ ✓ ①", "★重点工作☆ ✓ ①"),
        ("a=b", "a=b"),
        ("\u3000全角空格\u3000", "全角空格"),
    ],
)
def test_clean_text_accepts(raw: str, expected: str) -> None:
    assert clean_text(raw, 100) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", Code.REQUIRED),
        ("   \n\t ", Code.REQUIRED),
        ("\u3000", Code.REQUIRED),
        ("a\x00b", Code.CONTROL_CHARACTERS),
        ("非字符\ufffe", Code.CONTROL_CHARACTERS),
        ("非字符\uffff", Code.CONTROL_CHARACTERS),
        ("非字符\ufdd0", Code.CONTROL_CHARACTERS),
        ("非字符\U0001ffff", Code.CONTROL_CHARACTERS),
        ("代理\ud800项", Code.CONTROL_CHARACTERS),
        ("响铃\x07", Code.CONTROL_CHARACTERS),
        ("a\x1bb", Code.CONTROL_CHARACTERS),
        ("a\x7fb", Code.CONTROL_CHARACTERS),
        ("a\x85b", Code.CONTROL_CHARACTERS),
        ("零宽\u200b空格", Code.CONTROL_CHARACTERS),
        ("零宽\u200d连接", Code.CONTROL_CHARACTERS),
        ("\ufeffBOM", Code.CONTROL_CHARACTERS),
        ("反向\u202e文字", Code.CONTROL_CHARACTERS),
        ("隔离\u2066文字\u2069", Code.CONTROL_CHARACTERS),
        ("行\u2028分隔", Code.CONTROL_CHARACTERS),
        ("私用\ue000区", Code.CONTROL_CHARACTERS),
        ("好😀", Code.EMOJI),
        ("点赞👍🏻", Code.EMOJI),
        ("一家👨\u200d👩\u200d👧", Code.EMOJI),
        ("中国🇨🇳", Code.EMOJI),
        ("爱心❤️", Code.EMOJI),
        ("完成✅", Code.EMOJI),
        ("第1️⃣条", Code.EMOJI),
        ("⭐五星", Code.EMOJI),
        ("=cmd|' /C calc'!A0", Code.FORMULA_LIKE),
        ("=1+1", Code.FORMULA_LIKE),
        ("  =SUM(A1:A3)", Code.FORMULA_LIKE),
        ("＝1+1", Code.FORMULA_LIKE),
    ],
)
def test_clean_text_refuses(raw: str, code: Code) -> None:
    with pytest.raises(ParseError) as caught:
        clean_text(raw, 100)
    assert caught.value.code is code


def test_too_long_counts_characters() -> None:
    assert clean_text("字" * 10, 10) == "字" * 10
    with pytest.raises(ParseError) as caught:
        clean_text("字" * 11, 10)
    assert caught.value.code is Code.TOO_LONG
    assert caught.value.params == {"limit": "10", "length": "11"}


def test_parse_error_becomes_problem() -> None:
    with pytest.raises(ParseError) as caught:
        clean_text("字" * 11, 10)
    problem = caught.value.to_problem(field="部门名称", example="宣传部")
    assert problem.code is Code.TOO_LONG
    assert "10" in problem.message


def test_shorten() -> None:
    assert shorten("短") == "短"
    assert shorten("长" * 40) == "长" * 29 + "…"
    assert shorten("a\x00b") == "a?b"


@given(st.text(), st.integers(min_value=1, max_value=50))
def test_clean_text_only_raises_parse_error(raw: str, limit: int) -> None:
    try:
        cleaned = clean_text(raw, limit)
    except ParseError as error:
        assert error.code in {
            Code.REQUIRED,
            Code.CONTROL_CHARACTERS,
            Code.EMOJI,
            Code.FORMULA_LIKE,
            Code.TOO_LONG,
        }
    else:
        assert cleaned == cleaned.strip()
        assert cleaned
        assert 0 < len(cleaned) <= limit
        assert "\r" not in cleaned


@given(st.text(alphabet=st.characters(categories=["Lo", "Nd", "Po"]), min_size=1, max_size=30))
def test_clean_text_keeps_plain_chinese(raw: str) -> None:
    if raw.startswith("=") or not raw.strip():
        return
    assert clean_text(raw, 30) == raw.strip()
