"""`jixiao export -o FILE.pdf` and `jixiao preview -o DIR`: the printed tables from the command
line, for a department and for the whole round."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.files import export_command, preview_command
from bot.settings import Settings
from exports import render
from exports.render import missing, pdf_text
from storage.db import Database
from storage.repos import DepartmentRepository, RoundRepository

needs_libreoffice = pytest.mark.skipif(missing() is not None, reason=str(missing()))
DEPARTMENTS = ("丁县水利局", "戊县文化馆")


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    url = f"sqlite:///{tmp_path / 'printed.sqlite3'}"
    database = Database(url)
    database.upgrade()
    with database.transaction() as session:
        for name in DEPARTMENTS:
            DepartmentRepository(session).create(name)
        RoundRepository(session).create(2028, "2023", datetime(2028, 3, 31, tzinfo=UTC), "2028年")
    database.dispose()
    yield Settings(JIXIAO_DATA_DIR=tmp_path, DATABASE_URL=url)  # type: ignore[call-arg]


@needs_libreoffice
def test_export_to_a_pdf_file_prints_the_department_tables(
    settings: Settings, tmp_path: Path
) -> None:
    target = tmp_path / "水利.pdf"
    assert export_command(settings, 2028, DEPARTMENTS[0], str(target)) == 0
    text = "\n".join(pdf_text(target.read_bytes()))
    assert "2028年部门整体支出绩效目标表" in text and DEPARTMENTS[0] in text
    assert "2028年专项资金预算绩效目标汇总表" in text


@needs_libreoffice
def test_preview_writes_one_png_per_page_for_the_whole_round(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pages"
    assert preview_command(settings, 2028, None, str(out)) == 0
    pages = sorted(out.glob("*.png"))
    assert pages and all(p.read_bytes()[:4] == b"\x89PNG" for p in pages)
    assert f"已生成 {len(pages)} 页预览" in capsys.readouterr().out


def test_without_libreoffice_a_pdf_export_is_one_clear_line(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(render, "SOFFICE", "soffice-not-installed-here")
    target = tmp_path / "x.pdf"
    assert export_command(settings, 2028, DEPARTMENTS[1], str(target)) == 1
    assert not target.exists()
    error = capsys.readouterr().err.strip().splitlines()
    assert error == [
        "无法生成 PDF：未找到 LibreOffice（soffice-not-installed-here）。"
        f"安装：{render.INSTALL_HINT}"
    ]


def test_preview_is_a_listed_command() -> None:
    with pytest.raises(SystemExit) as raised:
        main(["preview", "--help"])
    assert raised.value.code == 0
