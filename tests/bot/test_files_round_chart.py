"""`jixiao export` of a whole round: the chart on the first sheet marks the departments overdue
once the round's deadline has passed, and not before."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

from bot.files import export_command
from bot.settings import Settings
from storage.db import Database
from storage.repos import DepartmentRepository, RoundRepository


@pytest.mark.parametrize(("year", "overdue"), [(2022, 2), (2099, 0)])
def test_round_export_chart_marks_overdue(tmp_path: Path, year: int, overdue: int) -> None:
    url = f"sqlite:///{tmp_path / 'chart.sqlite3'}"
    settings = Settings(JIXIAO_DATA_DIR=tmp_path, DATABASE_URL=url)
    database = Database(url)
    database.upgrade()
    with database.transaction() as session:
        for name in ("临江镇农技站", "望海楼街道"):
            DepartmentRepository(session).create(name)
        deadline = datetime(year, 5, 31, tzinfo=UTC)
        RoundRepository(session).create(year, "2023", deadline, f"{year}年度填报")
    database.dispose()
    path = tmp_path / "round.xlsx"
    assert export_command(settings, year, None, str(path)) == 0
    first = load_workbook(path).worksheets[0]
    stage_chart = first._charts[0]
    late_series = stage_chart.series[1]
    sheet, cells = late_series.val.numRef.f.rsplit("!", 1)
    assert sheet.strip("'") == first.title
    min_col, min_row, _, max_row = range_boundaries(cells.replace("$", ""))
    values = [first.cell(row, min_col).value for row in range(min_row, max_row + 1)]
    assert values[0] == overdue  # 未开始: both departments
    assert sum(values) == overdue
