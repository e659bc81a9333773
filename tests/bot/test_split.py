"""The one message splitter (bot/split.py): any text, cut into parts within Telegram's limit that
join back into it, between lines wherever a line fits; and the review laid out on it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render import review_messages
from bot.split import EMPTY, LIMIT, messages_of, split_text, units
from dialogs.review import QualityFigure, Review
from tests.support.fake_bot_api import parse_html

# Lines of every sort: empty, short, CJK, astral emoji (two UTF-16 units), and long ones.
LINE = st.one_of(
    st.just(""),
    st.text(max_size=8),
    st.text(alphabet="报表😀𝄞ab ", max_size=40),
    st.text(alphabet="ab😀", min_size=30, max_size=120),
)
TEXT = st.lists(LINE, max_size=30).map("\n".join) | st.text()


def _cuts_are_where_they_may_be(parts: list[str], limit: int) -> None:
    """Every cut is right after or right before a newline, or inside a line that (with its
    newline) does not fit into one part."""
    text = "".join(parts)
    position = 0
    for part in parts[:-1]:
        position += len(part)
        if text[position - 1] == "\n" or text[position] == "\n":
            continue
        start = text.rfind("\n", 0, position) + 1
        end = text.find("\n", position)
        line = text[start:] if end < 0 else text[start : end + 1]
        assert units(line) > limit, (part, line)


@settings(max_examples=300, deadline=None)
@given(TEXT, st.integers(min_value=2, max_value=60))
def test_any_text_splits_into_parts_within_the_limit_that_join_back(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    assert "".join(parts) == text
    assert all(0 < units(part) <= limit for part in parts)
    _cuts_are_where_they_may_be(parts, limit)
    # Greedy: the line after a cut at a newline would not have fitted into the part before.
    position = 0
    for part in parts[:-1]:
        position += len(part)
        if part.endswith("\n"):
            rest = text[position:]
            first = rest.split("\n", 1)[0] + ("\n" if "\n" in rest else "")
            assert units(part) + units(first) > limit


@settings(max_examples=50, deadline=None)
@given(st.lists(LINE, min_size=1, max_size=400).map("\n".join))
def test_telegram_sized_parts_join_back_on_line_boundaries(text: str) -> None:
    text = text * 40  # long enough for several messages of 4,096
    parts = split_text(text)
    assert "".join(parts) == text
    assert all(units(part) <= LIMIT for part in parts)
    _cuts_are_where_they_may_be(parts, LIMIT)


def test_messages_drop_the_newlines_at_the_cuts_and_are_never_empty() -> None:
    text = "\n".join(f"<b>部门{n}</b>：草稿 10%" for n in range(600))
    messages = messages_of(text)
    assert len(messages) > 1 and "\n".join(messages) == text
    assert messages_of("\n\n  \n") == [EMPTY]


def test_an_astral_character_is_never_cut_in_half() -> None:
    parts = split_text("😀" * 5, limit=3)
    assert parts == ["😀"] * 5


def test_a_long_review_is_cut_into_numbered_messages_within_the_limit() -> None:
    quality = QualityFigure(total=0, measurable=0, qualitative=0, not_applicable=0, warnings=0)
    lines = tuple(f"第{n}行 <不是标签> & 😀" * 5 for n in range(1, 400))
    review = Review("📋 部门整体支出绩效目标表 · 预览", lines, (), (), quality)
    messages = review_messages(review)
    assert len(messages) > 1
    seen = []
    for number, message in enumerate(messages, start=1):
        visible = parse_html(message)
        assert units(visible) <= LIMIT
        title, _, body = visible.partition("\n")
        assert title == f"{review.title}（{number}/{len(messages)}）"
        seen += body.split("\n")
    assert seen == list(lines)
