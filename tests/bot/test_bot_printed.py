"""The printed tables in chat, over the loopback Bot API: /preview sends each table's pages as
pictures with their captions, /export sends the PDF beside the workbook, and a machine without
LibreOffice says so instead of failing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.startup import detect_renderer
from exports import render
from exports.render import Renderer, missing, pdf_text
from tests.support.bot import BotEnv, join_as, open_round

DEPT = "丙区农业农村局"
needs_libreoffice = pytest.mark.skipif(missing() is not None, reason=str(missing()))


@needs_libreoffice
async def test_staff_previews_each_table_as_pictures_and_gets_the_pdf(tmp_path: Path) -> None:
    renderer = Renderer(resolution=50)
    async with BotEnv.running(tmp_path, renderer=renderer) as env:
        await open_round(env, DEPT, year=2027)
        staff = await join_as(env, "丙", "staff", DEPT)
        staff.timeout = 120.0
        await staff.say("/fill")
        await staff.tap("新增支出方向")
        await staff.say("高标准农田建设")

        await staff.say("/preview")
        labels = staff.buttons()
        assert labels[0].startswith("表A · 2027年部门整体支出绩效目标表")
        assert labels[1].startswith("表B")
        assert any(label.startswith("表C1 高标准农田建设") for label in labels)

        await staff.tap("表C1")
        photos = [m for m in staff.messages if m.method == "sendPhoto"]
        assert photos, staff.transcript()
        assert photos[0].visible_text is not None
        assert photos[0].visible_text.startswith("表C1 高标准农田建设 · 2027年专项资金支出方向")
        assert photos[0].document is not None and photos[0].document.data[:4] == b"\x89PNG"
        assert (staff.chat_id, "upload_photo") in [a[:2] for a in env.fake.chat_actions]

        await staff.say("/preview")
        await staff.tap("表C1")  # the same version again: from the cache
        assert renderer.conversions == 1
        assert len([m for m in staff.messages if m.method == "sendPhoto"]) == 2 * len(photos)

        await staff.say("/export")
        documents = [m.document for m in staff.messages if m.method == "sendDocument"]
        names = [d.filename for d in documents if d is not None]
        assert names == [f"2027_{DEPT}_绩效目标表.xlsx", f"2027_{DEPT}_绩效目标表.pdf"]
        pdf = documents[-1]
        assert pdf is not None and pdf.caption == "2027年绩效目标表（PDF，按打印版式）"
        text = "\n".join(pdf_text(pdf.data))
        assert "2027年部门整体支出绩效目标表" in text and "高标准农田建设" in text


async def test_without_libreoffice_the_bot_says_so_and_still_exports_the_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "SOFFICE", "soffice-not-installed-here")
    assert detect_renderer() is None
    async with BotEnv.running(tmp_path, renderer=None) as env:
        await open_round(env, DEPT, year=2027)
        staff = await join_as(env, "丙", "staff", DEPT)
        replies = await staff.say("/preview")
        assert "未找到 LibreOffice" in (replies[-1].visible_text or "")
        await staff.say("/export")
        document = staff.last_document
        assert document is not None and document.document is not None
        assert document.document.filename is not None
        assert document.document.filename.endswith(".xlsx")
        assert "暂不提供 PDF" in (document.visible_text or "")


@needs_libreoffice
async def test_a_supervisor_prints_the_whole_round_as_one_pdf(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path, renderer=Renderer(resolution=40)) as env:
        await open_round(env, DEPT, "己区卫生健康局", year=2027)
        district = await join_as(env, "区审核", "district")
        district.timeout = 180.0
        await district.say("/export")
        replies = await district.tap("全部 2 个部门")
        assert "正在生成 PDF（2 个部门" in "\n".join(m.visible_text or "" for m in replies)
        pdf = district.last_document
        assert pdf is not None and pdf.document is not None
        assert pdf.document.filename == "2027年绩效目标表汇总.pdf"
        assert pdf.visible_text == "2027年全部部门绩效目标表（PDF）"
        text = "\n".join(pdf_text(pdf.document.data))
        assert DEPT in text and "己区卫生健康局" in text
