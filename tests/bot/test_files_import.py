"""`jixiao import` on SQLite and PostgreSQL: hostile files end with one clear line (never a
traceback), a plan outdated while the user decides is shown again instead of applied, a form that
is not editable is never written, and without a terminal nothing is asked."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

import bot.files
from bench import workbooks
from bot.files import import_command
from bot.service import FilingService
from bot.settings import Settings
from dialogs.actions import Action, ActionKind
from dialogs.catalogue import CATALOGUE, Code
from dialogs.definition import TableKind
from dialogs.state import FormStatus
from exports import department_workbook
from storage.db import Database
from storage.records import Role, StoredForm
from storage.repos import DepartmentRepository, FormRepository, RoundRepository, UserRepository
from tests.support.seed import seed_filing

DEPARTMENT, YEAR = "县农业农村局", 2025
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Place:
    settings: Settings
    database: Database
    department_id: int
    round_id: int
    colleague_id: int
    workbook: Path


@pytest.fixture
def place(db: Database, tmp_path: Path) -> Iterator[Place]:
    url = db.url.render_as_string(hide_password=False)
    settings = Settings(_env_file=None, JIXIAO_DATA_DIR=tmp_path, DATABASE_URL=url)  # type: ignore[call-arg]
    with db.transaction() as session:
        department = DepartmentRepository(session).create(DEPARTMENT)
        deadline = datetime(YEAR, 4, 15, tzinfo=UTC)
        round_ = RoundRepository(session).create(YEAR, "2023", deadline, f"{YEAR}年")
        colleague = UserRepository(session).create(4242, "孙同事", Role.STAFF, department.id)
        supervisor = UserRepository(session).create(4343, "郑科长", Role.SUPERVISOR, None)
        UserRepository(session).oversee(supervisor.id, department.id)
    path = tmp_path / f"{YEAR}_{DEPARTMENT}.xlsx"
    filing = replace(seed_filing("2023"), department=DEPARTMENT, year=YEAR)
    path.write_bytes(department_workbook(filing))
    yield Place(settings, db, department.id, round_.id, colleague.id, path)


def lead(code: Code) -> str:
    return CATALOGUE[code].template.split("{", 1)[0]


def colleague_answers(place: Place, text: str) -> StoredForm:
    """The colleague confirms an answer of table A in chat (through the service)."""
    service = FilingService(place.database)
    view = service.open_table_a(place.department_id, place.round_id, place.colleague_id)
    service.act(view.form.id, Action(ActionKind.ANSWER, text=text), place.colleague_id)
    return stored_a(place)


def stored_a(place: Place) -> StoredForm:
    with place.database.transaction() as session:
        form = FormRepository(session).find(place.department_id, place.round_id, TableKind.A)
    assert form is not None
    return form


HOSTILE = {
    "huge dimension": (workbooks.huge_dimension, Code.IMPORT_SHEET_TOO_LARGE),
    "cell at XFD1048576": (workbooks.far_cell, Code.IMPORT_SHEET_TOO_LARGE),
    "zip bomb": (lambda: workbooks.zip_bomb(5 * 2**20), Code.IMPORT_ARCHIVE_TOO_LARGE),
    "password-protected": (workbooks.encrypted_ole, Code.IMPORT_ENCRYPTED),
    "old .xls": (workbooks.old_xls, Code.IMPORT_OLD_FORMAT),
    "random bytes": (workbooks.random_bytes, Code.IMPORT_NOT_WORKBOOK),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_files_end_with_one_line(
    name: str, place: Place, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, code = HOSTILE[name]
    path = tmp_path / "上传.xlsx"
    path.write_bytes(make())
    assert import_command(place.settings, str(path), YEAR, DEPARTMENT, assume_yes=True) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and lead(code) in err, err
    with place.database.transaction() as session:
        assert FormRepository(session).list_for_round(place.round_id) == []


def test_a_plan_outdated_while_deciding_is_shown_again(
    place: Place, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    colleague_answers(place, "500")
    asked: list[StoredForm] = []

    def decide() -> bool:
        if not asked:  # while the user reads the plan, the colleague confirms an answer
            asked.append(colleague_answers(place, "320"))
        return True

    monkeypatch.setattr(bot.files, "_confirmed", decide)
    assert (
        import_command(place.settings, str(place.workbook), YEAR, DEPARTMENT, assume_yes=False) == 0
    )
    out = capsys.readouterr().out
    first, _, second = out.partition(lead(Code.IMPORT_PLAN_CHANGED))
    assert second, out
    assert "资金总额：500 万元 →" in first and "一般公共预算拨款：（未填） →" in first
    assert "一般公共预算拨款：320 万元 →" in second  # the new plan shows the colleague's answer
    assert "已导入 6 张表" in second


def test_a_submitted_form_is_never_written(
    place: Place, capsys: pytest.CaptureFixture[str]
) -> None:
    form = colleague_answers(place, "500")
    with place.database.transaction() as session:
        FormRepository(session).set_status(
            form.id, FormStatus.SUBMITTED, expected_version=form.version, actor_user_id=None
        )
    before = stored_a(place)
    assert (
        import_command(place.settings, str(place.workbook), YEAR, DEPARTMENT, assume_yes=True) == 1
    )
    err = capsys.readouterr().err
    assert "当前为「已提交」，不能导入" in err and "审核人 郑科长" in err, err
    assert stored_a(place) == before
    with place.database.transaction() as session:
        assert len(FormRepository(session).list_for_round(place.round_id)) == 1


def test_without_a_terminal_nothing_is_asked_or_written(place: Place) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "import",
            str(place.workbook),
            "--year",
            str(YEAR),
            "--department",
            DEPARTMENT,
        ],
        input="",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": place.settings.effective_database_url,
            "JIXIAO_DATA_DIR": str(place.workbook.parent),
        },
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr and "--yes" in done.stderr
    with place.database.transaction() as session:
        assert FormRepository(session).list_for_round(place.round_id) == []
