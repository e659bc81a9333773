"""The review loop as staff and supervisors live it (issue 16), end to end over the loopback
fake Bot API with the real application: the reviewer's comment where staff look, reminders
that say what to do, an honest /remind, approvals coalesced into one notice, the running total
of 权重, and readings in large units taken without a needless confirmation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.handlers import reminders as reminder_commands
from bot.ratelimit import Pacing
from dialogs.loader import get_layout
from dialogs.state import FormStatus
from dialogs.steps import asked_sections
from tests.support.chat_scene import Scene, scene
from tests.support.clock import VirtualTimer
from tests.support.fake_bot_api import ApiError
from tests.support.filled_forms import fill_direction, fill_table_a
from tests.support.reminder_world import eventually, shanghai
from tests.support.telegram_client import ChatDriver

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
LAYOUTS = ["2021", "2023"]


def section_label(layout: str, kind: str, key: str) -> str:
    definition = get_layout(layout).table_a if kind == "A" else get_layout(layout).table_c
    return next(s.label for s in asked_sections(definition) if s.key == key)


# --- reminders say what to do ----------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
async def test_a_reminder_says_press_submit_or_names_the_next_section(
    tmp_path: Path, layout: str
) -> None:
    async with scene(tmp_path, layout=layout) as s:
        done = fill_direction(s.world, "宣传部", "农村公路养护")
        halfway = fill_direction(s.world, "宣传部", "桥梁检测", stop_at_section="goals")
        # Complete, but its 项目支出 is not the directions' 36.8 + 36.8: submitting would fail.
        fill_table_a(s.world, "宣传部", project_expense="50")
        await s.runtime.tick()  # before_7d
        zhang = s.person("张三")
        [reminder] = zhang.messages
        text = reminder.visible_text or ""
        lines = {line.split("：", 1)[0].lstrip("• "): line for line in text.splitlines()}
        assert "已全部填完，可以提交" in lines["农村公路养护"], text
        assert "再按「提交」" in lines["农村公路养护"], text
        assert f"下一步填写「{section_label(layout, 'C', 'goals')}」" in lines["桥梁检测"], text
        table_a = get_layout(layout).table_a.name
        assert "已全部填完，但还有 1 处错误，改正后才能提交" in lines[table_a], text
        assert "再按「📋 预览」查看" in lines[table_a], text

        # The button the reminder names is there, with that label, where "继续填写" leads.
        await zhang.tap("继续填写：农村公路养护", message=reminder)
        assert "提交" in zhang.buttons(), zhang.transcript()
        await zhang.tap("提交", exact=True)
        if "确认提交" in " ".join(zhang.buttons()):
            await zhang.tap("确认提交")
        assert (await s.env.form(done)).status is FormStatus.SUBMITTED, zhang.transcript()
        assert (await s.env.form(halfway)).status is FormStatus.DRAFT


# --- the reviewer's comment where staff look ---------------------------------------------------


def texts(messages: list[object]) -> str:
    return "\n".join(getattr(m, "visible_text", None) or "" for m in messages)


@pytest.mark.parametrize("layout", LAYOUTS)
async def test_a_returned_form_shows_the_comment_in_the_menu_first_screen_and_review(
    tmp_path: Path, layout: str
) -> None:
    comment = "项目金额与预算批复不一致，请核对后修改"
    async with scene(tmp_path, layout=layout) as s:
        s.clock.set(shanghai(3, 26, 10))
        form_id = fill_direction(s.world, "宣传部", "农村公路养护")
        s.world.set_status(form_id, FormStatus.SUBMITTED)
        supervisor, zhang = s.person("审核人"), s.person("张三")
        await supervisor.say("/status")
        await supervisor.tap("审核：宣传部")
        await supervisor.tap("退回修改")
        await supervisor.say(comment)
        assert "已退回修改" in (supervisor.last_text or ""), supervisor.transcript()

        menu = texts(await zhang.say("/fill"))  # no form open yet: the table menu
        assert "请选择要填写的表格" in menu and comment in menu, zhang.transcript()
        assert "农村公路养护" in menu

        first = texts(await zhang.tap("农村公路养护", expect_reply=True))
        assert "退回修改" in first and comment in first, zhang.transcript()
        assert "继续：" in first  # and then the step to continue at

        again = texts(await zhang.say("/fill"))  # the returned form is the current one now
        assert comment in again, zhang.transcript()
        review = texts(await zhang.say("/review"))
        assert comment in review and "审核意见" in review, zhang.transcript()
        status = texts(await zhang.say("/status"))
        assert "已退回" in status and comment in status, zhang.transcript()

        # Once resubmitted, the comment no longer shows.
        s.world.set_status(form_id, FormStatus.SUBMITTED)
        assert comment not in texts(await zhang.say("/review"))
        s.world.set_status(form_id, FormStatus.DRAFT)
        assert comment not in texts(await zhang.say("/fill"))


# --- 权重: the running total ------------------------------------------------------------------


async def skip_to_weight(driver: ChatDriver) -> str:
    """Skip the optional columns up to the 权重 step; returns its prompt."""
    for _ in range(4):
        if "请输入权重" in (driver.last_text or ""):
            return driver.last_text or ""
        await driver.tap("跳过", exact=True)
    raise AssertionError(driver.transcript())


async def weight_prompt(driver: ChatDriver, name: str, value: str) -> str:
    """Type a row's 三级指标 and 指标值 and skip to its 权重; returns the 权重 prompt."""
    await driver.say(name)
    await driver.say(value)
    return await skip_to_weight(driver)


