"""End to end against the loopback fake Bot API: the real application (bot.startup) with the
reminders installed; reminders, flood waits, /status, /remind, /policy and the review round trip
in chat."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.handlers.reminders import ROUND_WIDE_ONLY
from bot.ratelimit import Pacing
from bot.reminders.jobs import DIGEST_JOB, RUNTIME_KEY, TICK_JOB
from dialogs.state import FormStatus
from storage.records import ReminderStatus
from storage.repos import AuditRepository, FormRepository, RoundRepository, UserRepository
from tests.support.chat_scene import scene
from tests.support.clock import VirtualTimer
from tests.support.reminder_world import eventually, shanghai

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]


async def test_reminders_arrive_in_chat_and_their_button_resumes_filling(tmp_path: Path) -> None:
    async with scene(tmp_path) as s:
        job_queue = s.env.app.job_queue
        [tick_job] = job_queue.get_jobs_by_name(TICK_JOB)
        assert len(job_queue.get_jobs_by_name(DIGEST_JOB)) == 1
        assert tick_job.job.trigger.interval.total_seconds() == 60
        assert s.env.app.bot_data[RUNTIME_KEY] is s.runtime
        s.env.fake.block(s.world.chat("王五"))
        report = await s.runtime.tick()
        assert (report.dispatch.messages, report.dispatch.blocked) == (2, 1)
        zhang = s.person("张三")
        [reminder] = zhang.messages
        assert "⏰ 填报提醒" in (reminder.visible_text or "")
        assert "以下 1 张表格尚未完成" in (reminder.visible_text or "")
        form_id = s.world.table_a("宣传部")
        assert reminder.buttons[0].callback_data == f"m:c:{form_id}"

        await zhang.tap("继续填写", message=reminder)
        assert "已完成 0/" in (zhang.last_text or ""), zhang.transcript()

        with s.env.database.transaction() as session:
            wang = UserRepository(session).get(s.world.user("王五").id)
        assert wang is not None and wang.bot_blocked_at is not None
        supervisor = s.person("区审核人")
        await supervisor.say("/status")
        text = "\n".join(m.visible_text or "" for m in supervisor.last_replies)
        assert "已屏蔽机器人" in text and "王五" in text
        assert text.index("宣传部") >= 0 and "草稿 0%" in text


async def test_flood_waits_hold_back_only_their_chats(tmp_path: Path) -> None:
    """Telegram answers 429 for a while: every reminder still arrives exactly once, and a user
    asking the bot something meanwhile is answered at once."""
    timer = VirtualTimer(autojump=False)  # the back-off lasts until the test moves time on
    async with scene(tmp_path, timer=timer, pacing=Pacing.off()) as s:
        s.env.fake.fail_next("sendMessage", n=2, status=429, retry_after=30)
        tick = asyncio.create_task(s.runtime.tick())
        calls = s.env.fake.calls
        # Two chats back off (their 429s), the third chat's reminder is delivered meanwhile.
        await eventually(
            lambda: (
                timer.sleeping == 2 and [c.status for c in calls("sendMessage")] == [429, 429, 200]
            )
        )

        supervisor = s.person("区审核人")  # not frozen by the other chats' back-off
        await supervisor.say("/status")
        assert "填报进度" in (supervisor.last_text or "")

        timer.advance(30)
        report = await tick
        assert report.dispatch.sent == 3
        for name in ("张三", "李四", "王五"):
            reminders = [m for m in s.env.fake.sent(s.world.chat(name)) if "提醒" in (m.text or "")]
            assert len(reminders) == 1, name
        rejected = [c for c in s.env.fake.calls("sendMessage") if c.status == 429]
        assert len(rejected) == 2


async def test_remind_and_policy_in_chat(tmp_path: Path) -> None:
    async with scene(tmp_path) as s:
        s.clock.set(shanghai(3, 25, 10))
        supervisor = s.person("审核人")
        await supervisor.say("/remind")
        assert "已发送提醒：宣传部 2 人" in (supervisor.last_text or ""), supervisor.transcript()
        for name in ("张三", "李四"):
            await s.env.fake.wait_for_message(
                s.world.chat(name), lambda m: "审核人提醒" in (m.text or "")
            )
        assert s.env.fake.sent(s.world.chat("王五")) == []  # not this supervisor's department

        staff = s.person("李四")
        replies = await staff.say("/remind")
        assert any("审核人和管理员" in (m.visible_text or "") for m in replies)

        await supervisor.say("/policy")
        assert "提前提醒：截止前 7、3、1 天" in (supervisor.last_text or "")
        # The round's deadline and policy apply to every department: not one department's
        # supervisor's to change, but the district supervisor's (or an admin's).
        await supervisor.say("/policy 截止=2021-05-30 18:00")
        assert supervisor.last_text == ROUND_WIDE_ONLY, supervisor.transcript()
        district = s.person("区审核人")
        await district.say("/policy 提前=5,2 日报=9 截止=2021-04-02 18:00")
        assert "提醒设置已更新" in (district.last_text or "")
        with s.env.database.transaction() as session:
            round_ = RoundRepository(session).get(s.world.round.id)
        assert round_ is not None
        assert round_.policy.days_before == (5, 2) and round_.policy.digest_hour == 9
        assert round_.deadline == shanghai(4, 2, 18)
        await district.say("/policy 提前=明天")
        assert "提前天数" in (district.last_text or "")


async def test_review_round_trip_in_chat(tmp_path: Path) -> None:
    async with scene(tmp_path) as s:
        s.clock.set(shanghai(3, 26, 10))
        form_id = s.world.table_a("宣传部")
        s.world.set_status(form_id, FormStatus.SUBMITTED)
        supervisor, zhang = s.person("审核人"), s.person("张三")

        await supervisor.say("/status")
        await supervisor.tap("审核：宣传部")
        assert supervisor.buttons() == ["✅ 通过", "↩️ 退回修改"]
        card = "\n".join(m.visible_text or "" for m in supervisor.last_replies)
        assert "待审核：部门整体支出绩效目标表" in card and "部门：宣传部" in card
        card_message = supervisor.keyboard_message
        assert card_message is not None
        old_version = (await s.env.form(form_id)).version
        await supervisor.tap("退回修改")
        assert "退回意见" in (supervisor.last_text or "")
        await supervisor.say("请补充产出指标的数量目标")
        assert "已退回修改" in (supervisor.last_text or ""), supervisor.transcript()

        notice = await s.env.fake.wait_for_message(
            zhang.chat_id, lambda m: "被退回修改" in (m.text or "")
        )
        assert "请补充产出指标的数量目标" in (notice.visible_text or "")
        await zhang.tap("继续填写", message=notice)
        assert "已完成" in (zhang.last_text or ""), zhang.transcript()
        form = await s.env.form(form_id)
        assert form.status is FormStatus.RETURNED
        assert form.review_comment == "请补充产出指标的数量目标"

        s.world.set_status(form_id, FormStatus.SUBMITTED)  # fixed and submitted again
        await supervisor.say("/status")
        await supervisor.tap("审核：宣传部")
        await supervisor.tap("通过", exact=False)
        assert "已审核通过" in (supervisor.last_text or "")
        s.clock.advance(minutes=1)  # approvals wait a minute to be coalesced into one notice
        await s.runtime.dispatch_now()
        await s.env.fake.wait_for_message(zhang.chat_id, lambda m: "审核通过" in (m.text or ""))
        await eventually(lambda: all(e.status is ReminderStatus.SENT for e in s.world.log()))
        # A stale (or forged) button of the first card no longer acts.
        await supervisor.press(f"rv:a:{form_id}:{old_version}", message=card_message, check=False)
        assert "有了变化" in (supervisor.last_text or "")
        with s.env.database.transaction() as session:
            approved = FormRepository(session).load(form_id)
            history = [
                (e.field_key, e.old_value, e.new_value, e.action)
                for e in AuditRepository(session).list_for_form(form_id)
                if e.field_key == "status"
            ]
        assert approved.status is FormStatus.APPROVED and approved.review_comment is None
        assert history[-3:] == [
            ("status", "submitted", "returned", "review:returned"),
            ("status", "returned", "submitted", "status"),
            ("status", "submitted", "approved", "review:approved"),
        ]
        notices = [e for e in s.world.log() if e.kind in ("returned", "approved")]
        assert {(e.kind, e.status) for e in notices} == {
            ("returned", ReminderStatus.SENT),
            ("approved", ReminderStatus.SENT),
        }
        assert {e.user_id for e in notices} == {s.world.user("张三").id, s.world.user("李四").id}
