"""Pure checks of where the printed tables break pages: a block that does not fit under what is
already on a page may start a new page only when that page is at least half used; otherwise it
breaks inside, and its column headings repeat on the pages it continues on."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from dialogs.definition import IndicatorColumn, Layout
from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.parsing.indicator import read_indicator
from dialogs.state import IndicatorRow
from exports.blocks import LEVEL1_HEADER
from exports.grid import Grid, PageGeometry
from exports.tables import department_grids
from tests.support.departments import varied_filing

LAYOUTS = (("2021", 2021), ("2023", 2024))
DEPARTMENT = "江西省赣州市南康区交通运输局（区公路事业发展中心）"
# Indicator names of very different lengths, so the rows differ in height.
NAMES = (
    "新建改建农村公路",
    "农村公路危旧桥梁改造及安全生命防护工程实施完成数量",
    "养护里程",
    "县乡道路面技术状况指数达到省定优良路率标准的路段比例",
    "桥梁定期检查覆盖率",
    "公路沿线边沟清理、路肩整修、绿化补植及交通安全设施维护完成情况",
)
# A page ending before a break must be at least this much used ("never mostly empty").
MIN_PAGE_FILL = 0.5
VALUES = ("≥42.5公里", "≥18座", "≥1260公里", "≥85%", "100%", "2025年10月底前")


def _rows(layout: Layout, per_level2: int) -> tuple[IndicatorRow, ...]:
    """`per_level2` rows under each 二级 of the first 一级 (产出指标), one under every other."""
    definition = layout.table_c.indicators
    weighted = definition.has(IndicatorColumn.WEIGHT)
    rows = []
    for index, (level1, level2) in enumerate(definition.level2s()):
        count = per_level2 if level1 is definition.levels[0] else 1
        for number in range(count):
            name = NAMES[(index + number) % len(NAMES)]
            value = VALUES[(index * 2 + number) % len(VALUES)]
            rows.append(
                IndicatorRow(
                    level2=level2.key,
                    name=name,
                    value=value,
                    reading=read_indicator(name, value),
                    explanation=f"{name}，以年度统计数据为准。" if weighted else None,
                    scoring="完成得满分，未完成按比例扣分。" if weighted else None,
                    weight=Decimal(5) if weighted else None,
                    visited=("name", "value"),
                )
            )
    return tuple(rows)


def _filing(key: str, year: int, per_level2: int) -> DepartmentFiling:
    base = varied_filing(key, year, DEPARTMENT)
    directions = tuple(
        FiledForm(
            form_id=form.form_id,
            state=replace(form.state, indicators=_rows(base.layout, per_level2)),
        )
        for form in base.directions
    )
    return replace(base, directions=directions)


def pages(grid: Grid) -> list[tuple[int, int, float]]:
    """(first row, last row, share of the page's room used) of each printed page, the way the
    applications lay them out: a forced break after each of `page_breaks`, a break of their own
    before a row that no longer fits; title rows repeat from the page after the one they are on."""
    geometry = PageGeometry(landscape=grid.landscape)
    heights = dict(grid.row_heights)
    full = geometry.printable[1] * geometry.safety / geometry.scale(grid.column_widths)
    titles = grid.print_title_rows
    repeated = sum(heights[r] for r in range(titles[0], titles[1] + 1)) if titles else 0.0
    result: list[tuple[int, int, float]] = []
    used, start = 0.0, 1
    last = max(heights)
    for row in range(1, last + 1):
        base = repeated if titles and row > titles[1] else 0.0
        if used + heights[row] > full and used > base:
            result.append((start, row - 1, (used - base) / (full - base)))
            used, start = base, row
        used += heights[row]
        if row in grid.page_breaks and row < last:
            result.append((start, row, (used - base) / (full - base)))
            used, start = base, row + 1
    result.append((start, last, used / full))
    return result


def _c_tables(filing: DepartmentFiling) -> list[Grid]:
    return [grid for grid in department_grids(filing) if grid.name.startswith("表C")]


@pytest.mark.parametrize(("key", "year"), LAYOUTS)
@pytest.mark.parametrize("per_level2", range(1, 9))
def test_no_page_is_left_mostly_empty(key: str, year: int, per_level2: int) -> None:
    """Indicator blocks from a little to much longer than what fits under the header."""
    for grid in _c_tables(_filing(key, year, per_level2)):
        printed = pages(grid)
        for _first, _last, share in printed[:-1]:
            assert share >= MIN_PAGE_FILL, (key, per_level2, grid.name, printed)


@pytest.mark.parametrize(("key", "year"), LAYOUTS)
def test_a_split_indicator_block_repeats_its_headings(key: str, year: int) -> None:
    for grid in _c_tables(_filing(key, year, 4)):
        printed = pages(grid)
        heading = next(c for c in grid.cells if c.value == LEVEL1_HEADER)
        assert len(printed) > 1
        assert grid.print_title_rows == (heading.row, heading.row)
        # The headings print on the first page with at least one indicator row under them.
        assert printed[0][1] > heading.row, printed


def test_a_keep_block_breaks_only_after_half_a_page() -> None:
    page = PageGeometry(landscape=True)
    heights = dict.fromkeys(range(1, 101), 40.0)
    widths = (40.0, 40.0)
    # Twelve 40 pt rows a page: rows 5-14 (ten rows) do not fit under rows 1-4 (a third of the
    # page): they break inside. Under rows 1-7 they start a new page.
    assert page.breaks(heights, widths, None, [(5, 14)]) == ()
    assert page.breaks(heights, widths, None, [(8, 17)]) == (7,)