async def test_the_weight_step_shows_the_running_total_and_what_is_left_2023(
    tmp_path: Path,
) -> None:
    async with scene(tmp_path, layout="2023") as s:
        form_id = fill_direction(s.world, "宣传部", "农村公路养护", stop_at_section="indicators")
        zhang = s.person("张三")
        await zhang.say("/fill")
        await zhang.tap("农村公路养护")
        first = await weight_prompt(zhang, "养护农村公路里程", "≥120公里")
        assert "这是本表第一个权重" in first and "合计应为 100" in first
        await zhang.say("35")
        await zhang.tap("跳过", exact=True)  # 备注
        await zhang.tap("再加一条")
        second = await weight_prompt(zhang, "新建错车道数量", "≥6处")
        assert "其他指标已填权重合计 35，还差 65 达到 100" in second, zhang.transcript()
        await zhang.say("62.5")
        await zhang.tap("跳过", exact=True)
        await zhang.tap("再加一条")
        third = await weight_prompt(zhang, "修复路灯数量", "≥40盏")
        assert "其他指标已填权重合计 97.5，还差 2.5 达到 100" in third, zhang.transcript()
        await zhang.say("10")
        await zhang.tap("跳过", exact=True)
        await zhang.tap("再加一条")
        fourth = await weight_prompt(zhang, "养护巡查次数", "≥24次")
        assert "其他指标已填权重合计 107.5，已超出 100（多 7.5）" in fourth, zhang.transcript()
        form = await s.env.form(form_id)
        assert [row.weight for row in form.state.indicators] == [35, 62.5, 10, None]


async def test_the_2021_layout_has_no_weight_step(tmp_path: Path) -> None:
    async with scene(tmp_path, layout="2021") as s:
        fill_direction(s.world, "宣传部", "农村公路养护", stop_at_section="indicators")
        zhang = s.person("张三")
        await zhang.say("/fill")
        await zhang.tap("农村公路养护")
        await zhang.say("养护农村公路里程")
        await zhang.say("≥120公里")
        await zhang.tap("跳过", exact=True)  # 备注, the last column of 2021
        assert "权重" not in zhang.transcript()
        assert "再加一条" in " ".join(zhang.buttons())


# --- large units: no needless confirmation --------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
async def test_readings_in_large_units_are_taken_without_a_confirmation(
    tmp_path: Path, layout: str
) -> None:
    async with scene(tmp_path, layout=layout) as s:
        form_id = fill_direction(s.world, "宣传部", "粮食收储", stop_at_section="indicators")
        zhang = s.person("张三")
        await zhang.say("/fill")
        await zhang.tap("粮食收储")
        await zhang.say("年度粮食收储量")
        typed = ["≥5万吨", "3.5万吨以上", "≥12万人次", "不少于2万亩", "≥1.2亿人次"]
        for value in typed:
            replies = texts(await zhang.say(value))
            assert "对吗" not in replies, zhang.transcript()
            assert "✓" in replies and "指标值" in replies, zhang.transcript()
            row = (await s.env.form(form_id)).state.indicators[0]
            assert row.value == value and row.reading is not None and row.reading.sure
            await zhang.tap("上一步")
        # A real doubt still asks: a number whose unit is unknown.
        replies = texts(await zhang.say("≥5万帧"))
        assert "对吗" in replies, zhang.transcript()


# --- approvals within a minute: one notice --------------------------------------------------------


async def approve_in_chat(supervisor: ChatDriver, form_name: str) -> str:
    await supervisor.say("/status")
    await supervisor.tap(form_name)
    await supervisor.tap("通过", exact=False)
    return supervisor.last_text or ""


async def test_approvals_within_a_minute_reach_the_staff_as_one_notice(tmp_path: Path) -> None:
    async with scene(tmp_path) as s:
        s.clock.set(shanghai(3, 26, 10))
        table_a = s.world.table_a("宣传部")
        roads = fill_direction(s.world, "宣传部", "农村公路养护")
        lamps = fill_direction(s.world, "宣传部", "路灯维护")
        for form_id in (table_a, roads, lamps):
            s.world.set_status(form_id, FormStatus.SUBMITTED)
        supervisor, zhang, li = s.person("审核人"), s.person("张三"), s.person("李四")

        confirmation = await approve_in_chat(supervisor, "部门整体")
        assert "已审核通过" in confirmation and "1 分钟后" in confirmation, confirmation
        s.clock.advance(seconds=45)
        await approve_in_chat(supervisor, "农村公路养护")
        await s.runtime.tick()
        assert zhang.messages == [] and li.messages == []  # waiting for more approvals

        s.clock.advance(seconds=16)
        await s.runtime.tick()
        for staff in (zhang, li):
            [notice] = staff.messages
            text = notice.visible_text or ""
            assert "审核通过" in text and "部门整体支出绩效目标表" in text, text
            assert "农村公路养护" in text and "路灯维护" not in text, text

        # An approval after the notice went out is a notice of its own, a minute later.
        s.clock.advance(seconds=30)
        await approve_in_chat(supervisor, "路灯维护")
        s.clock.advance(minutes=1)
        await s.runtime.tick()
        later = zhang.messages[-1].visible_text or ""
        assert len(zhang.messages) == 2 and "路灯维护" in later and "农村公路养护" not in later


