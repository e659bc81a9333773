"""Who sees what: strangers get only the how-to-join text; staff of one department can neither
read, change nor export another's, whatever callback data they forge; groups are sent to the
private chat; a repeated or stale button changes nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot import messages
from bot.messages import Notice
from bot.messages import text as said
from storage.repos import InviteRepository, RoundRepository, UserRepository
from tests.support.bot import BotEnv, join_as, open_round
from tests.support.telegram_client import ChatDriver

pytestmark = pytest.mark.slow
X, Y = "区委宣传部", "区财政局"
COMMANDS = [
    "/start",
    "/help",
    "/fill",
    "/review",
    "/submit",
    "/cancel",
    "/status",
    "/export",
    "/admin",
    "/invite",
    f"/newdept {X}",
    "/newround 2022 2022-03-31",
    "/join",
    "/unknown",
    "267.59151",
]


def counts(env: BotEnv) -> tuple[int, int, int]:
    with env.database.transaction() as session:
        users = sum(len(UserRepository(session).list_by_role(r)) for r in messages.ROLE_LABELS)
        return (
            users,
            len(RoundRepository(session).list_open()),
            len(InviteRepository(session).list_open()),
        )


async def test_stranger_gets_only_the_join_text(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path) as env:
        await open_round(env, X)
        before = await asyncio.to_thread(counts, env)
        stranger = env.person("陌生人")
        for text in COMMANDS:
            replies = await stranger.say(text)
            assert [m.visible_text for m in replies] == [messages.JOIN_EXPLANATION], text
        for code in ("/start WRONGCODE", "/join WRONGCODE"):
            replies = await stranger.say(code)
            assert [m.visible_text for m in replies] == [said(Notice.INVITE_NOT_FOUND)]
        target = stranger.messages[0]
        for data in ("s:1:0:0", "m:a", "m:n:0", "e:1", "i:t:1", "n:2022:20220331:2021", "zz"):
            replies = await stranger.press(data, message=target, check=False)
            assert [m.visible_text for m in replies] == [messages.JOIN_EXPLANATION], data
            assert stranger.last_answer is not None  # answered at once, no spinner
        assert await asyncio.to_thread(counts, env) == before
        assert all(X not in (m.visible_text or "") for m in stranger.messages)


async def forge(driver: ChatDriver, data: str) -> str:
    target = driver.last_message
    assert target is not None
    replies = await driver.press(data, message=target, check=False)
    return "\n".join(m.visible_text or "" for m in replies)


async def test_staff_cannot_touch_another_department(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path) as env:
        await open_round(env, X, Y)
        x = await join_as(env, "甲", "staff", X)
        y = await join_as(env, "乙", "staff", Y)
        supervisor = await join_as(env, "丙", "supervisor", X)
        await y.say("/fill")
        await y.tap("部门整体支出绩效目标表")
        await y.say("100")
        form_y = await env.current_form(y)
        stored_y = await env.form(form_y)
        y_department = stored_y.department_id
        v = stored_y.version
        before = await asyncio.to_thread(counts, env)
        await x.say("/fill")
        forged = [f"s:{form_y}:{v}:{i}" for i in range(5)]
        forged += [f"j:{form_y}:{v}:f:total", f"u:{form_y}:{v}", f"c:{form_y}:{v}"]
        forged += [f"r:{form_y}:{v}", f"m:c:{form_y}", f"e:{y_department}"]
        forged += [f"i:t:{y_department}", f"i:s:{y_department}", "i:d:0"]
        forged += ["n:2022:20220331:2021"]
        for who in (x, supervisor):
            for data in forged:
                shown = await forge(who, data)
                assert Y not in shown and "100 万元" not in shown, (data, shown)
                assert who.last_document is None, data
        after = await env.form(form_y)
        assert after.version == v and after.state == stored_y.state
        assert await asyncio.to_thread(counts, env) == before
        x_user = await env.user(x)
        assert await asyncio.to_thread(env.service.current_form_id, x_user.id) != form_y

        for who in (x, supervisor):
            status = "\n".join(m.visible_text or "" for m in await who.say("/status"))
            assert X in status and Y not in status
            await who.say("/export")
            assert who.last_document is not None and who.last_document.document is not None
            assert who.last_document.document.filename == f"2021_{X}_绩效目标表.xlsx"
        assert said(Notice.NOT_ALLOWED) in await forge(x, f"e:{y_department}")
        assert said(Notice.NOT_STAFF) in await forge(supervisor, f"m:c:{form_y}")


async def test_group_chat_points_to_the_private_chat(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path) as env:
        await open_round(env, X)
        x = await join_as(env, "甲", "staff", X)
        group = env.fake.group("科室群")
        in_group = ChatDriver(env.fake, x.user, chat=group, app=env.app)
        replies = await in_group.say("/fill")
        assert len(replies) == 1 and "私聊" in (replies[0].visible_text or "")
        assert "t.me/" in (replies[0].visible_text or "")
        assert await in_group.say("随便聊聊", expect_reply=False) == []
        assert await in_group.say("/fill@some_other_bot", expect_reply=False) == []


async def test_repeated_and_stale_buttons_change_nothing(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path) as env:
        await open_round(env, X)
        x = await join_as(env, "甲", "staff", X)
        await x.say("/fill")
        await x.tap("部门整体支出绩效目标表")
        await x.say("100")
        prompt = x.keyboard_message
        assert prompt is not None
        skip = prompt.button("跳过", exact=True).callback_data
        assert skip is not None
        form_id = await env.current_form(x)
        await x.press(skip, message=prompt)
        once = await env.form(form_id)
        again = await x.press(skip, message=prompt, check=False)
        assert "已过期" in (again[0].visible_text or "")
        twice = await env.form(form_id)
        assert twice.version == once.version and twice.state == once.state
        # an index beyond the prompt's buttons, at the current version: refused too
        stale = await x.press(f"s:{form_id}:{twice.version}:42", message=prompt, check=False)
        assert "已过期" in (stale[0].visible_text or "")
        assert (await env.form(form_id)).version == twice.version
