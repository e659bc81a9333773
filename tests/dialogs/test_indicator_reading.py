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
    join_2023,
    read_indicator,
    split_for_2023,
    targets,
)
from dialogs.values import Comparator, Grade, Nature, Reading, format_decimal

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
        ("95%以上", "≥95%", ("95%以上", "%")),
        ("100%", "100%", ("100", "%")),
        ("＞10次", "＞10次", ("＞10", "次")),
        ("低于5%", "＜5%", ("低于5", "%")),
        ("6万元以下", "≤6万元", ("6万元以下", "万元")),
        ("12个月内", "≤12个月", ("12个月内", "个月")),
        ("良好", "良", ("良好", "")),
        ("良好及以上", "良及以上", ("良好及以上", "")),
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


# --- issue 11: compound, large and relative units; dates kept whole in the 2023 columns ----------

RATES: list[tuple[str, Comparator, str, str]] = [
    ("≤420元/亩", LE, "420", "元/亩"),
    ("≤800元/户", LE, "800", "元/户"),
    ("≥3万元/公里", GE, "3", "万元/公里"),
    ("≥2次/月", GE, "2", "次/月"),
    ("50公斤/亩", EQ, "50", "公斤/亩"),
    ("1200元/人·月", EQ, "1200", "元/人·月"),
    ("1200元/人・月", EQ, "1200", "元/人·月"),
    ("不超过15元／平方米", LE, "15", "元/平方米"),
    ("不低于2次/年", GE, "2", "次/年"),
    ("4次/季度以上", GE, "4", "次/季度"),
    ("≥1800人次", GE, "1800", "人次"),
    ("≥5万吨", GE, "5", "万吨"),
    ("2.4万人次", EQ, "2.4", "万人次"),
    ("≥1.2万亩", GE, "1.2", "万亩"),
    ("≥30万户", GE, "30", "万户"),
    ("不少于3亿元", GE, "3", "亿元"),
    ("≥12万册", GE, "12", "万册"),
    ("较上年下降3%", EQ, "3", "%"),
    ("同比增长5%", EQ, "5", "%"),
    ("比上年提高2个百分点", EQ, "2", "个百分点"),
    ("较2025年增长10%以上", GE, "10", "%"),
    ("同比减少不低于8万元", GE, "8", "万元"),
    ("与上年相比缩短2个工作日", EQ, "2", "个工作日"),
]


@pytest.mark.parametrize(("value", "comparator", "number", "unit"), RATES)
def test_rates_large_units_and_changes_are_quantitative(
    value: str, comparator: Comparator, number: str, unit: str
) -> None:
    reading = read_indicator("考核指标", value)
    assert reading.nature is Nature.QUANTITATIVE
    assert (reading.comparator, reading.number, reading.unit) == (comparator, Decimal(number), unit)
    assert reading.sure, "an identical reading is taken without asking"
    assert reading.measurable


CALENDAR_DEADLINES = [
    ("2026年11月底前", 11),
    ("11月底前", 11),
    ("2026年6月30日前", 6),
    ("第三季度末前", 9),
    ("2026年第二季度末前完成", 6),
    ("三季度末", 9),
    ("2026年上半年前完成", 6),
    ("2026年12月31日前完成", 12),
]


@pytest.mark.parametrize(("value", "month"), CALENDAR_DEADLINES)
def test_calendar_deadlines_keep_their_text_in_2023(value: str, month: int) -> None:
    reading = read_indicator("完成时间", value)
    assert (reading.nature, reading.comparator, reading.number, reading.unit) == (
        Nature.QUANTITATIVE, LE, Decimal(month), "月"
    )
    assert reading.sure
    assert split_for_2023(reading, value, "完成时间") == (value, "")


