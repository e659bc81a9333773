"""The round's native chart on a worksheet, read back with openpyxl: chart objects, the cells
their series refer to, and the round workbook's first sheet."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart
from openpyxl.utils.cell import range_boundaries

from dialogs.checks.indicators import QualityFigure
from dialogs.state import FormStatus
from exports.consolidated import RoundHeader, consolidated_workbook
from exports.round_chart import (
    OVERDUE,
    QUALITY_HEADERS,
    STAGE_HEADERS,
    add_round_chart,
    chart_table,
)
from exports.round_picture import DepartmentStanding, Stage, filings_picture, round_picture
from tests.support.round_filings import department

PICTURE = round_picture(
    "2028年度填报",
    [
        DepartmentStanding("红旗社区", Stage.NOT_STARTED, QualityFigure(0, 0, 0, 0), True),
        DepartmentStanding("光明社区", Stage.IN_PROGRESS, QualityFigure(4, 1, 3, 0, 2), True),
        DepartmentStanding("向阳社区", Stage.IN_PROGRESS, QualityFigure(5, 4, 1, 0), False),
        DepartmentStanding("新村社区", Stage.APPROVED, QualityFigure(2, 2, 0, 0), False),
    ],
)


def _saved(workbook: Workbook) -> Any:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return load_workbook(io.BytesIO(buffer.getvalue()))


def _values(ws: Any, ref: str) -> list[Any]:
    """The cell values of a chart reference such as `'表'!$B$5:$B$9`."""
    sheet, cells = ref.rsplit("!", 1)
    assert sheet.strip("'") == ws.title
    min_col, min_row, max_col, max_row = range_boundaries(cells.replace("$", ""))
    return [
        ws.cell(row, col).value
        for row in range(min_row, max_row + 1)
        for col in range(min_col, max_col + 1)
    ]


def _colour(properties: Any) -> str:
    rgb = properties.solidFill.srgbClr  # a string, or an RGB object with its value
    return str(getattr(rgb, "val", rgb))


def _check_charts(ws: Any, picture: Any) -> None:
    charts = ws._charts  # openpyxl has no public reader of a sheet's charts
    assert len(charts) == (2 if picture.weakest else 1)
    assert all(isinstance(chart, BarChart) and chart.type == "bar" for chart in charts)
    stages = charts[0]
    assert stages.grouping == "stacked"
    on_time, overdue = stages.series
    labels = [c.stage.label for c in picture.stages]
    assert _values(ws, on_time.cat.strRef.f) == labels
    assert _values(ws, on_time.val.numRef.f) == [c.on_time for c in picture.stages]
    assert _values(ws, overdue.val.numRef.f) == [c.overdue for c in picture.stages]
    assert _values(ws, overdue.tx.strRef.f) == ["逾期"]
    assert _colour(overdue.graphicalProperties) == OVERDUE
    if not picture.weakest:
        return
    (quality,) = charts[1].series
    assert _values(ws, quality.cat.strRef.f) == [w.name for w in picture.weakest]
    assert _values(ws, quality.val.numRef.f) == [w.measurable_percent for w in picture.weakest]
    red = [point.idx for point in quality.dPt if _colour(point.graphicalProperties) == OVERDUE]
    assert red == [i for i, w in enumerate(picture.weakest) if w.overdue]


def test_chart_table_rows() -> None:
    rows = chart_table(PICTURE)
    assert rows[1] == list(STAGE_HEADERS)
    assert rows[2:7] == [
        ["未开始", 0, 1, 1],
        ["填报中", 1, 1, 2],
        ["已提交", 0, 0, 0],
        ["已退回", 0, 0, 0],
        ["已审核", 1, 0, 1],
    ]
    assert rows[8] == list(QUALITY_HEADERS)
    assert rows[9:] == [
        ["光明社区", 25, 4, 2, "逾期"],
        ["向阳社区", 80, 5, 0, None],
        ["新村社区", 100, 2, 0, None],
    ]


def test_chart_on_a_normal_sheet_below_its_rows() -> None:
    workbook = Workbook()
    ws = workbook.active
    ws.title = "说明"
    for row in range(1, 6):
        ws.cell(row, 1, f"第{row}行")
    last = add_round_chart(ws, PICTURE, after_row=5)
    assert last == 7 + len(chart_table(PICTURE)) - 1  # a blank row, then the table
    back = _saved(workbook)["说明"]
    assert back["A5"].value == "第5行" and back["A6"].value is None
    assert back["A8"].value == STAGE_HEADERS[0]
    _check_charts(back, PICTURE)


def test_chart_on_a_write_only_sheet() -> None:
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet("部门整体")
    ws.append(["部门名称"])
    ws.append(["红旗社区"])
    add_round_chart(ws, PICTURE, after_row=2, anchor=(2, 4))
    back = _saved(workbook)["部门整体"]
    assert back["A2"].value == "红旗社区" and back["A3"].value is None
    _check_charts(back, PICTURE)
    anchor = back._charts[0].anchor._from
    assert (anchor.row, anchor.col) == (1, 3)  # D2, zero-based


def test_no_indicators_yet_gives_the_stage_chart_only() -> None:
    picture = round_picture(
        "t", [DepartmentStanding("红旗社区", Stage.NOT_STARTED, QualityFigure(0, 0, 0, 0), False)]
    )
    workbook = Workbook()
    add_round_chart(workbook.active, picture, after_row=0)
    _check_charts(_saved(workbook).active, picture)


@pytest.mark.parametrize("layout", ["2021", "2023"])
def test_round_workbook_first_sheet_has_the_chart(layout: str) -> None:
    filings = [
        department("石桥镇政府", layout=layout),
        department(
            "渔港管理处", layout=layout, table_a=FormStatus.DRAFT, measurable=1, qualitative=1
        ),
        department(
            "气象服务站",
            layout=layout,
            table_a=FormStatus.APPROVED,
            directions=[FormStatus.APPROVED],
            measurable=3,
        ),
    ]
    header = RoundHeader(2025, "2025年度预算绩效目标申报", datetime(2025, 3, 2, 9, 0, tzinfo=UTC))
    data = consolidated_workbook(filings[0].layout, filings, header, deadline_passed=True)
    book = load_workbook(io.BytesIO(data))
    first = book.worksheets[0]
    picture = filings_picture(filings, deadline_passed=True)
    assert picture.overdue == 2
    _check_charts(first, picture)
    assert first.title == "说明"  # the cover, first of the round workbook
    assert [ws._charts for ws in book.worksheets[1:]] == [[] for _ in book.worksheets[1:]]
