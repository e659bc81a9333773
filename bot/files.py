"""`jixiao export` and `jixiao import`: the workbooks from the command line."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from bot.imports import ImportService
from bot.service import FilingService
from bot.settings import Settings
from dialogs.loader import get_layout
from exports import department_workbook
from exports.consolidated import RoundHeader, consolidated_workbook
from exports.importer import import_workbook
from exports.names import consolidated_file_name, department_file_name
from storage.db import Database
from storage.records import Department, Role, Round
from storage.repos import DepartmentRepository, RoundRepository, UserRepository

CLI_TELEGRAM_ID = 0  # the local command-line user, as in `jixiao chat`


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def _round_and_department(
    database: Database, year: int, department_name: str | None
) -> tuple[Round | None, Department | None]:
    with database.transaction() as session:
        round_ = next((r for r in RoundRepository(session).list_open() if r.year == year), None)
        department = (
            DepartmentRepository(session).by_name(department_name) if department_name else None
        )
        return round_, department


def _target(output: str | None, name: str) -> Path:
    if output is None:
        return Path(name)
    path = Path(output)
    return path / name if path.is_dir() else path


def export_command(
    settings: Settings, year: int, department: str | None, output: str | None
) -> int:
    database = Database(settings.effective_database_url)
    database.upgrade()
    try:
        round_, dept = _round_and_department(database, year, department)
        if round_ is None:
            return _fail(f"没有 {year} 年的填报轮次。")
        service = FilingService(database)
        if department is not None:
            if dept is None:
                return _fail(f"没有名为“{department}”的部门。")
            data = department_workbook(service.department_filing(dept.id, round_.id))
            path = _target(output, department_file_name(year, dept.name))
        else:
            filings = service.round_filings(round_.id)
            header = RoundHeader(round_.year, round_.title, datetime.now(settings.zone))
            data = consolidated_workbook(get_layout(round_.layout), filings, header)
            path = _target(output, consolidated_file_name(year))
        path.write_bytes(data)
        print(f"已导出：{path}")
        return 0
    finally:
        database.dispose()


def import_command(
    settings: Settings, workbook: str, year: int, department: str, *, assume_yes: bool
) -> int:
    database = Database(settings.effective_database_url)
    database.upgrade()
    try:
        round_, dept = _round_and_department(database, year, department)
        if round_ is None or dept is None:
            return _fail(f"没有 {year} 年的填报轮次或名为“{department}”的部门。")
        path = Path(workbook)
        if not path.is_file():
            return _fail(f"找不到文件：{workbook}")
        result = import_workbook(path, get_layout(round_.layout), dept.name, year)
        if isinstance(result, list):
            print("无法导入，以下单元格有问题（未做任何修改）：", file=sys.stderr)
            for problem in result:
                print(f"  {problem}", file=sys.stderr)
            return 1
        imports = ImportService(FilingService(database))
        plan = imports.plan(dept.id, round_.id, result)
        print(plan.summary())
        if not plan.applicable:
            print("没有需要导入的变化。")
            return 0
        if not assume_yes:
            answer = input("确认导入以上变化？(y/n) ").strip().lower()
            if answer not in ("y", "yes", "是"):
                print("已取消，未做任何修改。")
                return 0
        with database.transaction() as session:
            actor = UserRepository(session).upsert(CLI_TELEGRAM_ID, "终端用户", role=Role.STAFF)
        written = imports.apply(plan, result, actor.id)
        print(f"已导入 {written} 张表。")
        return 0
    finally:
        database.dispose()