# --- /remind says what it did ------------------------------------------------------------------


def reminded(s: Scene, name: str) -> int:
    return sum("审核人提醒" in (m.text or "") for m in s.env.fake.sent(s.world.chat(name)))


async def test_remind_says_whom_it_reminded_and_why_it_sent_nothing(tmp_path: Path) -> None:
    async with scene(tmp_path) as s:
        supervisor, district = s.person("审核人"), s.person("区审核人")
        s.clock.set(shanghai(3, 25, 10))
        reply = texts(await supervisor.say("/remind"))
        assert "已发送提醒：宣传部 2 人（张三、李四）" in reply, reply
        assert (reminded(s, "张三"), reminded(s, "李四"), reminded(s, "王五")) == (1, 1, 0)

        # Again within the minute: nothing is sent, and the reply says so and why.
        reply = texts(await supervisor.say("/remind"))
        assert "未重复发送：宣传部 2 人（张三、李四）在这一分钟内已经收到过提醒" in reply, reply
        assert "已发送提醒" not in reply
        assert reminded(s, "张三") == 1

        # The next minute it sends again; a blocked chat is named as not reached.
        s.clock.advance(minutes=1)
        s.env.fake.block(s.world.chat("王五"))
        reply = texts(await district.say("/remind"))
        assert "已发送提醒：宣传部 2 人（张三、李四）" in reply, reply
        assert "未能送达" in reply and "王五" in reply, reply
        assert reminded(s, "张三") == 2

        # In the quiet hours: held until they end, and said so.
        s.clock.set(shanghai(3, 25, 22, 30))
        reply = texts(await supervisor.say("/remind"))
        assert "免打扰时段（21:00–08:00），未立即发送" in reply, reply
        assert "2021年3月26日 08:00" in reply and "宣传部 2 人" in reply, reply
        assert reminded(s, "张三") == 2
        reply = texts(await supervisor.say("/remind"))
        assert "未重复安排" in reply and "2021年3月26日 08:00" in reply, reply
        s.clock.set(shanghai(3, 26, 8, 0))
        await s.runtime.tick()
        assert reminded(s, "张三") == 3  # once, in the morning

        # Nobody the bot can reach: said so, with the department.
        s.clock.set(shanghai(3, 26, 10))
        s.world.block("张三")
        s.world.block("李四")
        reply = texts(await supervisor.say("/remind"))
        assert "未发送提醒：宣传部有未完成的表格，但没有能收到消息的填报人员" in reply, reply


async def test_remind_when_everyone_has_submitted(tmp_path: Path) -> None:
    async with scene(tmp_path) as s:
        s.clock.set(shanghai(3, 25, 10))
        roads = fill_direction(s.world, "宣传部", "农村公路养护")
        s.world.set_status(s.world.table_a("宣传部"), FormStatus.SUBMITTED)
        s.world.set_status(roads, FormStatus.APPROVED)
        supervisor = s.person("审核人")
        reply = texts(await supervisor.say("/remind"))
        assert "未发送提醒：所管部门的表格都已提交" in reply, reply
        assert reminded(s, "张三") == 0


async def test_remind_replies_while_a_slow_send_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram holds the reminders back (429): /remind does not wait for ever; it says who is
    still queued, and they get their reminder once the flood wait is over."""
    monkeypatch.setattr(reminder_commands, "REMIND_REPLY_WAIT", 0.3)
    timer = VirtualTimer(autojump=False)
    async with scene(tmp_path, timer=timer, pacing=Pacing.off()) as s:
        s.clock.set(shanghai(3, 25, 10))
        staff = {s.world.chat("张三"), s.world.chat("李四")}
        held: set[int] = set()

        async def flood_wait(params: dict[str, Any], files: dict[str, Any]) -> Any:
            chat = int(params["chat_id"])
            if chat in staff and chat not in held:
                held.add(chat)
                raise ApiError(429, "Too Many Requests: retry after 30", {"retry_after": 30})
            return s.env.fake.perform("sendMessage", params, files)

        s.env.fake.set_handler("sendMessage", flood_wait)
        supervisor = s.person("审核人")
        try:
            reply = texts(await supervisor.say("/remind"))
            assert "正在排队发送：宣传部 2 人（张三、李四）" in reply, reply
            assert reminded(s, "张三") == 0
            await eventually(lambda: timer.sleeping == 2)  # both chats wait out their 429
            timer.advance(30)
            await eventually(lambda: reminded(s, "张三") == 1 and reminded(s, "李四") == 1)
        finally:
            timer.advance(3600)  # a failed test must not leave the send asleep at shutdown
