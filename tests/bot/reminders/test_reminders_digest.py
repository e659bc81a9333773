"""The supervisors' view: the round report (overdue first) and the daily digest, once a day."""

from __future__ import annotations

from datetime import date

from bot.reminders.digest import DigestSender
from bot.split import messages_of
from bot.status.report import round_report
from bot.texts import local_text, remaining_text, render
from dialogs.state import FormStatus
from storage.db import Database
from storage.records import ReminderPolicy
from storage.repos import AuditRepository, DigestLogRepository
from tests.support.clock import FakeClock
from tests.support.reminder_world import (
    SHANGHAI,
    RecordingTransport,
    World,
    build_world,
    shanghai,
)

STAFF = {"宣传部": ["张三"], "财政局": ["王五"], "教育局": ["赵六"]}


def report_text(world: World, clock: FakeClock, scope: frozenset[int] | None = None) -> str:
    with world.database.transaction() as session:
        report = round_report(session, world.round, clock.now(), scope)
    return render(
        "status",
        report=report,
        deadline=local_text(world.round.deadline, SHANGHAI),
        remaining=remaining_text(world.round.deadline, clock.now()),
    )


def test_the_report_puts_overdue_departments_first(db: Database, fake_clock: FakeClock) -> None:
    world = build_world(db, staff=STAFF)
    world.set_status(world.table_a("财政局"), FormStatus.SUBMITTED)
    world.table_a("教育局")  # opened, nothing filled
    world.block("张三")
    fake_clock.set(shanghai(4, 1, 10))  # a day after the deadline
    with db.transaction() as session:
        report = round_report(session, world.round, fake_clock.now())
    order = [(d.name, d.overdue, d.complete) for d in report.departments]
    assert order == [("宣传部", True, False), ("教育局", True, False), ("财政局", False, True)]
    assert report.status_counts == {"草稿": 1, "已提交": 1, "未开始": 1}
    text = report_text(world, fake_clock)
    assert text.index("宣传部") < text.index("教育局") < text.index("财政局")
    assert "逾期未完成" in text and "尚未开始填报" in text and "草稿 0%" in text
    assert "已屏蔽机器人" in text and "张三" in text
    assert "已逾期 17 小时" in text


def test_a_long_status_is_split_between_lines() -> None:
    text = "\n".join(f"<b>部门{n}</b>：草稿 10%" for n in range(600))
    parts = messages_of(text, limit=4096)
    assert len(parts) > 1 and all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text


async def test_the_digest_goes_out_once_a_day_at_its_hour(
    db: Database, fake_clock: FakeClock
) -> None:
    world = build_world(db, staff=STAFF, policy=ReminderPolicy(digest_hour=9))
    world.block("王五")
    sent = RecordingTransport()
    first = DigestSender(db, sent, SHANGHAI, fake_clock)
    second = DigestSender(db, sent, SHANGHAI, fake_clock)  # another bot process

    fake_clock.set(shanghai(3, 20, 8, 59))
    assert await first.run() == 0
    fake_clock.set(shanghai(3, 20, 9, 0))
    assert await first.run() == 2
    assert await second.run() == 0
    fake_clock.set(shanghai(3, 20, 15, 0))
    assert await first.run() == 0
    supervisor = sent.to(world.chat("审核人"))
    district = sent.to(world.chat("区审核人"))
    assert len(supervisor) == len(district) == 1
    assert "每日填报简报（3月20日）" in supervisor[0].text
    assert "宣传部" in supervisor[0].text and "财政局" not in supervisor[0].text
    assert "财政局" in district[0].text and "王五" in district[0].text  # blocked: call them

    fake_clock.set(shanghai(3, 21, 10, 0))  # the next day, the bot was down at 9:00
    assert await second.run() == 2
    assert len(sent.sent) == 4
    with db.transaction() as session:  # recorded in digests_sent, not in the audit log
        days = DigestLogRepository(session).days_sent(world.user("审核人").id, world.round.id)
        assert days == [date(2021, 3, 20), date(2021, 3, 21)]
        assert all(e.action != "digest_sent" for e in AuditRepository(session).list_recent())


async def test_no_digest_without_an_hour_or_in_quiet_hours(
    db: Database, fake_clock: FakeClock
) -> None:
    build_world(db, staff=STAFF, policy=ReminderPolicy(digest_hour=None))
    sent = RecordingTransport()
    fake_clock.set(shanghai(3, 20, 12))
    assert await DigestSender(db, sent, SHANGHAI, fake_clock).run() == 0
