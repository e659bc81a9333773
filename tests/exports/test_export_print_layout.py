"""Pure checks of the printed layout: 年度重点工作计划 columns wide enough for a name, and no
closing punctuation alone on a line (where LibreOffice breaks lines was measured on rendered
pages: a column 18 units wide holds 9 CJK characters)."""

from __future__ import annotations

import pytest

from dialogs.definition import IndicatorLayout
from dialogs.filing import DepartmentFiling
from dialogs.loader import get_layout
from exports.blocks import (
    LABEL_PADDING,
    NAME_LIMIT,
    SHORT_TEXT_UNITS,
    compositions,
    group_spans,
)
from exports.grid import (
    STYLES,
    Cell,
    GridBuilder,
    PageGeometry,
    fits_one_line,
    indent_lone_punctuation,
    lone_punctuation,
    text_units,
    without_lone_punctuation,
)
from exports.tables import department_grids
from tests.support.departments import TASKS, varied_filing

LAYOUTS = (("2021", 2021), ("2023", 2024))
NINE = "全年开展执法检查不少于三百次办结案件率达到百分之百以上的目标任务"


@pytest.fixture(params=LAYOUTS, ids=[key for key, _ in LAYOUTS])
def filing(request: pytest.FixtureRequest) -> DepartmentFiling:
    key, year = request.param
    return varied_filing(key, year)


@pytest.mark.parametrize(
    ("text", "width", "lone"),
    [
        (NINE[:9] + "。", 18.0, True),  # nine characters fill the line: 。 alone below
        (NINE[:8] + "。", 18.0, False),
        (NINE[:10] + "。", 18.0, False),
        (NINE[:18] + "。", 18.0, True),
        (NINE[:27] + "。", 18.0, True),
        (NINE[:9] + "。”", 18.0, True),
        (NINE[:9] + "。", 20.0, False),
        ("。", 18.0, False),  # nothing but punctuation: nothing to keep it with
        (NINE[:9], 18.0, False),
        (NINE[:9] + "。\n" + NINE[:3], 18.0, True),  # every paragraph counts
    ],
)
def test_lone_punctuation_cases(text: str, width: float, lone: bool) -> None:
    assert lone_punctuation(text, width) is lone


def test_a_column_widens_a_little_to_keep_the_full_stop_with_its_text() -> None:
    cell = Cell(row=1, col=1, value=NINE[:9] + "。", style="text")
    widths = without_lone_punctuation((18.0, 10.0), [cell])
    assert 18.0 < widths[0] <= 21.0 and widths[1] == 10.0
    assert not lone_punctuation(str(cell.value), widths[0])


def test_when_no_width_serves_every_text_the_cell_is_indented() -> None:
    cell = Cell(row=1, col=1, value=NINE[:9] + "。", style="text")
    (indented,) = indent_lone_punctuation((18.0,), [cell])
    assert indented.style.startswith("text_indent")
    assert not lone_punctuation(str(cell.value), 18.0, indent=STYLES[indented.style].indent)


def test_no_lone_punctuation_on_any_sheet(filing: DepartmentFiling) -> None:
    checked = 0
    for grid in department_grids(filing):
        for cell in grid.cells:
            spec = STYLES[cell.style]
            if not (isinstance(cell.value, str) and spec.wrap):
                continue
            width = sum(grid.column_widths[cell.col - 1 : cell.last_col])
            assert not lone_punctuation(cell.value, width, spec.size, spec.indent), (
                grid.name,
                cell.value,
            )
            checked += cell.value.endswith("。")
    assert checked > 10


def test_every_responsible_unit_fits_one_line(filing: DepartmentFiling) -> None:
    table_a = department_grids(filing)[0]
    for _, unit, _ in TASKS:
        (cell,) = table_a.find(unit)
        width = sum(table_a.column_widths[cell.col - 1 : cell.last_col])
        assert fits_one_line(unit, width), (unit, width)
    (heading,) = table_a.find("责任单位/科室")
    width = sum(table_a.column_widths[heading.col - 1 : heading.last_col])
    assert fits_one_line("责任单位/科室", width)


def test_compositions_are_every_contiguous_split() -> None:
    assert sorted(compositions(4, 2)) == [(1, 3), (2, 2), (3, 1)]
    assert len(list(compositions(10, 3))) == 36


def test_group_spans_keep_names_whole_and_give_long_text_the_rest() -> None:
    widths = (10.0, 12.0, 30.0, 20.0, 10.0)
    texts = [
        ["事项", "农产品质量安全监管"],
        ["责任单位/科室", "农产品质量安全监管科"],
        ["工作目标", "例行抽检不少于600批次，合格率98%以上，全年开展执法检查不少于300次。"],
    ]
    split = group_spans(texts, widths, [200, 50, 500])
    assert split == [2, 1, 2]


def test_group_spans_fall_back_to_lengths_when_nothing_differs() -> None:
    builder = GridBuilder(name="t", column_widths=(10.0,) * 6)
    assert builder.columns == 6
    assert group_spans([[""], [""], [""]], (10.0,) * 5, [200, 50, 500]) == [1, 1, 3]


@pytest.mark.parametrize(("key", "year"), LAYOUTS)
def test_level2_names_and_headings_print_whole_when_they_can(key: str, year: int) -> None:
    table_a = department_grids(varied_filing(key, year))[0]
    level2 = [child.label for _, child in table_a_layout(key).level2s()]
    headings = [spec.label for spec in table_a_layout(key).columns]
    for label in level2 + headings:
        if text_units(label) + LABEL_PADDING > NAME_LIMIT:
            continue
        (cell, *_) = [c for c in table_a.find(label) if c.style in ("center", "heading")]
        width = sum(table_a.column_widths[cell.col - 1 : cell.last_col])
        assert fits_one_line(label, width), (label, width)


def table_a_layout(key: str) -> IndicatorLayout:
    return get_layout(key).table_a.indicators


def test_repeated_rows_below_the_top_take_room_from_later_pages_only() -> None:
    page = PageGeometry(landscape=True)
    assert page.printable[1] * page.safety // 40 == 12  # twelve 40 pt rows a page at scale 1
    heights = dict.fromkeys(range(1, 101), 40.0)
    widths = (40.0, 40.0)
    # Pages hold rows 1-12 and 13-24 whole; row 20 repeats from the third page on, which then
    # holds 11 rows (25-35): rows 35-36 kept together must move to a new page.
    assert page.breaks(heights, widths, None, [(35, 36)]) == ()
    assert page.breaks(heights, widths, (20, 20), [(35, 36)]) == (34,)


def test_short_field_labels_print_on_one_line(filing: DepartmentFiling) -> None:
    """`项目实施期` beside a narrow 计量单位 column takes as many columns as it needs."""
    labels = 0
    for grid in department_grids(filing):
        for cell in grid.cells:
            if cell.style == "label" and isinstance(cell.value, str):
                if text_units(cell.value) > SHORT_TEXT_UNITS:
                    continue
                width = sum(grid.column_widths[cell.col - 1 : cell.last_col])
                assert fits_one_line(cell.value, width), (grid.name, cell.value, width)
                labels += 1
    assert labels > 10
