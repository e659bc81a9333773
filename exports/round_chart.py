"""The round picture (exports.round_picture) as native Excel charts on a worksheet.

`add_round_chart` writes the chart's data table below the rows already on the sheet and adds
two bar charts that read it: departments by stage (the overdue part stacked in red) and the
departments with the weakest indicator quality (overdue ones in red). The charts refer to the
table, so a supervisor who edits a figure sees the chart follow, and Excel, WPS and LibreOffice
draw them in their own fonts (no picture to go stale or lack glyphs).

It works on a normal worksheet and on a write-only one: on the latter the table is appended, so
`after_row` must be the number of rows written so far, unless `write` puts the rows in place
(the round workbook writes its sheets' rows when it is saved, exports.writer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.marker import DataPoint
from openpyxl.chart.series import Series
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from exports.round_picture import RoundPicture
from exports.xmlsafe import xml_safe

STAGE_COLOURS = ("9E9E9E", "42A5F5", "7E57C2", "FFA726", "43A047")  # in Stage order
OVERDUE = "D32F2F"
ON_TIME = "607D8B"
QUALITY_BAR = "5C6BC0"
STAGE_HEADERS = ("阶段", "未逾期", "逾期", "部门数")
QUALITY_HEADERS = ("指标质量最弱的部门", "可量化占比（%）", "指标数", "待改进提示", "逾期")
STAGE_CHART_TITLE = "各阶段部门数"
QUALITY_CHART_TITLE = "指标质量最弱的部门（可量化占比%）"
NONE_RATED = "（尚无已填写指标的部门）"
CHART_WIDTH_CM = 16.0
ROW_CM = 0.53  # a default 15 pt row, to place the second chart under the first
STAGE_CHART_CM = 7.5

Value = str | int | None


def chart_table(picture: RoundPicture) -> list[list[Value]]:
    """The data table the charts read, row by row (plain data, without the sheet)."""
    rows: list[list[Value]] = [[f"{picture.title} · 填报进度（图表数据）"], list(STAGE_HEADERS)]
    rows += [[c.stage.label, c.on_time, c.overdue, c.departments] for c in picture.stages]
    rows += [[], list(QUALITY_HEADERS)]
    if not picture.weakest:
        rows.append([NONE_RATED])
    for weak in picture.weakest:
        rows.append(
            [
                weak.name,
                weak.measurable_percent,
                weak.indicators,
                weak.warnings,
                "逾期" if weak.overdue else None,
            ]
        )
    return rows


RowWriter = Callable[[int, Sequence[list[Value]]], None]


def _write(
    ws: Worksheet | WriteOnlyWorksheet,
    first_row: int,
    rows: Sequence[list[Value]],
    write: RowWriter | None,
) -> None:
    # Department names reach the sheet here, not through the writer: the same last line of
    # defence against characters XML cannot hold.
    rows = [[xml_safe(value) for value in row] for row in rows]
    if write is not None:
        write(first_row, rows)
        return
    if isinstance(ws, WriteOnlyWorksheet):
        for row in rows:
            ws.append(row)
        return
    for offset, row in enumerate(rows):
        for col, value in enumerate(row, start=1):
            if value is not None:
                ws.cell(row=first_row + offset, column=col, value=value)


def _categories(chart: BarChart, labels: Reference) -> None:
    """Text categories as a string reference (openpyxl's set_categories makes a numeric one,
    which a strict reader may show as 1, 2, 3)."""
    for series in chart.series:
        series.cat = AxDataSource(strRef=StrRef(f=str(labels)))


def _filled(series: Series, colour: str) -> None:
    series.graphicalProperties.solidFill = colour
    series.graphicalProperties.line.solidFill = colour


def _point(index: int, colour: str) -> DataPoint:
    point = DataPoint(idx=index)
    point.graphicalProperties.solidFill = colour
    point.graphicalProperties.line.solidFill = colour
    return point


def _horizontal(chart: BarChart, title: str, height_cm: float) -> None:
    chart.type = "bar"
    chart.title = title
    chart.width, chart.height = CHART_WIDTH_CM, height_cm
    chart.x_axis.scaling.orientation = "maxMin"  # first row on top, as in the table
    chart.x_axis.delete = False  # openpyxl hides both axes unless told
    chart.y_axis.delete = False
    chart.y_axis.majorGridlines = None
    chart.y_axis.crosses = "max"  # the value axis under the bars despite the reversed order
    # Only the value: readers otherwise add the series and category names to every label.
    chart.dataLabels = DataLabelList(
        showVal=True,
        showSerName=False,
        showCatName=False,
        showLegendKey=False,
        showPercent=False,
        showLeaderLines=False,
    )
    chart.x_axis.tickLblSkip = 1  # every department's name, however many


def stage_chart(ws: Worksheet | WriteOnlyWorksheet, header_row: int, count: int) -> BarChart:
    chart = BarChart()
    _horizontal(chart, STAGE_CHART_TITLE, STAGE_CHART_CM)
    chart.grouping = "stacked"
    chart.overlap = 100
    data = Reference(ws, min_col=2, max_col=3, min_row=header_row, max_row=header_row + count)
    labels = Reference(ws, min_col=1, min_row=header_row + 1, max_row=header_row + count)
    chart.add_data(data, titles_from_data=True)
    _categories(chart, labels)
    on_time, overdue = chart.series
    _filled(on_time, ON_TIME)  # the legend's key; each bar takes its stage's colour
    on_time.dPt = [_point(i, colour) for i, colour in enumerate(STAGE_COLOURS[:count])]
    _filled(overdue, OVERDUE)
    chart.legend.position = "b"
    return chart


def quality_chart(
    ws: Worksheet | WriteOnlyWorksheet, header_row: int, picture: RoundPicture
) -> BarChart:
    count = len(picture.weakest)
    chart = BarChart()
    _horizontal(chart, QUALITY_CHART_TITLE, max(5.0, 2.0 + 0.9 * count))
    data = Reference(ws, min_col=2, min_row=header_row, max_row=header_row + count)
    labels = Reference(ws, min_col=1, min_row=header_row + 1, max_row=header_row + count)
    chart.add_data(data, titles_from_data=True)
    _categories(chart, labels)
    (series,) = chart.series
    _filled(series, QUALITY_BAR)
    series.dPt = [_point(i, OVERDUE) for i, weak in enumerate(picture.weakest) if weak.overdue]
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 100
    chart.legend = None
    return chart


def add_round_chart(
    ws: Worksheet | WriteOnlyWorksheet,
    picture: RoundPicture,
    *,
    after_row: int,
    anchor: tuple[int, int] | None = None,
    write: RowWriter | None = None,
) -> int:
    """Write the data table from `after_row + 2` and add the two charts; return the table's
    last row. `anchor` is the (row, column) of the charts' top-left corner, the second chart
    under the first; by default they go under the table, in column A."""
    first = after_row + 2
    rows = chart_table(picture)
    _write(ws, first - 1, [[], *rows], write)
    last = first + len(rows) - 1
    stage_header = first + 1
    quality_header = stage_header + len(picture.stages) + 2
    top, col = anchor if anchor is not None else (last + 2, 1)
    stages = stage_chart(ws, stage_header, len(picture.stages))
    ws.add_chart(stages, _cell(top, col))
    if picture.weakest:
        below = top + int(STAGE_CHART_CM / ROW_CM) + 2
        ws.add_chart(quality_chart(ws, quality_header, picture), _cell(below, col))
    return last


def _cell(row: int, col: int) -> str:
    return f"{get_column_letter(col)}{row}"
