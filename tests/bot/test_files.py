"""`jixiao export` / `jixiao import` on a real database: the seed department's workbook imported
into another department's drafts gives the same workbook back, cell by cell."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.files import export_command, import_command
from bot.service import FilingService
from bot.settings import Settings
from storage.db import Database
from storage.records import Role
from storage.repos import DepartmentRepository, RoundRepository, UserRepository
from tests.support.scripted import SeedScript, acting_through, drive
from tests.support.seed import (
    DIRECTIONS,
    KEY_TASKS,
    SEED_DEPARTMENT,
    TABLE_A_ANSWERS,
    TABLE_A_INDICATORS,
)


def _cells(path: Path) -> dict[tuple[str, str], object]:
    workbook = load_workbook(path)
    return {
        (sheet.title, cell.coordinate): cell.value
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    }


@pytest.fixture
def filled(tmp_path: Path) -> tuple[Settings, Database]:
    url = f"sqlite:///{tmp_path / 'files.sqlite3'}"
    settings = Settings(JIXIAO_DATA_DIR=tmp_path, DATABASE_URL=url)
    database = Database(url)
    database.upgrade()
    with database.transaction() as session:
        department = DepartmentRepository(session).create(SEED_DEPARTMENT)
        DepartmentRepository(session).create("另一个部门")
        deadline = datetime(2021, 3, 31, tzinfo=UTC)
        round_ = RoundRepository(session).create(2021, "2021", deadline, "2021年")
        user = UserRepository(session).create(7, "填报员", Role.STAFF, department.id)
    service = FilingService(database)

    view = service.open_table_a(department.id, round_.id, user.id)
    drive(
        SeedScript(TABLE_A_ANSWERS, {"key_tasks": KEY_TASKS}, TABLE_A_INDICATORS),
        view.state,
        acting_through(service, view.form.id, user.id),
    )
    for direction in DIRECTIONS:
        view = service.new_direction(department.id, round_.id, user.id)
        drive(
            SeedScript(dict(direction.answers), {}, direction.indicators),
            view.state,
            acting_through(service, view.form.id, user.id),
        )
    yield settings, database
    database.dispose()


def test_export_import_export_is_identical(
    filled: tuple[Settings, Database], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, _ = filled
    first = tmp_path / "first.xlsx"
    assert export_command(settings, 2021, SEED_DEPARTMENT, str(first)) == 0
    assert import_command(settings, str(first), 2021, "另一个部门", assume_yes=True) == 0
    out = capsys.readouterr().out
    assert "资金总额：（未填） → 267.59151 万元" in out and "已导入 6 张表" in out
    second = tmp_path / "second.xlsx"
    assert export_command(settings, 2021, "另一个部门", str(second)) == 0
    before, after = _cells(first), _cells(second)
    renamed = {key: str(v).replace(SEED_DEPARTMENT, "另一个部门") for key, v in before.items()}
    assert {k: str(v) for k, v in after.items()} == renamed
    # Importing the same workbook again changes nothing.
    assert import_command(settings, str(first), 2021, "另一个部门", assume_yes=True) == 0
    assert "没有需要导入的变化" in capsys.readouterr().out


def test_import_reports_bad_cells_and_changes_nothing(
    filled: tuple[Settings, Database], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, _ = filled
    path = tmp_path / "bad.xlsx"
    assert export_command(settings, 2021, SEED_DEPARTMENT, str(path)) == 0
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    target = next(c for row in sheet.iter_rows() for c in row if c.value == 267.59151)
    target.value = "两百万"
    workbook.save(path)
    assert import_command(settings, str(path), 2021, "另一个部门", assume_yes=True) == 1
    err = capsys.readouterr().err
    assert f"{sheet.title}!{target.coordinate}" in err
    empty = tmp_path / "empty.xlsx"
    assert export_command(settings, 2021, "另一个部门", str(empty)) == 0
    cells = _cells(empty)  # nothing was imported into the other department
    assert 267.59151 not in cells.values()


def test_consolidated_export(filled: tuple[Settings, Database], tmp_path: Path) -> None:
    settings, _ = filled
    assert export_command(settings, 2021, None, str(tmp_path)) == 0
    workbook = load_workbook(tmp_path / "2021_汇总.xlsx")
    # 说明, three lists, then 表A, 表B and 表C of every department.
    assert len(workbook.worksheets) == 7
    # When it was made, in JIXIAO_TIMEZONE (not UTC).
    cover = {row[0].value: row[1].value for row in workbook["说明"].iter_rows(min_row=2)}
    offset = datetime.now(settings.zone).strftime("%z")
    assert cover["生成时间"].endswith(f"（UTC{offset[:3]}:{offset[3:]}）")
    assert offset != "+0000" or settings.timezone in ("UTC", "Etc/UTC")
