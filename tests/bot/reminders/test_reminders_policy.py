"""/policy's settings text → ReminderPolicy and deadline."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.messages import Notice
from bot.reminders.policy import PolicyError, parse_settings
from storage.records import ReminderPolicy

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINE = datetime(2021, 3, 31, 17, 30, tzinfo=SHANGHAI)
BASE = ReminderPolicy()


@pytest.mark.parametrize(
    ("text", "changes", "deadline"),
    [
        ("提前=5,2", {"days_before": (5, 2)}, None),
        ("提前：7、3、1、3", {"days_before": (7, 3, 1)}, None),
        ("提前=无", {"days_before": ()}, None),
        ("提前=0", {"days_before": ()}, None),
        ("当天=关", {"remind_on_day": False}, None),
        ("逾期=每2天,4次", {"overdue_every_days": 2, "overdue_max": 4}, None),
        ("逾期=关", {"overdue_max": 0}, None),
        ("免打扰=22:00-07:30", {"quiet_start": time(22), "quiet_end": time(7, 30)}, None),
        ("免打扰=无", {"quiet_start": time(0), "quiet_end": time(0)}, None),
        ("日报=9", {"digest_hour": 9}, None),
        ("日报=关", {"digest_hour": None}, None),
        ("截止=2021-04-02 18:00", {}, datetime(2021, 4, 2, 18, tzinfo=SHANGHAI)),
        ("截止=2021年4月2日", {}, datetime(2021, 4, 2, 17, 30, tzinfo=SHANGHAI)),
        (
            "before=3 on_day=off overdue=1,1 quiet=off digest=0",
            {
                "days_before": (3,),
                "remind_on_day": False,
                "overdue_every_days": 1,
                "overdue_max": 1,
                "quiet_start": time(0),
                "quiet_end": time(0),
                "digest_hour": 0,
            },
            None,
        ),
    ],
)
def test_settings_are_read(
    text: str, changes: dict[str, object], deadline: datetime | None
) -> None:
    policy, new_deadline = parse_settings(text, BASE, DEADLINE, SHANGHAI)
    expected = ReminderPolicy(**{**BASE.__dict__, **changes})
    assert policy == expected
    assert new_deadline == (deadline or DEADLINE)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", Notice.POLICY_NOTHING_TO_CHANGE),
        ("你好", Notice.POLICY_UNREADABLE),
        ("提前=99", Notice.POLICY_DAYS_BEFORE),
        ("提前=x", Notice.POLICY_DAYS_BEFORE),
        ("当天=也许", Notice.POLICY_ON_DAY),
        ("逾期=3", Notice.POLICY_OVERDUE),
        ("免打扰=21点", Notice.POLICY_QUIET),
        ("免打扰=25:00-08:00", Notice.POLICY_QUIET_CLOCK),
        ("日报=25", Notice.POLICY_DIGEST),
        ("截止=明天", Notice.POLICY_DEADLINE_FORMAT),
        ("截止=2021-02-30", Notice.POLICY_DEADLINE_INVALID),
    ],
)
def test_unreadable_settings_are_refused_in_chinese(text: str, code: Notice) -> None:
    with pytest.raises(PolicyError) as refused:
        parse_settings(text, BASE, DEADLINE, SHANGHAI)
    assert refused.value.code is code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(refused.value))
