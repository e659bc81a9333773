"""/policy in chat: reading "key=value" settings into a ReminderPolicy (and a new deadline).

    /policy 提前=7,3,1 当天=开 逾期=每3天,3次 免打扰=21:00-08:00 日报=9 截止=2021-03-31 17:00

Keys have Chinese and English names; a key left out keeps its value; 无/关/off switches a part
off. Values may contain spaces (the deadline's time), so the text is split at the keys.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.messages import Notice, Refused
from storage.records import ReminderPolicy

KEYS = {
    "提前": "before",
    "before": "before",
    "当天": "on_day",
    "on_day": "on_day",
    "逾期": "overdue",
    "overdue": "overdue",
    "免打扰": "quiet",
    "quiet": "quiet",
    "日报": "digest",
    "digest": "digest",
    "截止": "deadline",
    "deadline": "deadline",
}
EXAMPLE = (
    "/policy 提前=7,3,1 当天=开 逾期=每3天,3次 免打扰=21:00-08:00 日报=9 截止=2021-03-31 17:00"
)
OFF = frozenset({"无", "关", "否", "不", "off", "no", "none", "0"})
ON = frozenset({"开", "是", "on", "yes", "1"})
_KEY_NAMES = "|".join(sorted(map(re.escape, KEYS), key=len, reverse=True))
_SPLIT = re.compile(rf"(?:^|\s+)({_KEY_NAMES})\s*[=＝:：]\s*", re.IGNORECASE)
_CLOCK = re.compile(r"(\d{1,2})[:：](\d{2})")
_DEADLINE = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[\sT_]+(\d{1,2})[:：](\d{2}))?"
)
DEFAULT_DEADLINE_TIME = time(17, 30)  # a date alone means the end of that working day
MAX_DAYS = 60


class PolicyError(Refused, ValueError):
    """A setting that cannot be read; the message is for the user, the code for tests."""

    def __init__(self, code: Notice, **params: str) -> None:
        super().__init__(code, params)


def parse_settings(
    text: str, policy: ReminderPolicy, deadline: datetime, zone: ZoneInfo
) -> tuple[ReminderPolicy, datetime]:
    """The policy and deadline after applying `text` (raises PolicyError)."""
    pieces = _SPLIT.split(text.strip())
    if pieces[0].strip():
        raise PolicyError(Notice.POLICY_UNREADABLE, text=pieces[0].strip(), example=EXAMPLE)
    values: dict[str, str] = {}
    for key, value in zip(pieces[1::2], pieces[2::2], strict=True):
        values[KEYS[key.lower()]] = value.strip()
    if not values:
        raise PolicyError(Notice.POLICY_NOTHING_TO_CHANGE, example=EXAMPLE)
    changes: dict[str, object] = {}
    for name, value in values.items():
        if name == "deadline":
            deadline = parse_deadline(value, zone)
        else:
            changes.update(_PARSERS[name](value))
    try:
        return replace(policy, **changes), deadline  # type: ignore[arg-type]
    except ValueError as error:
        raise PolicyError(Notice.POLICY_INVALID, detail=str(error)) from None


def _is_off(value: str) -> bool:
    return value.lower() in OFF


def _before(value: str) -> dict[str, object]:
    if _is_off(value):
        return {"days_before": ()}
    days = [int(d) for d in re.findall(r"\d+", value)]
    if not days or any(not 1 <= d <= MAX_DAYS for d in days):
        raise PolicyError(Notice.POLICY_DAYS_BEFORE, max_days=str(MAX_DAYS))
    return {"days_before": tuple(sorted(set(days), reverse=True))}


def _on_day(value: str) -> dict[str, object]:
    if value.lower() in ON:
        return {"remind_on_day": True}
    if _is_off(value):
        return {"remind_on_day": False}
    raise PolicyError(Notice.POLICY_ON_DAY)


def _overdue(value: str) -> dict[str, object]:
    if _is_off(value):
        return {"overdue_max": 0}
    numbers = [int(n) for n in re.findall(r"\d+", value)]
    if len(numbers) != 2 or not 1 <= numbers[0] <= MAX_DAYS or not 0 <= numbers[1] <= 20:
        raise PolicyError(Notice.POLICY_OVERDUE)
    return {"overdue_every_days": numbers[0], "overdue_max": numbers[1]}


def _quiet(value: str) -> dict[str, object]:
    if _is_off(value):
        return {"quiet_start": time(0, 0), "quiet_end": time(0, 0)}
    clocks = _CLOCK.findall(value)
    if len(clocks) != 2:
        raise PolicyError(Notice.POLICY_QUIET)
    try:
        start, end = (time(int(h), int(m)) for h, m in clocks)
    except ValueError:
        raise PolicyError(Notice.POLICY_QUIET_CLOCK) from None
    return {"quiet_start": start, "quiet_end": end}


def _digest(value: str) -> dict[str, object]:
    if value.lower() in OFF - {"0"}:
        return {"digest_hour": None}
    match = re.fullmatch(r"(\d{1,2})(?:[:：]00|点|时)?", value)
    if match is None or not 0 <= int(match.group(1)) <= 23:
        raise PolicyError(Notice.POLICY_DIGEST)
    return {"digest_hour": int(match.group(1))}


_PARSERS = {
    "before": _before,
    "on_day": _on_day,
    "overdue": _overdue,
    "quiet": _quiet,
    "digest": _digest,
}


def parse_deadline(value: str, zone: ZoneInfo) -> datetime:
    """2021-03-31 17:00 (local time); a date alone means 17:30 that day."""
    match = _DEADLINE.fullmatch(value.strip())
    if match is None:
        raise PolicyError(Notice.POLICY_DEADLINE_FORMAT)
    year, month, day, hour, minute = match.groups()
    clock = DEFAULT_DEADLINE_TIME if hour is None else None
    try:
        if clock is None:
            clock = time(int(hour), int(minute))
        return datetime.combine(date(int(year), int(month), int(day)), clock, zone)
    except ValueError:
        raise PolicyError(Notice.POLICY_DEADLINE_INVALID) from None
