"""The reminder log: idempotent scheduling and claims that two workers never share."""

from __future__ import annotations

import threading
import time as clock
from datetime import timedelta

from dialogs.definition import TableKind
from storage.db import Database
from storage.records import ReminderEntry, ReminderStatus
from storage.repos import FormRepository, ReminderLogRepository
from tests.support.db import Context, later, seed_context


def _schedule(db: Database, count: int) -> Context:
    with db.transaction() as session:
        context = seed_context(session)
        form = FormRepository(session).get_or_create(
            context.department.id, context.round.id, TableKind.A
        )
        reminders = ReminderLogRepository(session)
        for minute in range(count):
            assert reminders.schedule(
                context.user.id, form.id, context.round.id, later(minute), "before_deadline"
            )
    return context


def test_schedule_is_idempotent(db: Database) -> None:
    context = _schedule(db, 1)
    with db.transaction() as session:
        reminders = ReminderLogRepository(session)
        form_id = FormRepository(session).list_for_round(context.round.id)[0].id
        again = reminders.schedule(
            context.user.id, form_id, context.round.id, later(0), "before_deadline"
        )
        other_kind = reminders.schedule(
            context.user.id, form_id, context.round.id, later(0), "overdue"
        )
        assert (again, other_kind) == (False, True)
        assert len(reminders.list_for_form(form_id)) == 2


def test_claim_only_due_rows_and_finish_them(db: Database) -> None:
    _schedule(db, 5)
    with db.transaction() as session:
        reminders = ReminderLogRepository(session)
        claimed = reminders.claim_due(later(2), "w1", limit=10)
        assert [entry.due_at for entry in claimed] == [later(0), later(1), later(2)]
        assert all(e.claimed_by == "w1" and e.attempts == 1 for e in claimed)
        assert reminders.claim_due(later(2), "w2") == []  # claimed rows are not due again
        assert reminders.mark_sent(claimed[0].id, "w1", now=later(3))
        assert not reminders.mark_sent(claimed[1].id, "w2")  # not w2's claim
        assert reminders.mark_blocked(claimed[1].id, "w1")
        sent = reminders.get(claimed[0].id)
        assert sent is not None
        assert (sent.status, sent.sent_at) == (ReminderStatus.SENT, later(3))
        assert reminders.get(claimed[1].id).status is ReminderStatus.BLOCKED  # type: ignore[union-attr]
        assert not reminders.mark_sent(claimed[0].id, "w1")  # finished rows stay finished


def test_failed_sends_are_retried_after_the_lease_then_given_up(db: Database) -> None:
    _schedule(db, 1)
    lease = timedelta(minutes=10)
    with db.transaction() as session:
        reminders = ReminderLogRepository(session)
        now = later(0)
        for attempt in (1, 2, 3):
            [entry] = reminders.claim_due(now, f"w{attempt}", lease=lease)
            assert entry.attempts == attempt
            assert reminders.claim_due(now + timedelta(minutes=5), "other", lease=lease) == []
            assert reminders.mark_failed(entry.id, f"w{attempt}", "timeout", now=now)
            now += lease + timedelta(seconds=1)
        final = reminders.get(entry.id)
        assert final is not None
        assert (final.status, final.last_error, final.attempts) == (
            ReminderStatus.FAILED,
            "timeout",
            3,
        )
        assert reminders.claim_due(now + timedelta(days=1), "w4", lease=lease) == []


def test_a_dead_workers_claim_expires(db: Database) -> None:
    _schedule(db, 1)
    with db.transaction() as session:
        reminders = ReminderLogRepository(session)
        [first] = reminders.claim_due(later(0), "dead", lease=timedelta(minutes=10))
        assert reminders.claim_due(later(9), "alive", lease=timedelta(minutes=10)) == []
        [again] = reminders.claim_due(later(11), "alive", lease=timedelta(minutes=10))
        assert (again.id, again.claimed_by, again.attempts) == (first.id, "alive", 2)
        assert not reminders.mark_sent(first.id, "dead")
        assert reminders.mark_sent(first.id, "alive")


def test_overlapping_claims_are_disjoint(db: Database) -> None:
    """Worker 1 claims and keeps its transaction open while worker 2 claims: on PostgreSQL
    worker 2 skips the locked rows, on SQLite it waits; either way no row is claimed twice."""
    _schedule(db, 10)
    claims: dict[str, list[ReminderEntry]] = {}

    def second() -> None:
        with db.transaction() as session:
            claims["w2"] = ReminderLogRepository(session).claim_due(later(30), "w2", limit=10)

    with db.transaction() as session:
        claims["w1"] = ReminderLogRepository(session).claim_due(later(30), "w1", limit=6)
        thread = threading.Thread(target=second)
        thread.start()
        clock.sleep(0.3)
    thread.join(timeout=20)
    first, other = {e.id for e in claims["w1"]}, {e.id for e in claims["w2"]}
    assert len(first) == 6
    assert len(other) == 4
    assert not first & other


def test_many_workers_never_claim_one_row_twice(db: Database) -> None:
    total = 60
    _schedule(db, total)
    claimed: list[tuple[str, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def work(name: str) -> None:
        start.wait()
        while True:
            with db.transaction() as session:
                entries = ReminderLogRepository(session).claim_due(later(total), name, limit=3)
            if not entries:
                return
            with lock:
                claimed.extend((name, entry.id) for entry in entries)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    ids = [reminder_id for _, reminder_id in claimed]
    assert len(ids) == total
    assert len(set(ids)) == total
