"""表B 专项资金预算绩效目标汇总表, computed from the C tables (never typed in).

合计 first; then each 专项 numbered 一、二… with its summed amount; under each its directions
numbered 1, 2… with amount and both goals. Amounts are exact Decimal sums (dialogs.filing).
"""

from __future__ import annotations

from decimal import Decimal

from dialogs.filing import DepartmentFiling, compute_summary
from exports.blocks import AMOUNT_UNIT, TITLE_HEIGHT
from exports.grid import FIT, Grid, GridBuilder

# 序号 · 支出方向（子项） · 金额 · 实施期绩效目标 · 年度绩效目标
WIDTHS = (7.0, 20.0, 11.0, 30.0, 30.0)


def table_b_grid(filing: DepartmentFiling, name: str) -> Grid:
    summary_layout = filing.layout.summary
    summary = compute_summary(filing.layout, filing.directions)
    builder = GridBuilder(name=name, column_widths=WIDTHS)
    builder.line(summary_layout.title.format(year=filing.year), "title", height=TITLE_HEIGHT)
    row = builder.row
    header = summary_layout.header.format(department=filing.department)
    builder.put(row, 1, header, "header_left", cols=4)
    builder.put(row, 5, AMOUNT_UNIT, "header_right")
    row += 1
    for col, label in enumerate(summary_layout.columns, start=1):
        builder.put(row, col, label, "heading")
    head_last = row
    row += 1
    builder.put(row, 1, None, "center")
    builder.put(row, 2, summary_layout.total_label, "center")
    builder.amount(row, 3, summary.total)
    builder.put(row, 4, None, "text")
    builder.put(row, 5, None, "text")
    row += 1
    for fund in summary.funds:
        builder.put(row, 1, fund.label, "center")
        builder.put(row, 2, fund.name or None, FIT)
        builder.amount(row, 3, fund.amount)
        builder.put(row, 4, None, "text")
        builder.put(row, 5, None, "text")
        row += 1
        for line in fund.directions:
            builder.amount(row, 1, Decimal(line.number))
            builder.put(row, 2, line.name or None, FIT)
            builder.amount(row, 3, line.amount)
            builder.put(row, 4, line.period_goal or None, "text")
            builder.put(row, 5, line.annual_goal or None, "text")
            row += 1
    builder.row = row
    return builder.build(print_title_rows=(1, head_last))
