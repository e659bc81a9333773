"""Printing through LibreOffice: the PDF of a department's tables, its pages as pictures, and the
renderer a long-running process uses (one at a time, timeout, cache). Skipped with the reason
where LibreOffice or a CJK font is missing; CI installs both (.ci/run)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from bench.synthetic import department
from dialogs.loader import get_layout
from exports import department_tables, department_workbook, table_workbook
from exports.render import (
    Renderer,
    RenderError,
    missing,
    pdf_bytes,
    pdf_text,
    png_pages,
    render,
)
from tests.support.seed import seed_filing

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_seed_workbook_prints_portrait_one_page_wide(tmp_path: Path) -> None:
    xlsx = tmp_path / "seed.xlsx"
    xlsx.write_bytes(department_workbook(seed_filing()))
    pages = render(xlsx, tmp_path / "out")
    # 表A takes two pages, 表B one, each of the five 表C one: a table too wide for the page
    # would add pages to the right.
    assert len(pages) == 8
    for page in pages:
        width, height = _png_size(page.read_bytes())
        assert width < height  # portrait
        assert abs(width / height - 210 / 297) < 0.01  # A4


@pytest.mark.parametrize("layout_key", ["2021", "2023"])
def test_department_pdf_has_every_table_with_its_text(layout_key: str) -> None:
    layout = get_layout(layout_key)
    filing = department(layout, 2026, 37, directions=2)
    pages = pdf_text(pdf_bytes(department_workbook(filing)))
    tables = department_tables(filing)
    assert len(tables) == 4  # A, B, two C
    assert len(pages) >= len(tables)
    text = "\n".join(pages).replace("\r", "")
    assert "2026年部门整体支出绩效目标表" in text
    assert layout.summary.title.format(year=2026) in text
    assert text.count("2026年专项资金支出方向绩效目标表") >= 2
    assert "部门0037" in text
    # what was typed is printed: each direction's name and an indicator of each
    for table in tables[2:]:
        assert table.name.split(" ", 1)[1][:6] in text
    assert filing.directions[1].state.indicators[0].name in text


def test_one_table_alone_gives_its_own_pages_as_pictures() -> None:
    filing = department(get_layout("2023"), 2025, 3, directions=1)
    pdf = pdf_bytes(table_workbook(filing, 2))  # the direction's 表C
    text = "\n".join(pdf_text(pdf))
    assert "2025年专项资金支出方向绩效目标表" in text
    assert "部门整体支出绩效目标表" not in text
    pictures = png_pages(pdf, resolution=60)
    assert len(pictures) == len(pdf_text(pdf)) >= 1
    width, height = _png_size(pictures[0])
    assert width > height  # the 2023 表C prints landscape (its 11 indicator columns)


def test_renderer_converts_once_per_key_and_bounds_the_time() -> None:
    filing = department(get_layout("2021"), 2024, 5, directions=1)
    renderer = Renderer(resolution=40)
    first = renderer.pages(table_workbook(filing, 0), ("a", 1))
    again = renderer.pages(table_workbook(filing, 0), ("a", 1))
    assert again == first and renderer.conversions == 1
    renderer.pdf(table_workbook(filing, 0), ("a", 2))  # a new version: converted again
    assert renderer.conversions == 2
    with pytest.raises(RenderError, match="longer than"):
        Renderer(timeout=0.001).pdf(table_workbook(filing, 0), "slow")


def test_an_unreadable_pdf_is_a_render_error() -> None:
    with pytest.raises(RenderError):
        png_pages(b"%PDF-1.4 not really")