# (typed 指标值, printed 指标值, printed 计量单位) in the 2023 layout
SPLITS = [
    ("≤420元/亩", "≤420", "元/亩"),
    ("≥3万元/公里", "≥3", "万元/公里"),
    ("≥2次/月", "≥2", "次/月"),
    ("1200元/人·月", "1200", "元/人·月"),
    ("1800人次", "1800", "人次"),
    ("≥5万吨", "≥5", "万吨"),
    ("较上年下降3%", "较上年下降3", "%"),
    ("比上年提高2个百分点", "比上年提高2", "个百分点"),
    ("≥95%", "≥95", "%"),
    ("不少于十二次", "不少于十二", "次"),
    ("１００％", "１００", "％"),
    ("10次以上", "10次以上", "次"),
    ("12个月内", "12个月内", "个月"),
    ("≥ 95 %", "≥ 95 %", "%"),
    ("约10次", "约10", "次"),
    ("良好", "良好", ""),
    ("90%-95%", "90%-95%", ""),
    ("按计划推进项目建设，确保资金安全。", "按计划推进项目建设，确保资金安全。", ""),
]


@pytest.mark.parametrize(("value", "printed", "unit"), SPLITS)
def test_2023_split_keeps_the_typed_text(value: str, printed: str, unit: str) -> None:
    reading = read_indicator("考核指标", value)
    assert split_for_2023(reading, value, "考核指标") == (printed, unit)
    assert join_2023("考核指标", printed, unit) == value


@pytest.mark.parametrize(
    ("name", "value", "unit", "joined"),
    [
        ("培训人数（人）", "50", "人", "50"),  # the unit was the 三级指标's, not typed
        ("培训人数（人）", "≥50人", "人", "≥50人"),
        ("亩均补助（元/亩）", "≤420", "元/亩", "≤420"),
        ("考核指标", "10以上", "次", "10次以上"),  # hand-made: unit after the number
        ("考核指标", "100", "%", "100%"),
        ("考核指标", "2026年11月底前", "", "2026年11月底前"),
        ("考核指标", "/", "/", "/"),
    ],
)
def test_join_2023(name: str, value: str, unit: str, joined: str) -> None:
    assert join_2023(name, value, unit) == joined


_TYPED_SYMBOLS = ["", "≥", "≤", "＞", "＜", "不低于", "不超过", "不少于", "至少", "控制在"]
_PER = ["", "/亩", "/户", "/人", "/月", "/人·月", "/公里", "/年"]


@given(
    st.sampled_from(_TYPED_SYMBOLS),
    st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False),
    st.sampled_from(UNITS),
    st.sampled_from(_PER),
)
def test_typed_quantities_survive_the_2023_columns(
    symbol: str, number: Decimal, unit: str, per: str
) -> None:
    value = f"{symbol}{format_decimal(number)}{unit}{per}"
    reading = read_indicator("考核指标", value)
    assert reading.nature is Nature.QUANTITATIVE
    assert reading.unit == unit + per
    printed, printed_unit = split_for_2023(reading, value, "考核指标")
    assert join_2023("考核指标", printed, printed_unit) == value
    assert printed + printed_unit == value


@given(st.text(max_size=30))
def test_split_and_join_never_lose_text(value: str) -> None:
    reading = read_indicator("考核指标", value)
    printed, unit = split_for_2023(reading, value, "考核指标")
    if reading.nature is not Nature.NOT_APPLICABLE and value.strip():
        assert join_2023("考核指标", printed, unit) == value.strip()


@pytest.mark.parametrize(
    ("name", "value", "unit"),
    [("亩均补助（元/亩）", "≤420", "元/亩"), ("垃圾清运量（万吨）", "≥5", "万吨"),
     ("走访频次(次/月)", "2", "次/月")],
)
def test_a_rate_or_large_unit_named_in_brackets(name: str, value: str, unit: str) -> None:
    reading = read_indicator(name, value)
    assert (reading.unit, reading.sure) == (unit, True)
    assert split_for_2023(reading, value, name) == (value, unit)
