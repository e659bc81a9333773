"""Departments, users, supervisors' departments, rounds and single-use invites."""

from __future__ import annotations

import threading
import time as clock
from datetime import UTC, datetime, time, timedelta

import pytest

from storage.db import Database
from storage.records import (
    AlreadyExistsError,
    Invite,
    RedeemFailure,
    ReminderPolicy,
    Role,
)
from storage.repos import (
    DepartmentRepository,
    InviteRepository,
    RoundRepository,
    UserRepository,
)
from tests.support.db import NOW, later, seed_context


def test_departments(db: Database) -> None:
    with db.transaction() as session:
        departments = DepartmentRepository(session)
        created = departments.create(" 区委宣传部 ", now=NOW)
        departments.create("区财政局")
        assert created.name == "区委宣传部"
        assert created.created_at == NOW
        assert departments.get(created.id) == created
        assert departments.by_name("区委宣传部") == created
        assert departments.by_name("无此部门") is None
        assert [d.name for d in departments.list_all()] == sorted(["区委宣传部", "区财政局"])
        with pytest.raises(AlreadyExistsError):
            departments.create("区委宣传部")
        with pytest.raises(ValueError, match="50"):
            departments.create("部" * 51)
        departments.create("部" * 50)


def test_users_upsert_roles_and_supervision(db: Database) -> None:
    with db.transaction() as session:
        departments = DepartmentRepository(session)
        one, two = departments.create("一局"), departments.create("二局")
        users = UserRepository(session)
        staff = users.upsert(123456789012, "李四", role=Role.STAFF, department_id=one.id, now=NOW)
        assert (staff.telegram_id, staff.role, staff.department_id) == (
            123456789012,
            "staff",
            one.id,
        )
        users.mark_blocked(staff.id, now=later(5))
        assert users.get(staff.id).bot_blocked_at == later(5)  # type: ignore[union-attr]
        again = users.upsert(123456789012, "李四（新）", role=Role.ADMIN)
        assert again.id == staff.id
        assert again.role is Role.STAFF  # role changes only through set_role
        assert again.display_name == "李四（新）"
        assert again.bot_blocked_at is None  # writing to the bot again clears the block
        with pytest.raises(AlreadyExistsError):
            users.create(123456789012, "重复", Role.STAFF)

        boss = users.create(42, "王五", Role.STAFF)
        boss = users.set_role(boss.id, Role.SUPERVISOR)
        boss = users.set_department(boss.id, two.id)
        assert (boss.role, boss.department_id) == (Role.SUPERVISOR, two.id)
        users.oversee(boss.id, one.id)
        users.oversee(boss.id, two.id)
        users.oversee(boss.id, one.id)  # idempotent
        assert users.overseen_department_ids(boss.id) == {one.id, two.id}
        users.stop_overseeing(boss.id, two.id)
        assert users.overseen_department_ids(boss.id) == {one.id}
        assert [u.id for u in users.list_for_department(one.id)] == [staff.id]
        assert [u.id for u in users.list_by_role(Role.SUPERVISOR)] == [boss.id]
        assert users.by_telegram_id(42) == boss
        assert users.by_telegram_id(43) is None


def test_rounds(db: Database) -> None:
    deadline = datetime(2021, 3, 31, 16, tzinfo=UTC)
    with db.transaction() as session:
        rounds = RoundRepository(session)
        policy = ReminderPolicy(
            days_before=(10, 3, 1),
            remind_on_day=False,
            overdue_every_days=2,
            overdue_max=5,
            quiet_start=time(22, 30),
            quiet_end=time(7, 0),
            digest_hour=9,
        )
        first = rounds.create(2021, "2021", deadline, "2021年", policy=policy, now=NOW)
        second = rounds.create(2023, "2023", deadline + timedelta(days=700), "2023年")
        assert first.policy == policy
        assert second.policy == ReminderPolicy()
        assert rounds.get(first.id) == first
        assert rounds.latest_open() == second
        assert [r.id for r in rounds.list_open()] == [first.id, second.id]
        rounds.close(second.id)
        assert rounds.latest_open() == first
        moved = rounds.set_deadline(first.id, deadline + timedelta(days=1))
        assert moved.deadline == deadline + timedelta(days=1)
        changed = rounds.set_policy(first.id, ReminderPolicy(days_before=()))
        assert changed.policy.days_before == ()
    with pytest.raises(ValueError):
        ReminderPolicy(digest_hour=24)


