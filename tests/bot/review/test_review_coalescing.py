"""Several approvals for one department within a minute reach its staff as one notice - across
processes and restarts, on SQLite and PostgreSQL, on the fake clock.

The coalescing lives in the database: an approval logs its notices a minute ahead, and the
worker that sends the first one claims (conditional UPDATE, like every claim) the user's other
approval notices logged by then, so one message covers them and no other worker sends them.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from bot.review.service import ReviewDone, ReviewService
from bot.roles import Actor
from dialogs.definition import TableKind
from dialogs.state import FormStatus
from storage.db import Database
from storage.records import ReminderStatus
from storage.repos import FormRepository
from storage.repos.reminders import DEFAULT_LEASE
from tests.bot.reminders.test_reminders_scheduler import runtime
from tests.support.clock import FakeClock
from tests.support.reminder_world import (
    SHANGHAI,
    RecordingTransport,
    World,
    build_world,
    shanghai,
)


def submitted_direction(world: World, name: str, department: str = "宣传部") -> int:
    with world.database.transaction() as session:
        forms = FormRepository(session)
        form = forms.get_or_create(
            world.departments[department].id, world.round.id, TableKind.C, name
        )
        forms.set_status(
            form.id, FormStatus.SUBMITTED, expected_version=form.version, actor_user_id=None
        )
        return form.id


def approve(world: World, clock: FakeClock, form_id: int) -> ReviewDone:
    supervisor = world.user("审核人")
    actor = Actor(supervisor, frozenset({world.departments["宣传部"].id}))
    with world.database.transaction() as session:
        version = FormRepository(session).load(form_id).version
    return ReviewService(world.database, SHANGHAI, clock).approve(actor, form_id, version)


def notices(world: World, sent: RecordingTransport, name: str) -> list[str]:
    return [m.text for m in sent.to(world.chat(name)) if "审核通过" in m.text]


async def test_approvals_within_a_minute_from_two_processes_are_one_notice(
    db: Database, fake_clock: FakeClock
) -> None:
    world = build_world(db)
    sent = RecordingTransport()
    first, second = runtime(db, fake_clock, sent, "p1"), runtime(db, fake_clock, sent, "p2")
    fake_clock.set(shanghai(3, 26, 10))
    roads, bridges = submitted_direction(world, "乡村道路"), submitted_direction(world, "桥梁")
    done = approve(world, fake_clock, roads)  # in the first process
    assert done.notice_at == fake_clock.now() + timedelta(minutes=1)
    fake_clock.advance(seconds=40)
    approve(world, fake_clock, bridges)  # in the second, 40 s later
    await asyncio.gather(first.dispatch_now(), second.dispatch_now())
    assert sent.sent == []  # the first approval still waits for others

    fake_clock.advance(seconds=21)  # one minute after the first approval
    await asyncio.gather(first.dispatch_now(), second.dispatch_now())
    for name in ("张三", "李四"):
        [notice] = notices(world, sent, name)
        assert "乡村道路" in notice and "桥梁" in notice, notice
    assert notices(world, sent, "王五") == []  # another department
    log = [e for e in world.log() if e.kind == "approved"]
    assert Counter(e.status for e in log) == {ReminderStatus.SENT: 4}

    # Both processes again, now that nothing is pending: nothing more goes out.
    fake_clock.advance(minutes=2)
    await asyncio.gather(first.tick(), second.tick())
    assert len(notices(world, sent, "张三")) == 1


async def test_an_approval_after_the_notice_went_out_is_a_new_notice(
    db: Database, fake_clock: FakeClock
) -> None:
    world = build_world(db)
    sent = RecordingTransport()
    bot = runtime(db, fake_clock, sent)
    fake_clock.set(shanghai(3, 26, 10))
    roads, bridges = submitted_direction(world, "乡村道路"), submitted_direction(world, "桥梁")
    approve(world, fake_clock, roads)
    fake_clock.advance(seconds=61)
    await bot.tick()
    fake_clock.advance(seconds=10)
    approve(world, fake_clock, bridges)
    fake_clock.advance(seconds=61)
    await bot.tick()
    first, later = notices(world, sent, "张三")
    assert "乡村道路" in first and "桥梁" not in first
    assert "桥梁" in later and "乡村道路" not in later


async def test_coalescing_survives_a_restart_and_a_worker_dying_after_its_claim(
    db: Database, fake_clock: FakeClock
) -> None:
    world = build_world(db)
    sent = RecordingTransport()
    fake_clock.set(shanghai(3, 26, 10))
    forms = [submitted_direction(world, name) for name in ("乡村道路", "桥梁", "路灯")]
    approve(world, fake_clock, forms[0])  # then the process stops
    fake_clock.advance(seconds=20)
    approve(world, fake_clock, forms[1])  # a new process after the restart
    fake_clock.advance(seconds=20)
    approve(world, fake_clock, forms[2])

    # The worker sending the notice dies (cancelled) while its messages are in flight: it had
    # claimed the due rows and absorbed the others.
    fake_clock.advance(seconds=21)
    hold = asyncio.Event()

    async def stall(_message: object) -> None:
        await hold.wait()

    sent.before_send = stall
    dying = asyncio.create_task(runtime(db, fake_clock, sent, "dying").tick())
    while len(sent.attempts) < 2:
        await asyncio.sleep(0.01)
    dying.cancel()
    await asyncio.gather(dying, return_exceptions=True)
    sent.before_send = None
    approvals = [e for e in world.log() if e.kind == "approved"]
    assert len(approvals) == 6 and {e.claimed_by for e in approvals} == {"dying"}

    # Its claims hold until the lease ends; then a live worker sends each user one notice.
    alive = runtime(db, fake_clock, sent, "alive")
    fake_clock.advance(minutes=1)
    await alive.tick()
    assert sent.sent == []
    fake_clock.advance(DEFAULT_LEASE)
    await alive.tick()
    for name in ("张三", "李四"):
        [notice] = notices(world, sent, name)
        assert all(direction in notice for direction in ("乡村道路", "桥梁", "路灯")), notice
    assert all(e.status is ReminderStatus.SENT for e in world.log() if e.kind == "approved")


async def test_returns_are_not_delayed(db: Database, fake_clock: FakeClock) -> None:
    world = build_world(db)
    sent = RecordingTransport()
    bot = runtime(db, fake_clock, sent)
    fake_clock.set(shanghai(3, 26, 10))
    form_id = submitted_direction(world, "乡村道路")
    supervisor = world.user("审核人")
    actor = Actor(supervisor, frozenset({world.departments["宣传部"].id}))
    with db.transaction() as session:
        version = FormRepository(session).load(form_id).version
    service = ReviewService(db, SHANGHAI, fake_clock)
    done = service.return_for_changes(actor, form_id, version, "请补充成本指标")
    assert done.notice_at == fake_clock.now()
    await bot.dispatch_now()
    assert any("请补充成本指标" in m.text for m in sent.to(world.chat("张三")))
