"""A department of our own making for print tests (not the seed): long names, 6-decimal amounts,
dates, ranges and compound units, long texts, in either layout."""

from __future__ import annotations

from decimal import Decimal

from dialogs.definition import FieldKind, FormDefinition, IndicatorColumn, Layout
from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.loader import get_layout
from dialogs.parsing.indicator import read_indicator
from dialogs.state import FormState, FormStatus, GroupRow, IndicatorRow
from dialogs.steps import StepKind, done_key
from dialogs.values import Period, YearMonth

DEPARTMENT = "湖南省长沙市岳麓区农业农村局（区乡村振兴局）下属农业综合行政执法大队"

# (三级指标, 指标值) per 二级 position; long names, dates, ranges, compound units, grades.
INDICATORS: tuple[tuple[tuple[str, str], ...], ...] = (
    (
        ("高标准农田建设面积", "≥12000.5亩"),
        ("农业综合行政执法检查覆盖行政村及新型农业经营主体数量", "≥326个"),
    ),
    (("耕地质量等级提升", "提升0.5个等级"), ("农产品质量安全抽检合格率", "≥98.5%")),
    (("高标准农田建设项目竣工验收时间", "2024年11月底前"), ("资金拨付时限", "12个月内")),
    (("每亩建设成本", "≤3000元/亩"), ("执法装备购置成本", "≤12.345678万元")),
    (("带动农户增收", "≥800元/户"),),
    (("受益农户数", "≥5000户"), ("农业生产条件改善情况", "明显改善")),
    (("秸秆综合利用率", "≥92%"),),
    (("长效管护机制建立", "建立健全"),),
    (("受益农户满意度", "≥90%"),),
)
LONG_TEXT = (
    "落实中央和省市关于实施乡村振兴战略的决策部署，统筹推进高标准农田建设、农产品质量安全监管和"
    "农业综合行政执法，保障粮食安全和重要农产品有效供给，促进农业高质高效、乡村宜居宜业、"
    "农民富裕富足。"
)
TASKS = (
    ("高标准农田建设", "农田建设管理科", "新建高标准农田1.2万亩，年底前全部完成竣工验收。"),
    ("农产品质量安全监管", "农产品质量安全监管科", "例行抽检不少于600批次，合格率98%以上。"),
    ("农业综合行政执法", "执法大队", "全年开展执法检查不少于300次，办结案件率100%。"),
)
DIRECTIONS = (
    ("高标准农田建设及农田水利基础设施维修养护", "农业发展专项资金", Decimal("123.456789")),
    ("农产品质量安全监测", "农业发展专项资金", Decimal("8.5")),
    ("农业综合行政执法装备购置", "执法能力建设专项", Decimal("12.345678")),
)


def _indicators(definition: FormDefinition, weighted: bool) -> tuple[IndicatorRow, ...]:
    level2s = [level2 for _, level2 in definition.indicators.level2s()]
    pairs = [
        (level2, entry)
        for level2, entries in zip(level2s, INDICATORS, strict=True)
        for entry in entries
    ]
    rows = []
    for index, (level2, (name, value)) in enumerate(pairs):
        weight = Decimal(100 - 6 * (len(pairs) - 1)) if index == 0 else Decimal(6)
        explanation = f"{name}的统计口径：以年度验收或统计数据为准。" if weighted else None
        scoring = "完成得满分，未完成按比例扣分。" if weighted else None
        rows.append(
            IndicatorRow(
                level2=level2.key,
                name=name,
                value=value,
                reading=read_indicator(name, value),
                remark="按季度统计" if index % 3 == 0 else None,
                explanation=explanation,
                scoring=scoring,
                weight=weight if weighted else None,
                visited=("name", "value"),
            )
        )
    return tuple(rows)


def _state(definition: FormDefinition, year: int, amounts: dict[str, Decimal]) -> FormState:
    values: dict[str, object] = {}
    groups: dict[str, tuple[GroupRow, ...]] = {}
    for field in definition.fields():
        if not field.asked:
            continue
        if field.kind is FieldKind.AMOUNT:
            if field.key in amounts:
                values[field.key] = amounts[field.key]
        elif field.kind is FieldKind.PERIOD:
            values[field.key] = Period(YearMonth(year, 1), YearMonth(year, 12))
        elif field.kind is FieldKind.GROUP:
            groups[field.key] = tuple(
                GroupRow(tuple(zip([c.key for c in field.columns], task, strict=True)))
                for task in TASKS
            )
            values[done_key(StepKind.GROUP_MORE, field.key)] = "1"
        elif field.kind is FieldKind.LONG_TEXT:
            values[field.key] = LONG_TEXT
        elif field.kind is not FieldKind.INDICATORS:
            values[field.key] = field.label
    weighted = definition.indicators.has(IndicatorColumn.WEIGHT)
    return FormState(
        values=values,  # type: ignore[arg-type]
        groups=groups,
        indicators=_indicators(definition, weighted),
        cursor="review",
    )


def varied_filing(layout_key: str, year: int, department: str = DEPARTMENT) -> DepartmentFiling:
    """Table A and three C tables of one department, every amount with up to 6 decimals."""
    layout: Layout = get_layout(layout_key)
    project = sum((amount for _, _, amount in DIRECTIONS), Decimal(0))
    basic = Decimal("1234.567891")
    amounts = {
        "total": basic + project,
        "general_budget": basic + project - Decimal("100.000001"),
        "government_fund": Decimal("100.000001"),
        "basic_expense": basic,
        "project_expense": project,
    }
    table_a = FiledForm(
        form_id=1, state=_state(layout.table_a, year, amounts), status=FormStatus.SUBMITTED
    )
    directions = []
    for number, (name, fund, amount) in enumerate(DIRECTIONS, start=2):
        state = _state(layout.table_c, year, {"amount": amount})
        state.values["direction"] = name
        state.values["special_fund"] = fund
        directions.append(FiledForm(form_id=number, state=state))
    return DepartmentFiling(department, year, layout, table_a, tuple(directions))
