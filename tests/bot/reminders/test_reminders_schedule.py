"""The pure schedule: reminder moments from a deadline, a policy and the zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.reminders.schedule import (
    Due,
    in_quiet_hours,
    latest_due,
    leave_quiet_hours,
    manual_due,
    next_due,
    reminder_times,
)
from storage.records import ReminderPolicy

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT = ReminderPolicy()
NO_QUIET = ReminderPolicy(quiet_start=time(0, 0), quiet_end=time(0, 0))


def at(text: str) -> datetime:
    """A Shanghai wall-clock time, e.g. '03-31 17:00' (2021)."""
    return datetime.strptime(f"2021-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


def table(deadline: datetime, policy: ReminderPolicy = DEFAULT) -> list[tuple[str, str]]:
    return [
        (m.kind, m.due_at.astimezone(SHANGHAI).strftime("%m-%d %H:%M"))
        for m in reminder_times(deadline, policy, SHANGHAI)
    ]


CASES = [
    pytest.param(
        at("03-31 17:00"),
        DEFAULT,
        [
            ("before_7d", "03-24 17:00"),
            ("before_3d", "03-28 17:00"),
            ("before_1d", "03-30 17:00"),
            ("on_day", "03-31 08:00"),
            ("overdue_1", "04-03 17:00"),
            ("overdue_2", "04-06 17:00"),
            ("overdue_3", "04-09 17:00"),
        ],
        id="afternoon deadline",
    ),
    pytest.param(
        at("03-31 22:00"),
        DEFAULT,
        [
            ("before_7d", "03-25 08:00"),  # 03-24 22:00 is quiet: the next morning
            ("before_3d", "03-29 08:00"),
            ("on_day", "03-31 08:00"),  # before_1d moved onto it: the more urgent one stays
            ("overdue_1", "04-04 08:00"),
            ("overdue_2", "04-07 08:00"),
            ("overdue_3", "04-10 08:00"),
        ],
        id="evening deadline, quiet hours",
    ),
    pytest.param(
        at("03-31 07:00"),
        ReminderPolicy(days_before=(2,), overdue_max=1),
        [
            ("before_2d", "03-29 08:00"),  # 07:00 is still quiet
            ("overdue_1", "04-03 08:00"),  # no on_day: the deadline is before the morning
        ],
        id="early deadline",
    ),
    pytest.param(
        at("03-31 13:00"),
        ReminderPolicy(
            days_before=(5, 0, 5), quiet_start=time(12, 0), quiet_end=time(14, 0), overdue_max=0
        ),
        [("before_5d", "03-26 14:00"), ("on_day", "03-31 08:00")],
        id="lunch quiet hours, 0 and duplicates ignored",
    ),
    pytest.param(
        at("03-31 23:30"),
        NO_QUIET,
        [
            ("before_7d", "03-24 23:30"),
            ("before_3d", "03-28 23:30"),
            ("before_1d", "03-30 23:30"),
            ("on_day", "03-31 08:00"),
            ("overdue_1", "04-03 23:30"),
            ("overdue_2", "04-06 23:30"),
            ("overdue_3", "04-09 23:30"),
        ],
        id="no quiet hours",
    ),
    pytest.param(
        at("03-31 17:00"),
        ReminderPolicy(days_before=(), remind_on_day=False, overdue_every_days=1, overdue_max=2),
        [("overdue_1", "04-01 17:00"), ("overdue_2", "04-02 17:00")],
        id="only overdue, daily",
    ),
]


@pytest.mark.parametrize(("deadline", "policy", "expected"), CASES)
def test_reminder_times_case_table(
    deadline: datetime, policy: ReminderPolicy, expected: list[tuple[str, str]]
) -> None:
    assert table(deadline, policy) == expected


@pytest.mark.parametrize(
    ("moment", "shifted"),
    [
        ("03-20 20:59", None),
        ("03-20 21:00", "03-21 08:00"),
        ("03-20 23:59", "03-21 08:00"),
        ("03-21 00:00", "03-21 08:00"),
        ("03-21 07:59", "03-21 08:00"),
        ("03-21 08:00", None),
    ],
)
def test_quiet_hours_wrap_midnight(moment: str, shifted: str | None) -> None:
    when = at(moment)
    assert in_quiet_hours(when, DEFAULT, SHANGHAI) is (shifted is not None)
    expected = at(shifted) if shifted else when
    assert leave_quiet_hours(when, DEFAULT, SHANGHAI) == expected


def test_latest_due_is_the_last_passed_moment_within_the_catch_up() -> None:
    deadline = at("03-31 17:00")
    assert latest_due(deadline, DEFAULT, SHANGHAI, at("03-24 16:59")) is None
    due = latest_due(deadline, DEFAULT, SHANGHAI, at("03-24 17:00"))
    assert due is not None and due.kind == "before_7d"
    # Down for days: only the latest reminder is sent, not the missed ones in a row.
    due = latest_due(deadline, DEFAULT, SHANGHAI, at("03-30 18:00"))
    assert due is not None and due.kind == "before_1d"
    # More than a day late: dropped, the next one will come.
    assert latest_due(deadline, DEFAULT, SHANGHAI, at("03-29 17:01")) is None
    assert latest_due(deadline, DEFAULT, SHANGHAI, at("04-11 09:00")) is None
    upcoming = next_due(deadline, DEFAULT, SHANGHAI, at("03-29 17:01"))
    assert upcoming is not None and upcoming.kind == "before_1d"


def test_manual_reminders_wait_for_the_morning_and_fall_on_the_minute() -> None:
    assert manual_due(at("03-20 10:15") + timedelta(seconds=42), DEFAULT, SHANGHAI) == at(
        "03-20 10:15"
    )
    assert manual_due(at("03-20 22:15"), DEFAULT, SHANGHAI) == at("03-21 08:00")


# --- properties -----------------------------------------------------------------------------

ZONES = st.sampled_from(
    [SHANGHAI, ZoneInfo("UTC"), ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")]
)
times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
policies = st.builds(
    ReminderPolicy,
    days_before=st.lists(st.integers(0, 30), max_size=5).map(tuple),
    remind_on_day=st.booleans(),
    overdue_every_days=st.integers(1, 10),
    overdue_max=st.integers(0, 5),
    quiet_start=times,
    quiet_end=times,
)
deadlines = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@given(deadlines, policies, ZONES)
def test_every_moment_is_outside_the_quiet_hours_and_never_early(
    deadline: datetime, policy: ReminderPolicy, zone: ZoneInfo
) -> None:
    moments = reminder_times(deadline, policy, zone)
    for moment in moments:
        assert not in_quiet_hours(moment.due_at, policy, zone)
        # Moved at most to the end of one quiet window (a day), and never earlier.
        assert moment.nominal <= moment.due_at < moment.nominal + timedelta(days=1, hours=2)
        assert (moment.due_at < deadline) is not moment.overdue
    assert [m.due_at for m in moments] == sorted({m.due_at for m in moments})
    assert len({m.kind for m in moments}) == len(moments)
    wanted = {d for d in policy.days_before if d > 0}
    assert {m.kind for m in moments if m.kind.startswith("before_")} <= {
        f"before_{d}d" for d in wanted
    }
    assert sum(m.overdue for m in moments) == policy.overdue_max


@given(deadlines, policies, ZONES)
def test_the_schedule_depends_on_the_instant_not_on_how_it_is_written(
    deadline: datetime, policy: ReminderPolicy, zone: ZoneInfo
) -> None:
    """Every process computes the same (due_at, kind) keys: the log's uniqueness relies on it."""
    assert reminder_times(deadline, policy, zone) == reminder_times(
        deadline.astimezone(zone), policy, zone
    )


@given(deadlines, policies, st.integers(-20 * 24, 20 * 24))
def test_latest_due_agrees_with_the_full_list(
    deadline: datetime, policy: ReminderPolicy, hours: int
) -> None:
    now = deadline + timedelta(hours=hours)
    moments = reminder_times(deadline, policy, SHANGHAI)
    found = latest_due(deadline, policy, SHANGHAI, now)
    passed = [m for m in moments if m.due_at <= now]
    if found is None:
        assert not passed or now - passed[-1].due_at > timedelta(days=1)
    else:
        assert isinstance(found, Due) and found == passed[-1]
        assert not any(found.due_at < m.due_at <= now for m in moments)