def _invite(db: Database, expires_at: datetime) -> tuple[Invite, int, int]:
    with db.transaction() as session:
        context = seed_context(session)
        invite = InviteRepository(session).create(
            Role.STAFF, context.department.id, context.user.id, expires_at, now=NOW
        )
        users = UserRepository(session)
        first = users.create(1, "甲", Role.STAFF).id
        second = users.create(2, "乙", Role.STAFF).id
    return invite, first, second


def test_invite_codes_are_unguessable_and_fit_a_deep_link(db: Database) -> None:
    with db.transaction() as session:
        invites = InviteRepository(session)
        codes = {invites.create(Role.ADMIN, None, None, later(60)).code for _ in range(20)}
    assert len(codes) == 20
    for code in codes:
        assert 20 <= len(code) <= 32
        assert code.isascii()
        assert all(c.isalnum() or c in "-_" for c in code)


def test_invite_is_single_use(db: Database) -> None:
    invite, first, second = _invite(db, later(60))
    with db.transaction() as session:
        redeemed = InviteRepository(session).redeem(invite.code, first, now=later(1))
    assert isinstance(redeemed, Invite)
    assert (redeemed.used_by, redeemed.used_at, redeemed.role) == (first, later(1), Role.STAFF)
    with db.transaction() as session:
        invites = InviteRepository(session)
        assert invites.redeem(invite.code, second, now=later(2)) is RedeemFailure.ALREADY_USED
        assert invites.redeem(invite.code, first, now=later(2)) is RedeemFailure.ALREADY_USED
        assert invites.redeem("no-such-code", first, now=later(2)) is RedeemFailure.NOT_FOUND
        assert invites.by_code(invite.code).used_by == first  # type: ignore[union-attr]
        assert invites.list_open(now=later(2)) == []


def test_invite_expires(db: Database) -> None:
    invite, first, _ = _invite(db, later(60))
    with db.transaction() as session:
        invites = InviteRepository(session)
        assert invites.redeem(invite.code, first, now=later(60)) is RedeemFailure.EXPIRED
        assert invites.redeem(invite.code, first, now=later(61)) is RedeemFailure.EXPIRED
        assert invites.by_code(invite.code).used_by is None  # type: ignore[union-attr]
        assert isinstance(invites.redeem(invite.code, first, now=later(59)), Invite)


def test_concurrent_redeem_has_one_winner(db: Database) -> None:
    """Session 1 redeems and holds its transaction open; session 2 redeems meanwhile (it waits
    for session 1's lock) and loses once session 1 commits."""
    invite, first, second = _invite(db, later(60))
    results: dict[str, Invite | RedeemFailure] = {}

    def other() -> None:
        with db.transaction() as session:
            results["second"] = InviteRepository(session).redeem(invite.code, second, now=later(1))

    with db.transaction() as session:
        results["first"] = InviteRepository(session).redeem(invite.code, first, now=later(1))
        thread = threading.Thread(target=other)
        thread.start()
        clock.sleep(0.3)
        assert thread.is_alive(), "the second redeem should wait for the first transaction"
    thread.join(timeout=20)
    assert isinstance(results["first"], Invite)
    assert results["second"] is RedeemFailure.ALREADY_USED


def test_many_concurrent_redeems_have_one_winner(db: Database) -> None:
    invite, _, _ = _invite(db, later(60))
    with db.transaction() as session:
        users = [UserRepository(session).create(100 + n, f"u{n}", Role.STAFF).id for n in range(6)]
    barrier = threading.Barrier(len(users))
    results: list[Invite | RedeemFailure] = []

    def redeem(user_id: int) -> None:
        barrier.wait()
        with db.transaction() as session:
            results.append(InviteRepository(session).redeem(invite.code, user_id, now=later(1)))

    threads = [threading.Thread(target=redeem, args=(user_id,)) for user_id in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(isinstance(result, Invite) for result in results) == 1
    assert results.count(RedeemFailure.ALREADY_USED) == len(users) - 1
