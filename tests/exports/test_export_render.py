"""Printing the seed workbook through LibreOffice: every sheet fits the width of A4 portrait."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from exports import department_workbook
from exports.render import available, render
from tests.support.seed import seed_filing

pytestmark = pytest.mark.skipif(not available(), reason="soffice or pdftoppm not installed")


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_seed_workbook_prints_portrait_one_page_wide(tmp_path: Path) -> None:
    xlsx = tmp_path / "seed.xlsx"
    xlsx.write_bytes(department_workbook(seed_filing()))
    pages = render(xlsx, tmp_path / "out")
    # 表A takes two pages, 表B one, each of the five 表C one: a table too wide for the page
    # would add pages to the right.
    assert len(pages) == 8
    for page in pages:
        width, height = _png_size(page)
        assert width < height  # portrait
        assert abs(width / height - 210 / 297) < 0.01  # A4
