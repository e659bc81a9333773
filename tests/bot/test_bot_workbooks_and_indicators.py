"""In chat: a workbook sent to the bot is imported after confirmation (or refused cell by cell);
a supervisor exports the whole round with progress; indicator advice, the confirmation of an
unsure reading and the quality figure at review."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dialogs.definition import TableKind
from exports import department_workbook
from storage.repos import FormRepository
from tests.support.bot import BotEnv, join_as, open_round
from tests.support.seed import seed_filing

pytestmark = pytest.mark.slow
X, Y = "甲部门", "乙部门"


def texts(replies: list) -> str:  # type: ignore[type-arg]
    return "\n".join(m.visible_text or "" for m in replies)


async def test_workbook_upload_is_imported_after_confirmation(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path) as env:
        await open_round(env, X)
        staff = await join_as(env, "甲", "staff", X)
        data = department_workbook(seed_filing())

        broken = load_workbook(io.BytesIO(data))
        sheet = broken.worksheets[0]
        cell = next(c for row in sheet.iter_rows() for c in row if c.value == 267.59151)
        cell.value = "很多"
        buffer = io.BytesIO()
        broken.save(buffer)
        refused = texts(await staff.upload("表.xlsx", buffer.getvalue()))
        assert f"{sheet.title}!{cell.coordinate}" in refused and "未做任何修改" in refused

        shown = texts(await staff.upload("2021_绩效目标表.xlsx", data))
        assert "资金总额：（未填） → 267.59151 万元" in shown
        assert "✅ 确认导入" in staff.buttons()
        with env.database.transaction() as session:
            assert FormRepository(session).list_for_round(1) == []  # nothing before confirming
        assert "已导入 6 张表" in texts(await staff.tap("确认导入"))
        with env.database.transaction() as session:
            forms = FormRepository(session).list_for_round(1)
        assert sorted(f.kind for f in forms) == [TableKind.A] + [TableKind.C] * 5
        # The confirmation cannot be replayed.
        pressed = staff.last_message
        assert pressed is not None
        again = texts(await staff.press("x:1", message=pressed, check=False, expect_reply=True))
        assert "没有待确认的导入" in again or "过期" in again


async def test_supervisor_exports_the_whole_round_with_progress(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path) as env:
        await open_round(env, X, Y)
        district = await join_as(env, "区审核", "district")
        await district.say("/export")
        assert any("全部 2 个部门" in label for label in district.buttons())
        replies = await district.tap("全部 2 个部门")
        assert "汇总表已生成" in texts(replies)
        document = district.last_document
        assert document is not None and document.document is not None
        assert document.document.filename == "2021_汇总.xlsx"
        book = load_workbook(io.BytesIO(document.document.data))
        # Nobody has filled anything yet: the cover and the lists, no official tables to print.
        assert book.sheetnames == ["说明", "部门整体", "支出方向", "填报状态"]
        made = {row[0].value: row[1].value for row in book["说明"].iter_rows(min_row=2)}["生成时间"]
        offset = datetime.now(env.settings.zone).strftime("%z")
        assert made.endswith(f"（UTC{offset[:3]}:{offset[3:]}）")  # JIXIAO_TIMEZONE, not UTC
        assert (district.chat_id, "upload_document") in [a[:2] for a in env.fake.chat_actions]


async def test_indicator_advice_confirmation_and_quality_in_chat(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path) as env:
        await open_round(env, X)
        staff = await join_as(env, "甲", "staff", X)
        await staff.say("/fill")
        await staff.tap("新增支出方向")
        for text in ("理论学习", "业务性专项经费", "6", "2021.1-2021.12", "目标一", "目标二"):
            await staff.say(text)
        await staff.say("开展宣讲10次以上")
        # A value the parser cannot be sure of: the target in the name disagrees with it.
        asked = texts(await staff.say("12次"))
        assert "理解为" in asked and "✅ 对" in staff.buttons()
        assert "已确认" in texts(await staff.tap("✅ 对"))
        await staff.tap("跳过", exact=True)  # 备注
        await staff.tap("下一项")
        await staff.say("活动质量")
        vague = texts(await staff.say("高质量完成"))
        assert "⚠" in vague and "无法在年底核对" in vague and "≥95%" in vague
        review = texts(await staff.say("/review"))
        assert "指标质量：共 2 条" in review and "可量化 1 条" in review and "定性 1 条" in review
