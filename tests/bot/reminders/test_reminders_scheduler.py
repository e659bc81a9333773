"""The scheduler on a controllable clock, on SQLite and PostgreSQL: who is reminded of what and
when, quiet hours, submitted forms, blocked users, failures and crashes."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from bot.reminders.dispatcher import SKIPPED
from bot.reminders.jobs import ReminderConfig, ReminderRuntime
from bot.reminders.transport import PermanentError, TransientError
from bot.settings import Settings
from dialogs.state import FormStatus
from storage.db import Database
from storage.records import ReminderPolicy, ReminderStatus
from storage.repos import ReminderLogRepository, RoundRepository, UserRepository
from storage.repos.reminders import DEFAULT_LEASE
from tests.support.clock import FakeClock
from tests.support.reminder_world import (
    RecordingTransport,
    World,
    build_world,
    shanghai,
)


def settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


def runtime(
    db: Database,
    clock: FakeClock,
    transport: RecordingTransport,
    worker: str = "w1",
    **config: object,
) -> ReminderRuntime:
    options = ReminderConfig(worker=worker, **config)  # type: ignore[arg-type]
    return ReminderRuntime(db, settings(), transport, clock=clock, config=options)


async def tick_at(bot: ReminderRuntime, clock: FakeClock, *moment: int) -> None:
    clock.set(shanghai(*moment))
    await bot.tick()


def who(world: World, transport: RecordingTransport) -> Counter[str]:
    names = {user.telegram_id: name for name, user in world.people.items()}
    return Counter(names[chat] for chat in transport.chats())


async def test_the_right_people_get_the_right_reminders_at_the_right_times(
    db: Database, fake_clock: FakeClock
) -> None:
    world = build_world(db)
    sent = RecordingTransport()
    bot = runtime(db, fake_clock, sent)

    await tick_at(bot, fake_clock, 3, 20, 10)
    await tick_at(bot, fake_clock, 3, 24, 16, 59)
    assert sent.sent == [] and world.log() == []

    await tick_at(bot, fake_clock, 3, 24, 17, 0)  # before_7d
    assert who(world, sent) == {"张三": 1, "李四": 1, "王五": 1}
    message = sent.to(world.chat("张三"))[0]
    assert "填报提醒" in message.text and "还剩 7 天" in message.text
    assert "部门整体支出绩效目标表" in message.text and "已完成 0/" in message.text
    table_a = world.table_a("宣传部")  # created by the planner: nobody had opened it yet
    assert message.buttons[0][0][1] == f"m:c:{table_a}"
    assert {e.kind for e in world.log()} == {"before_7d"}

    for minute in (1, 30):  # later ticks, other processes: nothing twice
        await tick_at(bot, fake_clock, 3, 24, 17, minute)
    await runtime(db, fake_clock, sent, worker="w2").tick()
    assert len(sent.sent) == 3

    world.set_status(table_a, FormStatus.SUBMITTED)  # 宣传部 is done: its reminders stop
    await tick_at(bot, fake_clock, 3, 28, 17, 0)  # before_3d
    await tick_at(bot, fake_clock, 3, 30, 17, 0)  # before_1d
    await tick_at(bot, fake_clock, 3, 31, 8, 0)  # on_day
    assert who(world, sent) == {"张三": 1, "李四": 1, "王五": 4}
    assert "还剩 9 小时" in sent.to(world.chat("王五"))[-1].text

    world.set_status(table_a, FormStatus.RETURNED, "请补充绩效指标")  # open again
    await tick_at(bot, fake_clock, 4, 3, 17, 0)  # overdue_1
    assert who(world, sent) == {"张三": 2, "李四": 2, "王五": 5}
    overdue = sent.to(world.chat("张三"))[-1].text
    assert "已逾期" in overdue and "已退回" in overdue and "请补充绩效指标" in overdue
    assert all(e.status is ReminderStatus.SENT for e in world.log())


async def test_quiet_hours_move_reminders_to_the_morning(
    db: Database, fake_clock: FakeClock
) -> None:
    # A 22:00 deadline: before_7d falls on 03-24 22:00, in the quiet hours.
    world = build_world(db, deadline=shanghai(3, 31, 22), staff={"宣传部": ["张三"]})
    sent = RecordingTransport()
    bot = runtime(db, fake_clock, sent)
    for moment in [(3, 24, 22, 0), (3, 24, 23, 30), (3, 25, 7, 59)]:
        await tick_at(bot, fake_clock, *moment)
    assert sent.sent == []
    await tick_at(bot, fake_clock, 3, 25, 8, 0)
    assert who(world, sent) == {"张三": 1}


async def test_rows_left_from_before_an_outage_wait_for_the_morning(
    db: Database, fake_clock: FakeClock
) -> None:
    world = build_world(db, staff={"宣传部": ["张三"]})
    form = world.table_a("宣传部")
    with db.transaction() as session:
        ReminderLogRepository(session).schedule(
            world.user("张三").id, form, world.round.id, shanghai(3, 24, 17), "before_7d"
        )
    sent = RecordingTransport()
    bot = runtime(db, fake_clock, sent)
    await tick_at(bot, fake_clock, 3, 24, 23, 0)  # the bot comes back at night
    assert sent.sent == []
    [entry] = world.log()
    assert (entry.status, entry.claimed_by, entry.attempts) == (ReminderStatus.PENDING, None, 0)
    await tick_at(bot, fake_clock, 3, 25, 8, 0)
    assert who(world, sent) == {"张三": 1}


async def test_a_form_submitted_after_planning_is_not_reminded(
    db: Database, fake_clock: FakeClock
) -> None:
    world = build_world(db, staff={"宣传部": ["张三"]})
    sent = RecordingTransport()
    bot = runtime(db, fake_clock, sent)
    fake_clock.set(shanghai(3, 24, 17))
    assert bot.planner.plan(fake_clock.now()) == 1
    world.set_status(world.table_a("宣传部"), FormStatus.SUBMITTED)
    report = await bot.dispatch_now()
    assert (report.messages, report.skipped) == (0, 1)
    [entry] = world.log()
    assert entry.status is ReminderStatus.FAILED and (entry.last_error or "").startswith(SKIPPED)


async def test_a_user_who_blocked_the_bot_is_recorded_and_not_retried(
    db: Database, fake_clock: FakeClock
) -> None:
    world = build_world(db)
    sent = RecordingTransport()
    sent.blocked.add(world.chat("张三"))
    bot = runtime(db, fake_clock, sent)
    await tick_at(bot, fake_clock, 3, 24, 17)
    assert who(world, sent) == {"李四": 1, "王五": 1}
    with db.transaction() as session:
        blocked = UserRepository(session).get(world.user("张三").id)
    assert blocked is not None and blocked.bot_blocked_at is not None
    await tick_at(bot, fake_clock, 3, 28, 17)
    statuses = {(e.user_id, e.kind): e.status for e in world.log()}
    assert statuses[(world.user("张三").id, "before_7d")] is ReminderStatus.BLOCKED
    assert (world.user("张三").id, "before_3d") not in statuses  # not planned any more
    assert sent.attempts.count((0.0, world.chat("张三"))) == 1


async def test_failures_are_retried_after_the_lease_and_permanent_ones_are_not(
    db: Database, fake_clock: FakeClock
) -> None:
    world = build_world(db)
    sent = RecordingTransport()
    sent.failures[world.chat("张三")] = [TransientError("TimedOut")]
    sent.failures[world.chat("王五")] = [PermanentError("Bad Request: can't parse entities")]
    bot = runtime(db, fake_clock, sent)
    await tick_at(bot, fake_clock, 3, 24, 17)
    assert who(world, sent) == {"李四": 1}
    fake_clock.advance(DEFAULT_LEASE - timedelta(seconds=1))
    await bot.tick()
    assert who(world, sent) == {"李四": 1}
    fake_clock.advance(seconds=2)
    await bot.tick()
    assert who(world, sent) == {"李四": 1, "张三": 1}
    failed = [e for e in world.log() if e.status is ReminderStatus.FAILED]
    assert [e.user_id for e in failed] == [world.user("王五").id]


async def test_a_worker_that_dies_after_claiming_loses_nothing(
    db: Database, fake_clock: FakeClock
) -> None:
    world = build_world(db)
    sent = RecordingTransport()
    dead = runtime(db, fake_clock, sent, worker="dead")
    fake_clock.set(shanghai(3, 24, 17))
    dead.planner.plan(fake_clock.now())
    assert len(dead.dispatcher._claim()) == 3  # claimed and committed, then the process dies
    alive = runtime(db, fake_clock, sent, worker="alive")
    fake_clock.advance(minutes=5)
    await alive.tick()
    assert sent.sent == []  # the dead worker's lease still holds
    fake_clock.advance(DEFAULT_LEASE)
    await alive.tick()
    assert who(world, sent) == {"张三": 1, "李四": 1, "王五": 1}


async def test_killed_in_the_middle_of_a_batch_every_reminder_goes_out_once(
    db: Database, fake_clock: FakeClock
) -> None:
    """The worker is cancelled (the in-process image of a kill) while two messages are
    delivered and marked, and the others are in flight, waiting in the pacer, or not yet
    claimed. Its successor sends exactly the rest."""
    names = [f"员工{n}" for n in range(10)]
    world = build_world(db, staff={"宣传部": names[:5], "财政局": names[5:]})
    sent = RecordingTransport()
    hold = asyncio.Event()
    delivered = 0

    async def stall_after_two(_message: object) -> None:
        nonlocal delivered
        if delivered >= 2:
            await hold.wait()  # in flight: Telegram has not processed these
        delivered += 1

    sent.before_send = stall_after_two
    first = runtime(db, fake_clock, sent, worker="first", batch_size=4, max_in_flight=2)
    fake_clock.set(shanghai(3, 24, 17))
    task = asyncio.create_task(first.tick())
    while len(sent.sent) < 2 or sum(e.status is ReminderStatus.SENT for e in world.log()) < 2:
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    sent.before_send = None
    statuses = Counter(e.status for e in world.log())
    assert statuses == {ReminderStatus.SENT: 2, ReminderStatus.PENDING: 8}
    # Some were claimed and in flight, the others not claimed yet (a later batch).
    pending = [e for e in world.log() if e.status is ReminderStatus.PENDING]
    assert {e.claimed_by for e in pending} == {"first", None}

    fake_clock.advance(DEFAULT_LEASE + timedelta(seconds=1))
    await runtime(db, fake_clock, sent, worker="second", batch_size=4).tick()
    assert who(world, sent) == dict.fromkeys(names, 1)
    assert all(e.status is ReminderStatus.SENT for e in world.log())


async def test_two_processes_on_one_database_send_each_reminder_once(
    db: Database, fake_clock: FakeClock
) -> None:
    names = [f"员工{n}" for n in range(12)]
    world = build_world(db, staff={"宣传部": names[:6], "财政局": names[6:]})
    sent = RecordingTransport()
    fake_clock.set(shanghai(3, 24, 17))
    bots = [runtime(db, fake_clock, sent, worker=f"p{n}", batch_size=3) for n in range(3)]
    await asyncio.gather(*(bot.tick() for bot in bots))
    assert who(world, sent) == dict.fromkeys(names, 1)


async def test_manual_reminders_reach_the_supervisors_departments_once(
    db: Database, fake_clock: FakeClock
) -> None:
    world = build_world(db)
    sent = RecordingTransport()
    bot = runtime(db, fake_clock, sent)
    supervised = frozenset({world.departments["宣传部"].id})
    fake_clock.set(shanghai(3, 20, 10, 15))
    now = fake_clock.now()
    for _ in range(2):  # pressed twice within the minute
        due_at, planned = bot.planner.plan_manual(world.round, supervised, now)
        await bot.dispatch_now()
    assert due_at <= now and len(planned.users) == 2
    assert who(world, sent) == {"张三": 1, "李四": 1}
    assert "审核人提醒" in sent.to(world.chat("张三"))[0].text


async def test_policy_changes_apply_at_the_next_tick(db: Database, fake_clock: FakeClock) -> None:
    world = build_world(db, staff={"宣传部": ["张三"]})
    sent = RecordingTransport()
    bot = runtime(db, fake_clock, sent)
    with db.transaction() as session:
        RoundRepository(session).set_policy(world.round.id, ReminderPolicy(days_before=(10,)))
    await tick_at(bot, fake_clock, 3, 21, 17)
    assert [e.kind for e in world.log()] == ["before_10d"]
    assert who(world, sent) == {"张三": 1}


async def test_a_graceful_stop_gives_back_what_it_did_not_send(
    db: Database, fake_clock: FakeClock
) -> None:
    names = [f"员工{n}" for n in range(6)]
    world = build_world(db, staff={"宣传部": names})
    sent = RecordingTransport()
    stopping = False

    async def stop_after_first(_message: object) -> None:
        nonlocal stopping
        stopping = True  # Application.stop() was called while this message was in flight

    sent.before_send = stop_after_first
    bot = runtime(db, fake_clock, sent, worker="stopping", max_in_flight=1)
    fake_clock.set(shanghai(3, 24, 17))
    report = await bot.tick(keep_going=lambda: not stopping)
    assert (report.dispatch.sent, report.dispatch.released) == (1, 5)
    released = [e for e in world.log() if e.status is ReminderStatus.PENDING]
    assert {(e.claimed_by, e.attempts) for e in released} == {(None, 0)}

    sent.before_send = None  # the restarted process sends the rest at once, no lease to wait
    await runtime(db, fake_clock, sent, worker="restarted").tick()
    assert who(world, sent) == dict.fromkeys(names, 1)
