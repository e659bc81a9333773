"""A workbook sent in chat, on SQLite and PostgreSQL: the confirmation applies the plan only if no
form changed since it was shown (else the new plan is shown), never writes a submitted or
approved form (and names who can return it), survives a restart and expires; hostile files get
one clear message while other departments are answered within a second."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import update

from bench import workbooks
from dialogs.catalogue import CATALOGUE, Code, Problem
from dialogs.definition import TableKind
from dialogs.state import FormStatus
from exports import department_workbook
from storage.db import Database
from storage.models import PendingInputRow, utcnow
from storage.records import StoredForm
from storage.repos import DepartmentRepository, FormRepository, RoundRepository
from tests.support.bot import BotEnv, join_as
from tests.support.seed import seed_filing
from tests.support.telegram_client import ChatDriver

pytestmark = pytest.mark.slow
X, Y = "市交通运输局", "市水利局"
YEAR = 2024
FILE_NAME = f"{YEAR}_绩效目标表.xlsx"


def texts(replies: list) -> str:  # type: ignore[type-arg]
    return "\n".join(m.visible_text or "" for m in replies)


def workbook(layout: str = "2021", department: str = X) -> bytes:
    """Our department's filled workbook for our year (the seed's values)."""
    return department_workbook(replace(seed_filing(layout), department=department, year=YEAR))


def lead(code: Code) -> str:
    """The fixed start of a catalogue message (up to its first placeholder)."""
    return CATALOGUE[code].template.split("{", 1)[0]


async def open_round(env: BotEnv, layout: str, *departments: str) -> None:
    admin = env.admin
    for name in departments:
        await admin.say(f"/newdept {name}")
    await admin.say(f"/newround {YEAR} {YEAR}-03-31")
    await admin.tap(f"{layout} 版表样")


def forms(env: BotEnv, department: str = X) -> list[StoredForm]:
    with env.database.transaction() as session:
        dept = DepartmentRepository(session).by_name(department)
        round_ = RoundRepository(session).latest_open()
        assert dept is not None and round_ is not None
        return FormRepository(session).list_for_department(dept.id, round_.id)


def table_a(env: BotEnv) -> StoredForm:
    return next(f for f in forms(env) if f.kind is TableKind.A)


async def start_table_a(colleague: ChatDriver, total: str) -> None:
    """The colleague opens table A in chat and confirms 资金总额."""
    await colleague.say("/fill")
    await colleague.tap("部门整体支出绩效目标表")
    assert "✓ 资金总额" in texts(await colleague.say(total)), colleague.transcript()


@pytest.mark.parametrize("layout", ["2021", "2023"])
async def test_a_colleagues_answer_confirmed_meanwhile_is_never_reverted(
    db: Database, tmp_path: Path, layout: str
) -> None:
    async with BotEnv.running(tmp_path, database=db) as env:
        await open_round(env, layout, X)
        staff = await join_as(env, "甲", "staff", X)
        colleague = await join_as(env, "乙", "staff", X)
        await start_table_a(colleague, "300")

        shown = texts(await staff.upload(FILE_NAME, workbook(layout)))
        assert "资金总额：300 万元 → 267.59151 万元" in shown, staff.transcript()
        assert "✅ 确认导入" in staff.buttons()
        # The colleague confirms the next answer after the plan was shown.
        assert "✓" in texts(await colleague.say("150"))
        before = table_a(env)

        replanned = texts(await staff.tap("确认导入"))
        assert lead(Code.IMPORT_PLAN_CHANGED) in replanned, staff.transcript()
        assert "「部门整体支出绩效目标表」" in replanned
        assert "一般公共预算拨款：150 万元 →" in replanned  # the new plan shows it
        assert "✅ 确认导入" in staff.buttons()
        after = table_a(env)
        assert after.version == before.version and after.state.values == before.state.values
        assert after.state.values["total"] == Decimal(300)
        assert [f.kind for f in forms(env)] == [TableKind.A]  # no direction written either

        # Confirming the plan now shown imports the workbook.
        assert "已导入 6 张表" in texts(await staff.tap("确认导入")), staff.transcript()
        assert table_a(env).state.values["total"] == Decimal("267.59151")


async def test_a_form_submitted_meanwhile_is_not_imported_into(
    db: Database, tmp_path: Path
) -> None:
    async with BotEnv.running(tmp_path, database=db) as env:
        await open_round(env, "2021", X, Y)
        staff = await join_as(env, "甲", "staff", X)
        colleague = await join_as(env, "乙", "staff", X)
        await join_as(env, "王审核", "supervisor", X)
        await join_as(env, "赵审核", "supervisor", Y)  # not X's: not named
        await start_table_a(colleague, "300")
        await staff.upload(FILE_NAME, workbook())
        assert "✅ 确认导入" in staff.buttons()
        form = table_a(env)
        with env.database.transaction() as session:  # submitted after the plan was shown
            FormRepository(session).set_status(
                form.id, FormStatus.SUBMITTED, expected_version=form.version, actor_user_id=None
            )
        submitted = table_a(env)

        refused = texts(await staff.tap("确认导入"))
        expected = Problem(
            Code.IMPORT_FORM_LOCKED,
            {"form": "部门整体支出绩效目标表", "status": "已提交", "reviewers": "审核人 王审核"},
        )
        assert expected.message in refused, staff.transcript()
        assert "赵审核" not in refused
        assert "✅ 确认导入" not in staff.buttons()
        assert table_a(env) == submitted
        assert len(forms(env)) == 1  # whole or nothing: no direction was created


async def test_an_upload_into_an_approved_form_is_refused_naming_who_can_return_it(
    tmp_path: Path,
) -> None:
    async with BotEnv.running(tmp_path) as env:
        await open_round(env, "2023", X)
        staff = await join_as(env, "甲", "staff", X)
        await join_as(env, "钱区审", "district", None)
        await start_table_a(staff, "300")
        form = table_a(env)
        with env.database.transaction() as session:
            repo = FormRepository(session)
            version = repo.set_status(
                form.id, FormStatus.SUBMITTED, expected_version=form.version, actor_user_id=None
            )
            repo.set_status(
                form.id, FormStatus.APPROVED, expected_version=version, actor_user_id=None
            )
        refused = texts(await staff.upload(FILE_NAME, workbook("2023")))
        assert "当前为「已审核」，不能导入" in refused and "区级审核人 钱区审" in refused
        assert "✅ 确认导入" not in staff.buttons()
        assert len(forms(env)) == 1


async def test_an_import_waiting_for_confirmation_survives_a_restart(
    db: Database, tmp_path: Path
) -> None:
    async with BotEnv.running(tmp_path, database=db) as env:
        await open_round(env, "2021", X)
        staff = await join_as(env, "甲", "staff", X)
        await staff.upload(FILE_NAME, workbook())
        assert "✅ 确认导入" in staff.buttons()
        await env.restart()  # a new Application (as a second process would be) on the same db
        confirmation = staff.keyboard_message
        assert "已导入 6 张表" in texts(await staff.tap("确认导入")), staff.transcript()
        assert sorted(f.kind for f in forms(env)) == [TableKind.A] + [TableKind.C] * 5
        # Taken once: the same button again finds nothing to confirm.
        again = texts(
            await staff.press("x:1", message=confirmation, check=False, expect_reply=True)
        )
        assert "没有待确认的导入" in again


async def test_an_expired_import_confirmation_is_refused(db: Database, tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path, database=db) as env:
        await open_round(env, "2021", X)
        staff = await join_as(env, "甲", "staff", X)
        await staff.upload(FILE_NAME, workbook())
        with env.database.transaction() as session:  # 31 minutes later
            session.execute(
                update(PendingInputRow).values(expires_at=utcnow() - timedelta(minutes=1))
            )
        expired = texts(await staff.tap("确认导入"))
        assert lead(Code.IMPORT_EXPIRED) in expired, staff.transcript()
        assert forms(env) == []


HOSTILE = {
    "huge dimension": (workbooks.huge_dimension, Code.IMPORT_SHEET_TOO_LARGE),
    "cell at XFD1048576": (workbooks.far_cell, Code.IMPORT_SHEET_TOO_LARGE),
    "zip bomb": (lambda: workbooks.zip_bomb(5 * 2**20), Code.IMPORT_ARCHIVE_TOO_LARGE),
    "password-protected": (workbooks.encrypted_ole, Code.IMPORT_ENCRYPTED),
    "random bytes": (workbooks.random_bytes, Code.IMPORT_NOT_WORKBOOK),
    "over 5 MB": (lambda: bytes(6 * 2**20), Code.IMPORT_FILE_TOO_LARGE),  # never downloaded
}


async def test_hostile_files_get_one_message_and_others_are_answered_within_a_second(
    tmp_path: Path,
) -> None:
    async with BotEnv.running(tmp_path) as env:
        await open_round(env, "2021", X, Y)
        staff = await join_as(env, "甲", "staff", X)
        other = await join_as(env, "丁", "staff", Y)
        files = {name: make() for name, (make, _) in HOSTILE.items()}
        files["costly"] = workbooks.many_shared_strings(75_000)  # legal, seconds to read
        fake = env.fake
        mark = fake.mark()
        for name, data in files.items():  # all at once, as a flood of uploads
            fake.send_document(staff.user, staff.chat, f"{name}.xlsx", data)

        def answered() -> int:
            replies = fake.messages_since(staff.chat_id, mark)
            return sum("无法导入" in (m.visible_text or "") for m in replies)

        latencies = []
        reading_started = time.monotonic()
        while answered() < len(files):
            sent = time.monotonic()
            after = fake.mark()
            fake.send_text(other.user, other.chat, "/help")
            await fake.wait_for_message(other.chat_id, after=after, timeout=10)
            latencies.append(time.monotonic() - sent)
            await asyncio.sleep(0.05)
            assert time.monotonic() - reading_started < 60, staff.transcript()
        assert len(latencies) >= 3, latencies  # the reading took a while
        assert max(latencies) < 1.0, latencies

        replies = [m.visible_text or "" for m in fake.messages_since(staff.chat_id, mark)]
        for name, (_, code) in HOSTILE.items():
            assert sum(lead(code) in reply for reply in replies) >= 1, (name, replies)
        assert all("Traceback" not in reply and "出错了" not in reply for reply in replies)
        assert forms(env) == []


async def test_a_new_file_replaces_the_import_waiting_for_confirmation(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path) as env:
        await open_round(env, "2023", X)
        staff = await join_as(env, "甲", "staff", X)
        await staff.upload(FILE_NAME, workbook("2023"))
        first_plan = staff.keyboard_message
        assert first_plan is not None and "✅ 确认导入" in staff.buttons()
        refused = texts(await staff.upload("改过的.xlsx", workbooks.random_bytes()))
        assert lead(Code.IMPORT_NOT_WORKBOOK) in refused
        # The first plan's button no longer applies the file the user replaced.
        stale = texts(await staff.tap("确认导入", message=first_plan, expect_reply=True))
        assert "没有待确认的导入" in stale, staff.transcript()
        assert forms(env) == []
