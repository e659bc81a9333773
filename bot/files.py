"""`jixiao export` and `jixiao import`: the workbooks from the command line."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from bot.imports import FormsLocked, ImportService, PlanOutdated
from bot.service import FilingService
from bot.settings import Settings
from dialogs.loader import get_layout
from exports import department_workbook, render
from exports.consolidated import RoundHeader, consolidated_workbook
from exports.import_worker import read_bounded
from exports.importer import ImportProblem
from exports.names import consolidated_file_name, department_file_name
from storage.db import Database, make_private_dir, write_private_file
from storage.records import Department, Role, Round
from storage.repos import DepartmentRepository, RoundRepository, UserRepository

CLI_TELEGRAM_ID = 0  # the local command-line user, as in `jixiao chat`
WORKBOOK_SUFFIX = ".xlsx"
PDF_SUFFIX = ".pdf"  # -o FILE.pdf: the same tables printed as PDF


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


def export_target(output: str | None, name: str) -> Path:
    """Where `-o output` writes the workbook `name`: into `output` when it is a directory (or
    ends with a slash), else at `output` with `.xlsx` added when it lacks it (or `.pdf`)."""
    if output is None:
        return Path(name)
    path = Path(output).expanduser()
    if path.is_dir() or output.endswith(("/", os.sep)):
        return path / name
    if path.suffix.lower() not in (WORKBOOK_SUFFIX, PDF_SUFFIX):
        path = path.with_name(path.name + WORKBOOK_SUFFIX)
    return path


def _workbook(
    database: Database, year: int, department: str | None, zone: tzinfo
) -> tuple[str, bytes] | str:
    """The department's (or, without one, the round's) file name and workbook; or what is
    wrong, as the line to print."""
    round_, dept = _round_and_department(database, year, department)
    if round_ is None:
        return f"没有 {year} 年的填报轮次。"
    service = FilingService(database)
    if department is not None:
        if dept is None:
            return f"没有名为“{department}”的部门。"
        filing = service.department_filing(dept.id, round_.id)
        return department_file_name(year, dept.name), department_workbook(filing)
    filings = service.round_filings(round_.id)
    layout = get_layout(round_.layout)
    late = datetime.now(UTC) >= round_.deadline  # the chart marks overdue departments
    header = RoundHeader(round_.year, round_.title, datetime.now(zone))
    return consolidated_file_name(year), consolidated_workbook(
        layout, filings, header, deadline_passed=late
    )


def _printable(data: bytes, count: int) -> bytes | str:
    """The workbook as PDF, or why it cannot be made here."""
    reason = render.missing()
    if reason is not None:
        return f"无法生成 PDF：{reason}"
    print("正在用 LibreOffice 生成 PDF…", file=sys.stderr)
    try:
        return render.pdf_bytes(data, render.TIMEOUT_SECONDS + 2.0 * count)
    except render.RenderError as error:
        return f"生成 PDF 失败：{error}"


def _printed(
    database: Database, year: int, department: str | None, zone: tzinfo, *, pdf: bool
) -> tuple[str, bytes] | str:
    """The file name and the workbook (or its PDF); or what is wrong, as the line to print."""
    made = _workbook(database, year, department, zone)
    if isinstance(made, str) or not pdf:
        return made
    name, data = made
    printed = _printable(data, 1 if department else _departments(database))
    return printed if isinstance(printed, str) else (name, printed)


def export_command(
    settings: Settings, year: int, department: str | None, output: str | None
) -> int:
    """The workbook, or its PDF when the output file ends in .pdf."""
    database = Database(settings.effective_database_url)
    database.upgrade()
    try:
        pdf = output is not None and output.lower().endswith(PDF_SUFFIX)
        made = _printed(database, year, department, settings.zone, pdf=pdf)
        if isinstance(made, str):
            return _fail(made)
        name, data = made
        path = export_target(output, name)
        try:
            if output is not None and output.endswith(("/", os.sep)):
                make_private_dir(path.parent)
            write_private_file(path, data)
        except OSError as error:
            return _fail(f"无法写入 {path}：{error.strerror or error}。例：-o ~/导出/")
        print(f"已导出：{path}")
        return 0
    finally:
        database.dispose()


def preview_command(
    settings: Settings, year: int, department: str | None, output: str
) -> int:
    """One PNG per printed page of the department's (or the round's) tables, in `output`."""
    database = Database(settings.effective_database_url)
    database.upgrade()
    try:
        made = _printed(database, year, department, settings.zone, pdf=True)
        if isinstance(made, str):
            return _fail(made)
        name, pdf = made
        directory = Path(output)
        directory.mkdir(parents=True, exist_ok=True)
        stem = Path(name).stem
        pages = render.png_pages(pdf)
        for number, page in enumerate(pages, start=1):
            path = directory / f"{stem}-{number}.png"
            write_private_file(path, page)
            print(path)
        print(f"已生成 {len(pages)} 页预览：{directory}")
        return 0
    finally:
        database.dispose()


def _departments(database: Database) -> int:
    with database.transaction() as session:
        return len(DepartmentRepository(session).list_all())
def _print_problems(problems: list[ImportProblem]) -> None:
    if len(problems) == 1 and problems[0].code is not None:  # the whole file was refused
        print(f"无法导入（未做任何修改）：{problems[0].message}", file=sys.stderr)
        return
    print("无法导入，以下单元格有问题（未做任何修改）：", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)


def _confirmed() -> bool | None:
    """The user's answer; None when there is no terminal to ask on."""
    if not sys.stdin.isatty():
        return None
    try:
        answer = input("确认导入以上变化？(y/n) ").strip().lower()
    except EOFError:
        return None
    return answer in ("y", "yes", "是")


MAX_REPLANS = 3  # a plan outdated again and again: someone is editing right now


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
        result = read_bounded(path, get_layout(round_.layout), dept.name, year)
        if isinstance(result, list):
            _print_problems(result)
            return 1
        imports = ImportService(FilingService(database))
        plan = imports.plan(dept.id, round_.id, result)
        for _ in range(MAX_REPLANS):
            print(plan.summary())
            if plan.blocked:
                for problem in plan.refusals():
                    print(f"无法导入（未做任何修改）：{problem.message}", file=sys.stderr)
                return 1
            if not plan.applicable:
                print("没有需要导入的变化。")
                return 0
            if not assume_yes:
                confirmed = _confirmed()
                if confirmed is None:
                    return _fail(
                        "没有终端可以确认导入，未做任何修改。核对以上变化后加 --yes 导入，"
                        f"例：jixiao import {workbook} --year {year} "
                        f"--department {department} --yes"
                    )
                if not confirmed:
                    print("已取消，未做任何修改。")
                    return 0
            with database.transaction() as session:
                actor = UserRepository(session).upsert(
                    CLI_TELEGRAM_ID, "终端用户", role=Role.STAFF
                )
            try:
                written = imports.apply(plan.basis, dept.id, round_.id, result, actor.id)
            except PlanOutdated as outdated:
                print(outdated.problem().message)
                plan = outdated.plan
                continue
            except FormsLocked as locked:
                plan = locked.plan
                continue
            print(f"已导入 {written} 张表。")
            return 0
        return _fail("表格正在被其他人修改，未做任何修改。请稍后再导入。")
    finally:
        database.dispose()
