"""Indicator layouts built in code for tests (the hierarchies of forms.md).

They mirror `dialogs/forms/<year>/layout.yaml` (same keys and roles) without needing the loader,
so rule tests do not depend on the definition files' wording.
"""

from __future__ import annotations

from dialogs.definition import (
    ColumnSpec,
    IndicatorColumn,
    IndicatorLayout,
    Level1,
    Level1Role,
    Level2,
    Level2Role,
)

# (key, 2021 label, 2023 label, role, example_name, example_value)
_OUTPUT = (
    ("quantity", "产出数量", "数量指标", Level2Role.QUANTITY, "开展宣讲次数", "≥10次"),
    ("quality", "产出质量", "质量指标", Level2Role.QUALITY, "活动验收合格率", "≥95%"),
    ("timeliness", "产出时效", "时效指标", Level2Role.TIMELINESS, "年度任务完成时间",
     "{year}年12月底前完成"),
    ("cost", "产出成本", "成本指标", Level2Role.COST, "项目支出成本控制", "≤6万元"),
)
_BENEFIT = (
    ("economic", "经济效益", "经济效益指标", Level2Role.ECONOMIC, "带动相关产业收入", "≥50万元"),
    ("social", "社会效益", "社会效益指标", Level2Role.SOCIAL, "群众知晓率", "≥90%"),
    ("ecological", "生态效益", "生态效益指标", Level2Role.ECOLOGICAL, "公益宣传覆盖社区数",
     "≥20个"),
    ("sustainable", "可持续影响", "可持续影响指标", Level2Role.SUSTAINABLE, "长效机制建立数",
     "≥1项"),
)
_SATISFACTION = (
    ("satisfaction", "社会公众及服务对象满意度", "服务对象满意度指标", Level2Role.SATISFACTION,
     "服务对象满意度", "≥90%"),
)

LEVEL2_LABELS_2021 = {row[1]: row[0] for row in (*_OUTPUT, *_BENEFIT, *_SATISFACTION)}


def _children(rows: tuple[tuple[str, str, str, Level2Role, str, str], ...], index: int) -> tuple[
    Level2, ...
]:
    return tuple(
        Level2(key=row[0], label=row[index], role=row[3], example_name=row[4], example_value=row[5])
        for row in rows
    )


def _column(column: IndicatorColumn, label: str, required: bool, example: str) -> ColumnSpec:
    return ColumnSpec(column, label, required, 200, "", example)


def build_2021_layout() -> IndicatorLayout:
    """产出指标: 产出数量 · 产出质量 · 产出时效 · 产出成本; 效益指标: 经济效益 · 社会效益 ·
    生态效益 · 可持续影响 · 社会公众及服务对象满意度. Columns 三级指标 · 指标值 · 备注."""
    return IndicatorLayout(
        levels=(
            Level1("output", "产出指标", Level1Role.OUTPUT, _children(_OUTPUT, 1)),
            Level1("benefit", "效益指标", Level1Role.BENEFIT,
                   _children((*_BENEFIT, *_SATISFACTION), 1)),
        ),
        columns=(
            _column(IndicatorColumn.NAME, "三级指标", True, "开展宣讲次数"),
            _column(IndicatorColumn.VALUE, "指标值", True, "≥10次"),
            _column(IndicatorColumn.REMARK, "备注", False, "按季度统计"),
        ),
        max_rows_per_level2=10,
    )


def build_2023_layout() -> IndicatorLayout:
    """The 2023 hierarchy (满意度指标 as a third 一级) with a 权重 column."""
    return IndicatorLayout(
        levels=(
            Level1("output", "产出指标", Level1Role.OUTPUT, _children(_OUTPUT, 2)),
            Level1("benefit", "效益指标", Level1Role.BENEFIT, _children(_BENEFIT, 2)),
            Level1("satisfaction", "满意度指标", Level1Role.SATISFACTION,
                   _children(_SATISFACTION, 2)),
        ),
        columns=(
            _column(IndicatorColumn.NAME, "三级指标", True, "开展宣讲次数"),
            _column(IndicatorColumn.VALUE_TYPE, "指标值类型", True, "定量"),
            _column(IndicatorColumn.VALUE, "指标值", True, "≥10次"),
            _column(IndicatorColumn.UNIT, "计量单位", True, "次"),
            _column(IndicatorColumn.WEIGHT, "权重", True, "10"),
            _column(IndicatorColumn.REMARK, "备注", False, "按季度统计"),
        ),
        max_rows_per_level2=10,
    )
