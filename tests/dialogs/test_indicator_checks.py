"""The indicator rules of forms.md, and every indicator row of the seed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.catalogue import Code, Problem, Severity
from dialogs.checks.indicators import (
    DirectionIndicators,
    QualityFigure,
    check_cell,
    check_department,
    check_row,
    check_table,
    is_placeholder,
    mentions_time,
    parse_weight,
    quality_figure,
)
from dialogs.definition import IndicatorLayout, Level1, Level2
from dialogs.parsing.errors import ParseError
from dialogs.parsing.indicator import read_indicator
from dialogs.state import IndicatorRow
from dialogs.values import Comparator, Nature
from tests.support.layouts import LEVEL2_LABELS_2021, build_2021_layout, build_2023_layout

YEAR = 2021
LAYOUT = build_2021_layout()


def codes(problems: Sequence[Problem]) -> list[Code]:
    return [problem.code for problem in problems]


def level(key: str) -> tuple[Level1, Level2]:
    return LAYOUT.level1_of(key), LAYOUT.level2(key)


def row(key: str, name: str, value: str, weight: str | None = None) -> IndicatorRow:
    reading = read_indicator(name, value)
    if reading.nature is Nature.NOT_APPLICABLE:
        return IndicatorRow.not_applicable_row(key)
    return IndicatorRow(
        level2=key,
        name=name,
        value=value,
        reading=reading,
        weight=Decimal(weight) if weight is not None else None,
    )


def row_problems(key: str, name: str, value: str, bound: str | None = "6") -> list[Problem]:
    level1, level2 = level(key)
    amount = Decimal(bound) if bound is not None else None
    one = row(key, name, value)
    return check_row(level1, level2, one, year=YEAR, amount_bound=amount, amount_scope="项目金额")


# --- check_cell ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "   ", "-", "--", "_", "*", "***", "/", "／", "\\", "无", "暂无", "无无", "—", "——", "…",
     "...", "。", "待定", "N/A", "- / -"],
)
@pytest.mark.parametrize("column", ["name", "value"])
def test_cell_placeholder_is_empty(text: str, column: str) -> None:
    _, level2 = level("social")
    problems = check_cell(level2, column, text, year=YEAR)
    assert codes(problems) == [Code.INDICATOR_EMPTY]
    assert problems[0].is_error
    assert problems[0].params["field"] == {"name": "三级指标", "value": "指标值"}[column]
    assert problems[0].params["level2"] == "社会效益"
    assert problems[0].params["example"] == ("群众知晓率" if column == "name" else "≥90%")


@pytest.mark.parametrize(
    "text", ["95%", "无直接经济效益", "0", "无障碍设施建设", "/ 10次", "开展宣讲", "良好"]
)
def test_cell_with_content_passes(text: str) -> None:
    _, level2 = level("social")
    assert check_cell(level2, "value", text) == []
    assert not is_placeholder(text)


def test_cell_example_fills_the_year() -> None:
    _, level2 = level("timeliness")
    assert check_cell(level2, "value", "", year=2024)[0].params["example"] == "2024年12月底前完成"
    assert check_cell(level2, "value", "")[0].params["example"] == "12月底前完成"


# --- check_row ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "name", "value", "expected"),
    [
        # unit missing (error); a percentage is a unit
        ("quantity", "开展宣讲次数", "12", [Code.INDICATOR_UNIT_MISSING]),
        ("quantity", "开展宣讲次数", "12次", []),
        ("quality", "验收合格率", "95%", []),
        # cost above the direction's amount (error)
        ("cost", "项目支出成本控制", "不超过8万元", [Code.INDICATOR_COST_ABOVE_AMOUNT]),
        ("cost", "项目支出成本控制", "80000元以下", [Code.INDICATOR_COST_ABOVE_AMOUNT]),
        ("cost", "项目支出成本控制", "≤6万元", []),
        ("cost", "项目支出成本控制", "60000元以下", []),
        ("cost", "项目支出成本控制", "<6.000001万元", [Code.INDICATOR_COST_ABOVE_AMOUNT]),
        ("cost", "不超过预算", "100%", []),
        ("quantity", "带动投资", "≤8万元", []),  # only 产出成本 rows are bounded
        # vague (warning) and not measurable (warning), never both
        ("cost", "不超过预算", "按预算经费实施。", [Code.INDICATOR_VAGUE]),
        ("quality", "工作质量", "高质量完成", [Code.INDICATOR_VAGUE]),
        ("social", "社会影响", "良好", [Code.INDICATOR_VAGUE]),
        ("social", "社会影响", "有效", [Code.INDICATOR_VAGUE]),
        ("social", "社会影响", "良", [Code.INDICATOR_NOT_MEASURABLE]),
        ("quantity", "社会公益宣传", "开展社会公益宣传。", [Code.INDICATOR_NOT_MEASURABLE]),
        # timeliness without a date, month or duration (warning)
        ("timeliness", "全年", "100%", [Code.INDICATOR_TIMELINESS_NO_DATE]),
        ("timeliness", "工作及时完成率", "100%", [Code.INDICATOR_TIMELINESS_NO_DATE]),
        ("timeliness", "完成时间", "及时",
         [Code.INDICATOR_VAGUE, Code.INDICATOR_TIMELINESS_NO_DATE]),
        ("timeliness", "完成时间", "2021年12月底前", []),
        ("timeliness", "完成时间", "2021年12月底前完成", []),
        ("timeliness", "项目周期", "12个月内", []),
        ("timeliness", "2021年12月底前完成", "100%", []),
        ("timeliness", "每季度末前报送", "100%", []),
        ("timeliness", "完成时限", "30天", []),
        # satisfaction without a percentage (warning)
        ("satisfaction", "服务对象满意度", "≥90%", []),
        ("satisfaction", "服务对象满意度", "95%", []),
        ("satisfaction", "服务对象满意度", "满意", [Code.INDICATOR_VAGUE,
                                              Code.INDICATOR_SATISFACTION_NO_PERCENT]),
        ("satisfaction", "服务对象满意度", "90分", [Code.INDICATOR_SATISFACTION_NO_PERCENT]),
        # not applicable rows produce nothing
        ("economic", "无直接经济效益", "/", []),
        ("ecological", "/", "/", []),
    ],
)
def test_row_rules(key: str, name: str, value: str, expected: list[Code]) -> None:
    assert codes(row_problems(key, name, value)) == expected


def test_row_problem_parameters() -> None:
    [cost] = row_problems("cost", "项目支出成本控制", "不超过8万元")
    assert cost.params == {
        "level2": "产出成本", "bound": "8", "scope": "项目金额", "amount": "6", "example": "≤6万元"
    }
    assert cost.severity is Severity.ERROR
    [timeliness] = row_problems("timeliness", "全年", "100%")
    assert timeliness.params["example"] == "2021年12月底前完成"
    assert timeliness.severity is Severity.WARNING
    [unit] = row_problems("quantity", "开展宣讲次数", "12")
    assert unit.params["example"] == "≥10次"
    assert "12" in unit.message


def test_row_without_bound_skips_cost() -> None:
    assert row_problems("cost", "项目支出成本控制", "不超过8万元", bound=None) == []


def test_row_reads_when_reading_missing() -> None:
    level1, level2 = level("satisfaction")
    bare = IndicatorRow(level2="satisfaction", name="服务对象满意度", value="良好")
    found = check_row(level1, level2, bare, year=YEAR, amount_bound=None, amount_scope="")
    assert codes(found) == [Code.INDICATOR_VAGUE, Code.INDICATOR_SATISFACTION_NO_PERCENT]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2021年12月底前", True), ("12个月内", True), ("12月底", True), ("年底前完成", True),
     ("三个工作日内", True), ("上半年", True), ("全年", False), ("工作及时完成率", False),
     ("庆祝建党100周年", False), ("每天推送", False), ("100%", False)],
)
def test_mentions_time(text: str, expected: bool) -> None:
    assert mentions_time(text) is expected


# --- check_table --------------------------------------------------------------------------------


def full_table(weight: str | None = None) -> list[IndicatorRow]:
    return [
        row(level2.key, level2.example_name, level2.example_value.replace("{year}", "2021"), weight)
        for _, level2 in LAYOUT.level2s()
    ]


def test_full_table_passes() -> None:
    rows = full_table()
    assert check_table(LAYOUT, rows, weighted=False, year=YEAR) == []
    for level1, level2 in LAYOUT.level2s():
        for one in rows:
            if one.level2 == level2.key:
                found = check_row(level1, level2, one, year=YEAR, amount_bound=Decimal(6),
                                  amount_scope="项目金额")
                assert found == [], (level2.label, found)


def test_no_output_and_no_benefit() -> None:
    output_keys = {child.key for child in LAYOUT.levels[0].children}
    only_benefit = [r for r in full_table() if r.level2 not in output_keys]
    found = check_table(LAYOUT, only_benefit, weighted=False, year=YEAR)
    assert Code.INDICATOR_NO_OUTPUT in codes(found)
    assert Code.INDICATOR_NO_BENEFIT not in codes(found)
    no_output = next(p for p in found if p.code is Code.INDICATOR_NO_OUTPUT)
    assert no_output.is_error
    assert "开展宣讲次数" in no_output.params["example"]
    # 不适用 rows do not count as applicable
    all_na = [IndicatorRow.not_applicable_row(key) for key in LEVEL2_LABELS_2021.values()]
    found = check_table(LAYOUT, all_na, weighted=False)
    assert codes(found) == [Code.INDICATOR_NO_OUTPUT, Code.INDICATOR_NO_BENEFIT]


def test_level2_empty() -> None:
    rows = [r for r in full_table() if r.level2 != "ecological"]
    found = check_table(LAYOUT, rows, weighted=False)
    assert codes(found) == [Code.INDICATOR_LEVEL2_EMPTY]
    assert found[0].is_error
    assert found[0].params == {"level2": "「生态效益」"}
    assert found[0].fix_step == "i:ecological:0:name"
    rows.append(IndicatorRow.not_applicable_row("ecological"))
    assert check_table(LAYOUT, rows, weighted=False) == []


def test_repeated_name() -> None:
    rows = [*full_table(), row("social", "  开展宣讲次数。", "≥12次")]
    found = check_table(LAYOUT, rows, weighted=False)
    assert codes(found) == [Code.INDICATOR_REPEATED]
    assert found[0].params == {"text": "开展宣讲次数", "level2": "产出数量、社会效益"}
    assert not found[0].is_error
    # 不适用 rows repeat `/` freely
    rows = [*full_table(), IndicatorRow.not_applicable_row("ecological")]
    rows += [IndicatorRow.not_applicable_row("economic")]
    assert check_table(LAYOUT, rows, weighted=False) == []


def test_unconfirmed() -> None:
    guessed = row("quantity", "开展宣讲10次以上", "12次")
    assert not guessed.reading or not guessed.reading.sure
    rows = [*full_table(), guessed]
    found = check_table(LAYOUT, rows, weighted=False)
    assert codes(found) == [Code.INDICATOR_UNCONFIRMED]
    assert found[0].params == {"level2": "产出数量", "text": "12次", "reading": "＝ 12 次"}
    assert guessed.reading is not None
    confirmed = replace(guessed, reading=replace(guessed.reading, confirmed=True))
    assert check_table(LAYOUT, [*full_table(), confirmed], weighted=False) == []


def test_weights() -> None:
    layout: IndicatorLayout = build_2023_layout()
    rows = [
        row(level2.key, level2.example_name, level2.example_value.replace("{year}", "2021"))
        for _, level2 in layout.level2s()
    ]
    weights = ["20", "10", "10", "10", "10", "10", "10", "10", "10"]
    weighted = [replace(r, weight=Decimal(w)) for r, w in zip(rows, weights, strict=True)]
    assert check_table(layout, weighted, weighted=True) == []
    short = [*weighted[:-1], replace(weighted[-1], weight=Decimal("9.5"))]
    found = check_table(layout, short, weighted=True)
    assert codes(found) == [Code.WEIGHT_SUM]
    assert found[0].params == {"sum": "99.5"} and found[0].is_error
    assert check_table(layout, short, weighted=False) == []
    # weights of 不适用 rows do not count
    na = replace(IndicatorRow.not_applicable_row("ecological"), weight=Decimal(5))
    assert codes(check_table(layout, [*weighted, na], weighted=True)) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10", "10"), ("0", "0"), ("100", "100"), ("12.5", "12.5"), ("１５", "15"), ("20%", "20"),
     (" 30 ", "30"), ("10.50", "10.5")],
)
def test_parse_weight(text: str, expected: str) -> None:
    assert str(parse_weight(text)) == expected


@pytest.mark.parametrize("text", ["", "abc", "-5", "101", "100.01", "1.234", "十", "1e2", "NaN"])
def test_parse_weight_refuses(text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_weight(text)
    assert caught.value.code is Code.WEIGHT_FORMAT
    assert "text" in caught.value.params
    assert caught.value.to_problem(example="10").code is Code.WEIGHT_FORMAT


@given(st.text(max_size=12))
def test_parse_weight_only_parse_error(text: str) -> None:
    try:
        weight = parse_weight(text)
    except ParseError as error:
        assert error.code is Code.WEIGHT_FORMAT
    else:
        assert 0 <= weight <= 100


def test_quality_figure() -> None:
    rows = [
        row("quantity", "开展宣讲", "≥10次"),
        row("quality", "合格率", "100%"),
        row("social", "社会影响", "良好"),
        row("quantity", "培训", "12"),
        IndicatorRow.not_applicable_row("ecological"),
        IndicatorRow(level2="economic"),
    ]
    assert quality_figure(rows) == QualityFigure(
        total=5, measurable=2, qualitative=1, not_applicable=1, warnings=0
    )
    assert quality_figure(rows, warnings=3).warnings == 3


# --- check_department ---------------------------------------------------------------------------


def test_identical_directions() -> None:
    a = DirectionIndicators("甲", tuple(full_table()))
    b = DirectionIndicators("乙", tuple(full_table()))
    c = DirectionIndicators("丙", tuple([*full_table(), row("social", "另一条", "≥3场")]))
    found = check_department([a, b, c])
    assert codes(found) == [Code.INDICATOR_DIRECTIONS_IDENTICAL]
    assert found[0].params == {"text": "乙", "other": "甲"}
    assert not found[0].is_error
    # order of rows does not matter; a different value does
    reordered = DirectionIndicators("丁", tuple(reversed(full_table())))
    assert codes(check_department([a, reordered])) == [Code.INDICATOR_DIRECTIONS_IDENTICAL]
    changed = [*full_table()[:-1], row("satisfaction", "服务对象满意度", "≥95%")]
    assert check_department([a, DirectionIndicators("戊", tuple(changed))]) == []
    assert check_department([DirectionIndicators("空", ()), DirectionIndicators("也空", ())]) == []


# --- the seed -----------------------------------------------------------------------------------

Q, QL, NA = Nature.QUANTITATIVE, Nature.QUALITATIVE, Nature.NOT_APPLICABLE
EQ, LE = Comparator.EQ, Comparator.LE
P100 = (Q, EQ, "100", "%")
P95 = (Q, EQ, "95", "%")
TEXT = (QL, None, None, None)
NONE = (NA, None, None, None)
Expected = tuple[Nature, Comparator | None, str | None, str | None]
SeedRow = tuple[str, str, str, Expected]

SEED: dict[str, tuple[str, list[SeedRow]]] = {
    "部门整体": ("267.5915", [
        ("产出数量",
         "开展党史学习研讨，围绕习近平总书记在庆祝中国共产党成立100周年大会上的重要讲话精神"
         "开展宣讲，围绕百年党史开展宣讲，举办“我心永向党 建设新石峰”党史知识竞赛，"
         "举办庆祝中国共产党成立100周年书法美术作品创作与展示。",
         "开展区委理论中心组学习12次，开展党史学习研讨4次，开展宣讲10次以上，"
         "开展书法美术作品创作与展示1次。石峰媒体中心每天通过石峰发布、抖音、微博等推送主题报道。",
         TEXT),
        ("产出质量", "预算资金使用率", "100%", P100),
        ("产出时效", "工作及时完成率", "100%", P100),
        ("产出成本", "不超过预算", "按预算经费实施。", TEXT),
        ("经济效益", "无直接经济效益", "无直接经济效益", NONE),
        ("社会效益",
         "宣传贯彻习近平总书记系列重要讲话精神。加强全区领导干部思想政治建设。宣传区委、区政府在经济社会"
         "发展、民生实事、文明创建等方面的工作和成效。", "95%", P95),
        ("生态效益", "建设新时代全域化更高水平文明城市。", "95%", P95),
        ("可持续影响",
         "形成学习模范、关心模范、争做模范的良好氛围。促进文化事业和文化产业发展。", "95%", P95),
        ("社会公众及服务对象满意度", "提高社会公众对宣传工作的认可度和满意度", "95%", P95),
    ]),
    "文明建设和文明创建": ("6", [
        ("产出数量", "推动全区精神文明建设和文明创建工作水平。", "开展社会公益宣传。", TEXT),
        ("产出质量", "预算资金使用率", "100%", P100),
        ("产出时效", "工作及时完成率", "100%", P100),
        ("产出成本", "不超过预算", "6万元以下", (Q, LE, "6", "万元")),
        ("经济效益", "无直接经济效益", "无直接经济效益", NONE),
        ("社会效益", "提高全域化更高水平文明城市建设水平。", "良好", TEXT),
        ("生态效益", "/", "/", NONE),
        ("可持续影响", "加强社会主义核心观建设", "良好", TEXT),
        ("社会公众及服务对象满意度", "提高社会对宣传工作的认可度和满意度", "95%", P95),
    ]),
    "理论学习": ("6", [
        ("产出数量", "完成中心组学习任务12次。", "100%", P100),
        ("产出质量", "学习习近平新时代中国特色社会主义思想、党史等", "100%", P100),
        ("产出时效", "全年", "100%", P100),
        ("产出成本", "不超过预算", "100%", P100),
        ("经济效益", "无直接经济效益", "/", NONE),
        ("社会效益", "提高全社会学习氛围", "95%", P95),
        ("生态效益", "/", "/", NONE),
        ("可持续影响", "提高全民素质", "95%", P95),
        ("社会公众及服务对象满意度", "提高对宣传工作的认可度和满意度", "95%", P95),
    ]),
    "意识形态": ("3", [
        ("产出数量", "开展宣讲10次以上，开展意识形态工作督查一次。", "100%", P100),
        ("产出质量", "高质量完成", "100%", P100),
        ("产出时效", "全年", "100%", P100),
        ("产出成本", "不超过预算", "100%", P100),
        ("经济效益", "无直接经济效益", "/", NONE),
        ("社会效益", "形成社会良好舆论氛围", "95%", P95),
        ("生态效益", "/", "/", NONE),
        ("可持续影响", "提高全民素质", "95%", P95),
        ("社会公众及服务对象满意度", "提高对宣传工作的认可度和满意度", "95%", P95),
    ]),
}
_MEDIA: list[SeedRow] = [
    ("产出数量",
     "做好中央、省、市、区重要会议精神和重大活动宣传报道，每天通过石峰发布、抖音、微博等推送主题报道。",
     "100%", P100),
    ("产出质量", "深入宣传全区加快建设“一极三区”等方面的进展成效", "100%", P100),
    ("产出时效", "全年", "100%", P100),
    ("产出成本", "按预算金额", "100%", P100),
    ("经济效益", "无直接经济效益", "/", NONE),
    ("社会效益", "宣传我区加快建设“一极三区”等方面的进展成效", "", TEXT),  # empty cell (defect 3)
    ("生态效益", "/", "/", NONE),
    ("可持续影响", "了解全区工作进展成效", "", TEXT),  # empty cell (defect 3)
    ("社会公众及服务对象满意度", "提高对宣传工作的认可度和满意度", "95%", P95),
]
SEED["融媒体运营经费"] = ("60", _MEDIA)
SEED["宣传经费"] = ("15", list(_MEDIA))
SUPPLIED = "≥90%"  # what the test types where the seed's 指标值 is empty, once refused


def _seed_cases() -> list[tuple[str, str, str, str, Expected]]:
    return [(table, *seed_row) for table, (_, rows) in SEED.items() for seed_row in rows]


def test_seed_has_every_row() -> None:
    assert [len(rows) for _, rows in SEED.values()] == [9] * 6


@pytest.mark.parametrize(("table", "level2", "name", "value", "expected"), _seed_cases())
def test_seed_reading(table: str, level2: str, name: str, value: str, expected: Expected) -> None:
    nature, comparator, number, unit = expected
    reading = read_indicator(name, value)
    assert reading.nature is nature
    if nature is Nature.NOT_APPLICABLE:
        return
    if not value:
        assert not reading.sure  # an empty cell is never a sure reading
        return
    assert reading.sure, (table, name, value)
    assert reading.comparator is comparator
    assert reading.number == (Decimal(number) if number is not None else None)
    assert reading.unit == unit


def enter_seed_table(
    rows: list[SeedRow], amount: Decimal
) -> tuple[list[IndicatorRow], list[Problem]]:
    """Enter one seed table as the engine would; returns its rows and every problem found."""
    entered: list[IndicatorRow] = []
    problems: list[Problem] = []
    for label, name, value, _ in rows:
        key = LEVEL2_LABELS_2021[label]
        level1, level2 = level(key)
        if read_indicator(name, value).nature is Nature.NOT_APPLICABLE:
            entered.append(IndicatorRow.not_applicable_row(key))  # the 本项不适用 choice
            continue
        problems += check_cell(level2, "name", name, year=YEAR)
        empty = check_cell(level2, "value", value, year=YEAR)
        if empty:
            assert codes(empty) == [Code.INDICATOR_EMPTY]
            problems += empty
            value = SUPPLIED
        one = row(key, name, value)
        entered.append(one)
        problems += check_row(level1, level2, one, year=YEAR, amount_bound=amount,
                              amount_scope="项目金额")
    problems += check_table(LAYOUT, entered, weighted=False, year=YEAR)
    return entered, problems


@pytest.mark.parametrize("table", list(SEED))
def test_seed_passes_with_warnings_only(table: str) -> None:
    amount, rows = SEED[table]
    _, problems = enter_seed_table(rows, Decimal(amount))
    errors = [p for p in problems if p.is_error]
    empty_cells = sum(1 for _, _, value, _ in rows if not value)
    assert codes(errors) == [Code.INDICATOR_EMPTY] * empty_cells
    for problem in problems:
        assert problem.message  # every template is filled
    warnings = codes([p for p in problems if not p.is_error])
    assert Code.INDICATOR_TIMELINESS_NO_DATE in warnings  # 工作及时完成率 / 全年 with 100%
    assert Code.INDICATOR_UNCONFIRMED not in warnings


def test_seed_specific_warnings() -> None:
    _, problems = enter_seed_table(SEED["部门整体"][1], Decimal("267.5915"))
    assert sorted(codes(problems)) == sorted(
        [Code.INDICATOR_NOT_MEASURABLE, Code.INDICATOR_TIMELINESS_NO_DATE, Code.INDICATOR_VAGUE]
    )
    _, problems = enter_seed_table(SEED["文明建设和文明创建"][1], Decimal(6))
    assert sorted(codes(problems)) == sorted(
        [Code.INDICATOR_NOT_MEASURABLE, Code.INDICATOR_TIMELINESS_NO_DATE, Code.INDICATOR_VAGUE,
         Code.INDICATOR_VAGUE]
    )


def test_seed_cost_bound_is_checked() -> None:
    rows = SEED["文明建设和文明创建"][1]
    _, problems = enter_seed_table(rows, Decimal(5))
    assert Code.INDICATOR_COST_ABOVE_AMOUNT in codes(problems)


def test_seed_identical_directions() -> None:
    directions = []
    for table, (amount, rows) in SEED.items():
        if table == "部门整体":
            continue
        entered, _ = enter_seed_table(rows, Decimal(amount))
        directions.append(DirectionIndicators(table, tuple(entered)))
    found = check_department(directions)
    assert codes(found) == [Code.INDICATOR_DIRECTIONS_IDENTICAL]
    assert found[0].params == {"text": "宣传经费", "other": "融媒体运营经费"}


# --- issue 11: rates, large units and changes against last year are measurable ------------------


@pytest.mark.parametrize("layout", [build_2021_layout(), build_2023_layout()], ids=["2021", "2023"])
@pytest.mark.parametrize(
    ("key", "name", "value"),
    [
        ("cost", "亩均补贴标准", "≤420元/亩"),
        ("cost", "户均改造成本", "≤800元/户"),
        ("cost", "道路养护单位成本", "≥3万元/公里"),
        ("cost", "人均生活补助", "1200元/人·月"),
        ("quantity", "入户走访频次", "≥2次/月"),
        ("quantity", "服务人次", "≥1800人次"),
        ("quantity", "垃圾清运量", "≥5万吨"),
        ("quantity", "高标准农田面积", "≥1.2万亩"),
        ("quality", "化肥施用量", "50公斤/亩"),
        ("economic", "村集体经济收入", "同比增长5%"),
        ("ecological", "单位能耗", "较上年下降3%"),
        ("social", "群众知晓率", "比上年提高2个百分点"),
        ("timeliness", "完成时间", "2026年11月底前"),
        ("timeliness", "完成时间", "第三季度末前"),
        ("timeliness", "审批时限", "12个月内"),
    ],
)
def test_rates_and_changes_raise_no_advice(
    layout: IndicatorLayout, key: str, name: str, value: str
) -> None:
    one = row(key, name, value)
    assert one.reading is not None and one.reading.sure and one.reading.measurable
    found = check_row(
        layout.level1_of(key), layout.level2(key), one, year=2026,
        amount_bound=Decimal(500), amount_scope="项目金额",
    )
    assert found == []


# --- issue 11: advice names the layout's own labels, from the definition files ------------------


def _advice_in(layout_key: str) -> list[Problem]:
    from dialogs.loader import get_layout

    layout = get_layout(layout_key).table_c.indicators
    found: list[Problem] = []
    for key, name, value in [
        ("timeliness", "完成进度", "全年"),
        ("cost", "项目成本", "≤80万元"),
        ("satisfaction", "服务对象满意度", "良好"),
        ("quality", "验收情况", "高质量完成"),
    ]:
        found += check_row(layout.level1_of(key), layout.level2(key), row(key, name, value),
                           year=2028, amount_bound=Decimal(50), amount_scope="项目金额")
    only_one_row = [row("timeliness", "完成时间", "2028年6月底前")]
    found += check_table(layout, only_one_row, weighted=False, year=2028)
    return found


@pytest.mark.parametrize(("layout_key", "other_key"), [("2023", "2021"), ("2021", "2023")])
def test_advice_uses_the_labels_of_its_layout(layout_key: str, other_key: str) -> None:
    from dialogs.loader import get_layout

    def labels(key: str) -> set[str]:
        levels = get_layout(key).table_c.indicators.levels
        return {l1.label for l1 in levels} | {l2.label for l1 in levels for l2 in l1.children}

    own, foreign = labels(layout_key), labels(other_key) - labels(layout_key)
    found = _advice_in(layout_key)
    assert {Code.INDICATOR_TIMELINESS_NO_DATE, Code.INDICATOR_COST_ABOVE_AMOUNT,
            Code.INDICATOR_SATISFACTION_NO_PERCENT, Code.INDICATOR_NO_BENEFIT,
            Code.INDICATOR_LEVEL2_EMPTY} <= set(codes(found))
    for problem in found:
        masked = problem.message  # an own label may contain a foreign one (经济效益指标)
        for label in sorted(own, key=len, reverse=True):
            masked = masked.replace(label, "■")
        assert not [label for label in foreign if label in masked], problem.message
    layout = get_layout(layout_key).table_c.indicators
    by_code = {problem.code: problem.message for problem in found}
    assert layout.level2("timeliness").label in by_code[Code.INDICATOR_TIMELINESS_NO_DATE]
    assert layout.level2("cost").label in by_code[Code.INDICATOR_COST_ABOVE_AMOUNT]
    assert layout.level2("satisfaction").label in by_code[Code.INDICATOR_SATISFACTION_NO_PERCENT]
    assert layout.level1_of("economic").label in by_code[Code.INDICATOR_NO_BENEFIT]
