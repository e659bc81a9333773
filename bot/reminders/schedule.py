"""When a round's reminders are due: pure functions of the deadline, the policy, the zone and now.

The kinds are stable strings because they are part of the reminder log's unique key
(user, form, due_at, kind): every process, before and after a restart, computes the same
(due_at, kind) pairs from the same round, so planning the same reminder twice is a no-op.

  before_<N>d   N days before the deadline, at the deadline's time of day (local wall clock)
  on_day        the morning of the deadline's day: 08:00, or when the quiet hours end if later
  overdue_<k>   k × overdue_every_days days after the deadline, k = 1 … overdue_max

A time inside the quiet hours moves to the end of those quiet hours (the next morning). When two
reminders land on the same moment after that move (a 22:00 deadline's before_1d and on_day both
become 08:00), only the more urgent one is kept. `days_before` entries of 0 are ignored: a
reminder at the very deadline cannot be acted upon; `on_day` is the last call before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.records import ReminderPolicy

ON_DAY = "on_day"
MANUAL = "manual"
DEFAULT_CATCH_UP = timedelta(days=1)
ON_DAY_TIME = time(8, 0)  # the start of a working day; moved out of quiet hours like the rest


def before_kind(days: int) -> str:
    return f"before_{days}d"


def overdue_kind(number: int) -> str:
    return f"overdue_{number}"


@dataclass(frozen=True, order=True)
class Due:
    """One reminder moment of a round. `due_at` is when it may be sent (UTC, after the quiet
    hours move); `nominal` is the moment the policy names, before that move."""

    due_at: datetime
    nominal: datetime
    kind: str

    @property
    def overdue(self) -> bool:
        return self.kind.startswith("overdue_")


def has_quiet_hours(policy: ReminderPolicy) -> bool:
    return policy.quiet_start != policy.quiet_end


def in_quiet_hours(moment: datetime, policy: ReminderPolicy, zone: ZoneInfo) -> bool:
    """Whether `moment` falls in [quiet_start, quiet_end) local time (the window may wrap
    midnight: 21:00–08:00). Equal start and end mean no quiet hours."""
    if not has_quiet_hours(policy):
        return False
    clock = _local(moment, zone).time()
    start, end = policy.quiet_start, policy.quiet_end
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


def leave_quiet_hours(moment: datetime, policy: ReminderPolicy, zone: ZoneInfo) -> datetime:
    """`moment` itself, or the end of the quiet hours it falls in (UTC)."""
    if not in_quiet_hours(moment, policy, zone):
        return moment.astimezone(UTC)
    local = _local(moment, zone)
    day = local.date()
    # In a window that wraps midnight, an evening moment ends the next morning.
    if policy.quiet_start > policy.quiet_end and local.time() >= policy.quiet_start:
        day += timedelta(days=1)
    return _at(day, policy.quiet_end, zone)


def reminder_times(deadline: datetime, policy: ReminderPolicy, zone: ZoneInfo) -> tuple[Due, ...]:
    """Every reminder moment of a round, ordered by `due_at` (strictly increasing)."""
    local_deadline = _local(deadline, zone)
    wall = local_deadline.replace(tzinfo=None)
    nominal: list[tuple[datetime, str]] = []
    for days in sorted({d for d in policy.days_before if d > 0}, reverse=True):
        nominal.append((_localize(wall - timedelta(days=days), zone), before_kind(days)))
    if policy.remind_on_day:
        start = _at(local_deadline.date(), ON_DAY_TIME, zone)
        if leave_quiet_hours(start, policy, zone) < deadline:  # none for an early deadline
            nominal.append((start, ON_DAY))
    for number in range(1, policy.overdue_max + 1):
        later = wall + timedelta(days=number * policy.overdue_every_days)
        nominal.append((_localize(later, zone), overdue_kind(number)))
    moments = [
        Due(leave_quiet_hours(moment, policy, zone), moment.astimezone(UTC), kind)
        for moment, kind in nominal
    ]
    # Reminders before the deadline must stay before it (a wrapped quiet window is < 24 h, so
    # this only guards unusual policies).
    moments = [m for m in moments if m.overdue or m.due_at < deadline]
    return _keep_most_urgent(moments)


def _keep_most_urgent(moments: Sequence[Due]) -> tuple[Due, ...]:
    by_time: dict[datetime, Due] = {}
    for moment in moments:
        kept = by_time.get(moment.due_at)
        if kept is None or moment.nominal > kept.nominal:
            by_time[moment.due_at] = moment
    return tuple(sorted(by_time.values()))


def latest_due(
    deadline: datetime,
    policy: ReminderPolicy,
    zone: ZoneInfo,
    now: datetime,
    *,
    catch_up: timedelta = DEFAULT_CATCH_UP,
) -> Due | None:
    """The reminder to send at `now`: the latest one due, unless it is older than `catch_up`.

    Only the latest counts: after an outage, or for a round created late, staff get one
    reminder about where things stand, not every reminder they missed in a row. A reminder
    more than `catch_up` late is dropped (the next one follows the policy), so a bot restarted
    after a long outage, or a user added long after a reminder, does not get a stale one.
    """
    passed = [m for m in reminder_times(deadline, policy, zone) if m.due_at <= now]
    if not passed or now - passed[-1].due_at > catch_up:
        return None
    return passed[-1]


def next_due(
    deadline: datetime, policy: ReminderPolicy, zone: ZoneInfo, now: datetime
) -> Due | None:
    """The first reminder still to come after `now` (for /policy's summary)."""
    return next((m for m in reminder_times(deadline, policy, zone) if m.due_at > now), None)


def manual_due(now: datetime, policy: ReminderPolicy, zone: ZoneInfo) -> datetime:
    """When a reminder asked for now (/remind) goes out: this minute, or the end of the quiet
    hours. Truncated to the minute so that pressing /remind twice in a minute plans it once."""
    return leave_quiet_hours(now.astimezone(UTC).replace(second=0, microsecond=0), policy, zone)


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("reminder times are computed from timezone-aware datetimes")
    return moment.astimezone(zone)


def _localize(wall: datetime, zone: ZoneInfo) -> datetime:
    """A local wall-clock time as an aware UTC datetime (a DST gap resolves forward)."""
    return wall.replace(tzinfo=zone).astimezone(UTC)


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return _localize(datetime.combine(day, clock), zone)
