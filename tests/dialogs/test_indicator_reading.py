"""read_indicator, canonical_text and split_for_2023: the 计算符号 table of forms.md."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.parsing.indicator import (
    UNITS,
    canonical_text,
    han_number,
    read_indicator,
    split_for_2023,
    targets,
)
from dialogs.values import Comparator, Grade, Nature, Reading

GE, GT, EQ, LT, LE = Comparator.GE, Comparator.GT, Comparator.EQ, Comparator.LT, Comparator.LE
NAME = "考核指标"  # a 三级指标 that names no target

QUANTITIES: list[tuple[str, Comparator, str, str]] = [
    # ＝ exactly
    ("100%", EQ, "100", "%"),
    ("95%", EQ, "95", "%"),
    ("１００％", EQ, "100", "%"),
    ("12次", EQ, "12", "次"),
    ("=12次", EQ, "12", "次"),
    ("＝12次", EQ, "12", "次"),
    ("95 %", EQ, "95", "%"),
    ("10 次", EQ, "10", "次"),
    ("一次", EQ, "1", "次"),
    ("两次", EQ, "2", "次"),
    ("十二次", EQ, "12", "次"),
    ("二十场", EQ, "20", "场"),
    ("一百零五人次", EQ, "105", "人次"),
    ("1,000人次", EQ, "1000", "人次"),
    ("3.5万人次", EQ, "3.5", "万人次"),
    ("100%。", EQ, "100", "%"),
    ("100%完成", EQ, "100", "%"),
    ("完成12次", EQ, "12", "次"),
    ("6期", EQ, "6", "期"),
    ("2篇", EQ, "2", "篇"),
    ("5‰", EQ, "5", "‰"),
    ("30天", EQ, "30", "天"),
    # ≥ at least
    ("≥95%", GE, "95", "%"),
    ("≥ 95 %", GE, "95", "%"),
    (">=95%", GE, "95", "%"),
    ("＞＝95%", GE, "95", "%"),
    ("≧95%", GE, "95", "%"),
    ("不低于95%", GE, "95", "%"),
    ("95%以上", GE, "95", "%"),
    ("95%及以上", GE, "95", "%"),
    ("９５％以上", GE, "95", "%"),
    ("不少于95%", GE, "95", "%"),
    ("不少于12次", GE, "12", "次"),
    ("10次以上", GE, "10", "次"),
    ("10 次以上", GE, "10", "次"),
    ("≥10次", GE, "10", "次"),
    ("至少3场", GE, "3", "场"),
    ("达到95%", GE, "95", "%"),
    ("大于等于90%", GE, "90", "%"),
    ("百分之九十五以上", GE, "95", "%"),
    ("不少于十二次", GE, "12", "次"),
    # ＞ more than
    ("＞10次", GT, "10", "次"),
    (">10次", GT, "10", "次"),
    ("超过10次", GT, "10", "次"),
    ("高于90%", GT, "90", "%"),
    ("大于5个", GT, "5", "个"),
    ("多于3家", GT, "3", "家"),
    # ＜ less than
    ("低于5%", LT, "5", "%"),
    ("<5%", LT, "5", "%"),
    ("＜5%", LT, "5", "%"),
    ("小于5%", LT, "5", "%"),
    ("少于3起", LT, "3", "起"),  # unknown unit: read, but unsure (see below)
    # ≤ at most
    ("≤6万元", LE, "6", "万元"),
    ("<=6万元", LE, "6", "万元"),
    ("＜＝6万元", LE, "6", "万元"),
    ("≦6万元", LE, "6", "万元"),
    ("不超过6万元", LE, "6", "万元"),
    ("6万元以下", LE, "6", "万元"),
    ("6 万元以下", LE, "6", "万元"),
    ("不高于5%", LE, "5", "%"),
    ("5%以内", LE, "5", "%"),
    ("控制在6万元以内", LE, "6", "万元"),
    ("控制在60000元以内", LE, "60000", "元"),
    ("12个月内", LE, "12", "个月"),
    ("在12个月内", LE, "12", "个月"),
    ("3个工作日内", LE, "3", "个工作日"),
    ("一年内", LE, "1", "年"),
]


@pytest.mark.parametrize(("value", "comparator", "number", "unit"), QUANTITIES)
def test_quantities(value: str, comparator: Comparator, number: str, unit: str) -> None:
    reading = read_indicator(NAME, value)
    assert reading.nature is Nature.QUANTITATIVE
    assert (reading.comparator, reading.number, reading.unit) == (comparator, Decimal(number), unit)
    assert reading.confirmed is False
    assert reading.sure is (unit in UNITS)


DEADLINES = [
    ("2021年12月底前完成", True),
    ("2021年12月底前", True),
    ("２０２１年１２月底前完成", True),
    ("12月底前", True),
    ("十二月底前", True),
    ("2021年底前", True),
    ("年底前完成", True),
    ("年内完成", True),
    ("2021年12月31日前", True),
    ("2021.12前", True),
    ("2021-12-31前", True),
    ("2021年6月15日前", False),  # the day is dropped: confirm
    ("2021年12月", False),  # no 前 or 底: confirm
    ("12月完成", False),
    ("12月底前开展宣讲", False),
]


@pytest.mark.parametrize(("value", "sure"), DEADLINES)
def test_deadlines_read_as_month_bounds(value: str, sure: bool) -> None:
    reading = read_indicator("完成时间", value)
    assert reading.nature is Nature.QUANTITATIVE
    assert reading.comparator is LE
    assert reading.unit == "月"
    assert reading.measurable
    assert reading.sure is sure


def test_deadline_month() -> None:
    assert read_indicator("完成时间", "2021年6月底前").number == Decimal(6)
    assert canonical_text(read_indicator("完成时间", "2021年12月底前完成")) == "≤12月"


@pytest.mark.parametrize(
    ("value", "grade", "comparator"),
    [
        ("优", Grade.EXCELLENT, None),
        ("优秀", Grade.EXCELLENT, None),
        ("良", Grade.GOOD, None),
        ("良好", Grade.GOOD, None),
        ("良好。", Grade.GOOD, None),
        ("中", Grade.FAIR, None),
        ("中等", Grade.FAIR, None),
        ("一般", Grade.FAIR, None),
        ("差", Grade.POOR, None),
        ("较差", Grade.POOR, None),
        ("良好及以上", Grade.GOOD, GE),
        ("优秀等级", Grade.EXCELLENT, None),
    ],
)
def test_grades(value: str, grade: Grade, comparator: Comparator | None) -> None:
    reading = read_indicator(NAME, value)
    assert reading == Reading(Nature.QUALITATIVE, comparator, grade=grade)


@pytest.mark.parametrize(
    "value",
    [
        "高质量完成",
        "按预算",
        "按预算经费实施。",
        "全年",
        "及时",
        "有效",
        "开展社会公益宣传。",
        "宣传贯彻习近平总书记系列重要讲话精神。",
        "开展区委理论中心组学习12次，开展党史学习研讨4次，开展宣讲10次以上。",
        "定性",
        "十分满意",
        "13月底前",
    ],
)
def test_vague_and_sentences_are_qualitative(value: str) -> None:
    reading = read_indicator(NAME, value)
    assert reading == Reading(Nature.QUALITATIVE)
    assert not reading.measurable


@pytest.mark.parametrize(
    ("name", "value", "sure"),
    [
        ("/", "/", True),
        ("／", "／", True),
        ("无直接经济效益", "无直接经济效益", True),
        ("无直接经济效益", "/", True),
        ("无直接经济效益", "", True),
        ("经济效益", "无直接经济效益", True),
        ("经济效益", "不适用", True),
        ("经济效益", "不涉及", True),
        ("带动产业收入", "/", False),  # a real 三级指标 next to `/`: confirm
    ],
)
def test_not_applicable(name: str, value: str, sure: bool) -> None:
    reading = read_indicator(name, value)
    assert reading.nature is Nature.NOT_APPLICABLE
    assert reading.sure is sure
    assert reading.confirmed is False


@pytest.mark.parametrize(
    ("name", "value", "sure"),
    [
        # the seed's legitimate shape: target in the 三级指标, completion rate in the 指标值
        ("开展宣讲10次以上，开展意识形态工作督查一次。", "100%", True),
        ("完成中心组学习任务12次。", "100%", True),
        ("庆祝中国共产党成立100周年", "95%", True),
        # agreeing name and value
        ("开展宣讲10次", "10次", True),
        ("开展宣讲10次以上", "≥10次", True),
        ("群众满意度达到90%以上", "≥90%", True),
        # disagreeing: which is the target?
        ("开展宣讲10次以上", "12次", False),
        ("满意度90%以上", "95%", False),
        ("完成中心组学习任务12次。", "95%", False),
        # guesses
        (NAME, "12", False),
        (NAME, "约10次", False),
        (NAME, "10次左右", False),
        (NAME, "每月1次", False),
        (NAME, "10帧", False),
        (NAME, "不超过6万元以上", False),
        ("培训人数（人）", "50", True),
    ],
)
def test_sure_policy(name: str, value: str, sure: bool) -> None:
    reading = read_indicator(name, value)
    assert reading.nature is Nature.QUANTITATIVE
    assert reading.sure is sure


def test_bare_number_has_no_unit() -> None:
    reading = read_indicator(NAME, "12")
    assert (reading.comparator, reading.number, reading.unit) == (EQ, Decimal(12), None)
    assert not reading.measurable
    bracketed = read_indicator("培训人数（人）", "50")
    assert bracketed.unit == "人"


def test_targets_in_names() -> None:
    found = targets("开展区委理论中心组学习12次，开展宣讲10次以上，开展督查一次，庆祝建党100周年")
    assert found == [(Decimal(12), "次"), (Decimal(10), "次"), (Decimal(1), "次")]


@pytest.mark.parametrize(
    ("text", "number"),
    [("一", 1), ("两", 2), ("十", 10), ("十二", 12), ("二十", 20), ("二十五", 25),
     ("一百", 100), ("一百零五", 105), ("两千", 2000), ("二〇二一", 2021), ("十十", None),
     ("", None), ("一二十", None)],
)
def test_han_number(text: str, number: int | None) -> None:
    assert han_number(text) == number


@pytest.mark.parametrize(
    ("value", "canonical", "split"),
    [
        ("≥95%", "≥95%", ("≥95", "%")),
        ("95%以上", "≥95%", ("≥95", "%")),
        ("100%", "100%", ("100", "%")),
        ("＞10次", "＞10次", ("＞10", "次")),
        ("低于5%", "＜5%", ("＜5", "%")),
        ("6万元以下", "≤6万元", ("≤6", "万元")),
        ("12个月内", "≤12个月", ("≤12", "个月")),
        ("良好", "良", ("良", "")),
        ("良好及以上", "良及以上", ("良及以上", "")),
        ("按预算经费实施。", "定性", ("按预算经费实施。", "")),
        ("/", "不适用", ("/", "/")),
    ],
)
def test_canonical_and_2023_split(value: str, canonical: str, split: tuple[str, str]) -> None:
    reading = read_indicator("/" if value == "/" else NAME, value)
    assert canonical_text(reading) == canonical
    again = read_indicator(NAME, canonical)
    assert (again.nature, again.comparator, again.number, again.unit, again.grade) == (
        reading.nature, reading.comparator, reading.number, reading.unit, reading.grade
    )
    assert again.sure
    assert split_for_2023(reading, value) == split


_NUMBERS = st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False)


@given(st.sampled_from(list(Comparator)), _NUMBERS, st.sampled_from(UNITS))
def test_canonical_round_trip(comparator: Comparator, number: Decimal, unit: str) -> None:
    text = canonical_text(Reading(Nature.QUANTITATIVE, comparator, number, unit))
    reading = read_indicator(NAME, text)
    assert (reading.nature, reading.comparator, reading.number, reading.unit) == (
        Nature.QUANTITATIVE, comparator, number, unit
    )
    assert reading.sure


@given(st.sampled_from(list(Grade)), st.booleans())
def test_grade_round_trip(grade: Grade, at_least: bool) -> None:
    reading = Reading(Nature.QUALITATIVE, GE if at_least else None, grade=grade)
    assert read_indicator(NAME, canonical_text(reading)) == reading


_SYMBOLS = {GE: ["≥", ">=", "≧", "不低于", "不少于"], GT: ["＞", ">", "超过", "高于", "大于"],
            LT: ["＜", "<", "低于", "小于", "少于"], LE: ["≤", "<=", "不超过", "不高于", "最多"]}


@given(st.sampled_from([(c, s) for c, symbols in _SYMBOLS.items() for s in symbols]),
       st.integers(min_value=0, max_value=100_000), st.sampled_from(UNITS), st.booleans())
def test_symbol_spellings(
    pair: tuple[Comparator, str], number: int, unit: str, space: bool
) -> None:
    comparator, symbol = pair
    gap = " " if space else ""
    reading = read_indicator(NAME, f"{symbol}{gap}{number}{gap}{unit}")
    assert (reading.comparator, reading.number, reading.unit) == (comparator, Decimal(number), unit)


@given(st.text(max_size=30), st.text(max_size=30))
def test_never_raises(name: str, value: str) -> None:
    reading = read_indicator(name, value)
    assert isinstance(reading, Reading)
    assert not reading.confirmed
    canonical_text(reading)
    split_for_2023(reading, value)
