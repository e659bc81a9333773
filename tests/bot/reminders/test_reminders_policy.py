"""/policy's settings text → ReminderPolicy and deadline."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

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
    "text",
    ["", "你好", "提前=99", "提前=x", "当天=也许", "逾期=3", "免打扰=21点", "日报=25", "截止=明天"],
)
def test_unreadable_settings_are_refused_in_chinese(text: str) -> None:
    with pytest.raises(PolicyError) as refused:
        parse_settings(text, BASE, DEADLINE, SHANGHAI)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(refused.value))
