"""A department of our own making printed through LibreOffice, in both layouts: no `###`, no
closing punctuation alone on a line, 2023 table A one A4 landscape page wide with its title once."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from exports import department_workbook
from exports.render import available, to_pdf
from tests.support.departments import varied_filing

pytestmark = pytest.mark.skipif(
    not available() or shutil.which("pdftotext") is None, reason="LibreOffice or poppler missing"
)
LONE = re.compile(r"^[。，、；：？！）”’]+$")


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return text.split("\f")[:-1]


def _sizes(pdf: Path) -> list[tuple[float, float]]:
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "999", str(pdf)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)
    return [(float(w), float(h)) for w, h in sizes]


@pytest.mark.parametrize(("key", "year"), [("2021", 2021), ("2023", 2024)])
def test_printed_pages(tmp_path: Path, key: str, year: int) -> None:
    filing = varied_filing(key, year)
    xlsx = tmp_path / f"{key}.xlsx"
    xlsx.write_bytes(department_workbook(filing))
    pdf = to_pdf(xlsx, tmp_path)
    pages = _pages(pdf)
    sizes = _sizes(pdf)
    assert len(pages) == len(sizes) > 3
    for number, page in enumerate(pages, start=1):
        assert "###" not in page, number
        lone = [line for line in page.splitlines() if LONE.match(line.strip())]
        assert not lone, (number, lone)
    title_a = filing.layout.table_a.title.format(year=year)
    pages_a = [number for number, page in enumerate(pages) if title_a in page]
    assert pages_a == [0]  # the title once, on the first page
    last_a = next(
        n for n, page in enumerate(pages) if filing.layout.summary.title.format(year=year) in page
    )
    assert last_a >= 1
    for number in range(last_a):
        width, height = sizes[number]
        if key == "2023":
            assert width > height  # landscape A4, one page wide: no page to the right
        assert {round(width), round(height)} == {595, 842}
        if number:
            assert "一级指标" in pages[number]  # the indicator headings repeated
