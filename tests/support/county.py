"""A county department of our own (not the seed) with 指标值 of every shape departments type:
calendar deadlines, durations, ranges, rates and compound units, large units, changes against
last year, percentages, grades and long sentences; its table A and one table C as stored forms,
in either layout."""

from __future__ import annotations

from decimal import Decimal

from dialogs.definition import IndicatorColumn
from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.loader import get_layout
from dialogs.parsing.indicator import read_indicator
from dialogs.state import FormState, GroupRow, IndicatorRow
from dialogs.steps import StepKind, done_key
from dialogs.values import Period, YearMonth

DEPARTMENT = "青禾县农业农村局"
YEAR = 2026

# (二级 key, 三级指标, 指标值 as typed)
TABLE_A_ROWS = [
    ("quantity", "高标准农田建设面积", "≥1.2万亩"),
    ("quantity", "入户技术指导频次", "≥2次/月"),
    ("quantity", "培训农民人次", "1800人次"),
    ("quantity", "秸秆综合利用量", "≥5万吨"),
    ("quality", "工程验收合格率", "≥95%"),
    ("quality", "化肥施用强度", "50公斤/亩"),
    ("quality", "农产品抽检合格率", "98%以上"),
    ("timeliness", "项目完成时间", "2026年11月底前"),
    ("timeliness", "资金拨付时间", "11月底前"),
    ("timeliness", "招标完成时间", "2026年6月30日前"),
    ("timeliness", "中期评估时间", "第三季度末前"),
    ("timeliness", "设备安装周期", "12个月内"),
    ("cost", "亩均建设成本", "≤420元/亩"),
    ("cost", "户均改厕补助", "≤800元/户"),
    ("cost", "道路养护单位成本", "≥3万元/公里"),
    ("economic", "村集体经济收入", "同比增长5%"),
    ("economic", "带动农户增收", "3-5万元"),
    ("social", "群众知晓率", "比上年提高2个百分点"),
    ("social", "服务质量评价", "良好"),
    ("ecological", "单位产值能耗", "较上年下降3%"),
    ("sustainable", "长效管护机制", (
        "建立县、乡、村三级管护责任体系，明确管护主体、管护责任和管护经费，"
        "确保工程长期发挥效益，并纳入年度乡村振兴考核。"
    )),
    ("satisfaction", "受益农户满意度", "90%-95%"),
]
DIRECTION_ROWS = [
    ("quantity", "新建冷链仓储", "不少于十二座"),
    ("quantity", "补贴发放对象", "1200元/人·月"),
    ("quality", "仓储设施完好率", "１００％"),
    ("timeliness", "建设完成时间", "2026年第二季度末前完成"),
    ("cost", "单库建设成本", "不超过15元/立方米"),
    ("economic", "冷链损耗率", "较2025年下降10%以上"),
    ("social", "带动就业", "≥ 30 人"),
    ("ecological", "生态效益", "/"),
    ("sustainable", "设施使用年限", "10年以上"),
    ("satisfaction", "合作社满意度", "≥90%"),
]


def indicator_rows(layout_key: str, typed: list[tuple[str, str, str]]) -> tuple[IndicatorRow, ...]:
    indicators = get_layout(layout_key).table_a.indicators
    asked = tuple(spec.column.value for spec in indicators.asked_columns())
    weighted = indicators.has(IndicatorColumn.WEIGHT)
    applicable = [entry for entry in typed if entry[2] != "/"]
    share = Decimal(100) / len(applicable)
    rows: list[IndicatorRow] = []
    for index, (key, name, value) in enumerate(typed):
        if value == "/":
            rows.append(IndicatorRow.not_applicable_row(key))
            continue
        weight = None
        if weighted:  # whole numbers summing to 100
            weight = Decimal(int(share)) + (100 - int(share) * len(applicable) if index == 0 else 0)
        rows.append(
            IndicatorRow(
                level2=key,
                name=name,
                value=value,
                reading=read_indicator(name, value),
                weight=weight,
                explanation=f"考核{name}" if indicators.has(IndicatorColumn.EXPLANATION) else None,
                scoring="未达目标酌情扣分" if indicators.has(IndicatorColumn.SCORING) else None,
                visited=asked,
            )
        )
    return tuple(rows)


def done_values(layout_key: str) -> dict[str, str]:
    indicators = get_layout(layout_key).table_a.indicators
    return {done_key(StepKind.INDICATOR_MORE, l2.key): "1" for _, l2 in indicators.level2s()}


def county_filing(layout_key: str) -> DepartmentFiling:
    table_a = FormState(
        values={
            "total": Decimal("1520.35"),
            "general_budget": Decimal("1500"),
            "government_fund": Decimal("20.35"),
            "other_funds": None,
            "basic_expense": Decimal("1120.35"),
            "project_expense": Decimal("400"),
            "duties": "负责全县农业农村发展规划、农田建设和农产品质量安全监管。",
            done_key(StepKind.GROUP_MORE, "key_tasks"): "1",
            **done_values(layout_key),
        },
        groups={"key_tasks": (GroupRow((("item", "高标准农田建设"), ("unit", "农田建设股"),
                                        ("goal", "2026年11月底前完成1.2万亩。"))),)},
        indicators=indicator_rows(layout_key, TABLE_A_ROWS),
        cursor="review",
    )
    direction = FormState(
        values={
            "direction": "冷链物流设施建设",
            "special_fund": "农业产业发展专项",
            "amount": Decimal("400"),
            "period": Period(YearMonth(YEAR, 1), YearMonth(YEAR, 12)),
            "period_goal": "建成覆盖全县的冷链仓储网络。",
            "annual_goal": "新建冷链仓储不少于十二座。",
            **done_values(layout_key),
        },
        indicators=indicator_rows(layout_key, DIRECTION_ROWS),
        cursor="review",
    )
    if layout_key == "2023":  # the 2023 table A also asks 年度总体绩效目标
        goal = "完成高标准农田建设1.2万亩，农民人均可支配收入同比增长5%。"
        table_a = table_a.evolve(values={**table_a.values, "overall_goal": goal})
    return DepartmentFiling(
        department=DEPARTMENT,
        year=YEAR,
        layout=get_layout(layout_key),
        table_a=FiledForm(1, table_a),
        directions=(FiledForm(2, direction),),
    )
