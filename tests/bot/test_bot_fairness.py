"""Fairness under a flood, over the real Application and the loopback fake Bot API: one account
sending hundreds of messages holds at most a few of the bot's concurrent-update slots, gets one
polite notice for the messages dropped beyond that, and everyone else is answered within a
second meanwhile. Replies are paced per chat as in production (faster, to keep the test short),
so the flooder's queued updates really take time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot import messages
from bot.ratelimit import Pacing, RetryingRateLimiter
from bot.updates import PER_USER_LIMIT
from tests.support.bot import BotEnv

pytestmark = pytest.mark.slow
FLOOD = 300
PACED = Pacing(chat_interval=0.1, chat_burst=1, group_interval=0.0, global_per_second=0.0)


def paced_limiter() -> RetryingRateLimiter:
    return RetryingRateLimiter(base_delay=0.02, max_delay=0.1, pacing=PACED)


async def test_a_flooding_account_does_not_hold_up_anyone_else(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path, reminders=False, limiter=paced_limiter) as env:
        fake = env.fake
        await env.admin.say("/help")
        others = [env.person(name) for name in ("周一", "吴二", "郑三")]
        flooder = fake.user("刷屏者")
        update_ids = [
            int(fake.send_text(flooder, None, f"第{n}条消息")["update_id"]) for n in range(FLOOD)
        ]
        await fake.wait_confirmed(update_ids[-1])  # the whole flood is in the bot's hands

        # Meanwhile, others write: each is answered within a second.
        for person in [env.admin, *others]:
            mark = fake.mark()
            started = time.monotonic()
            fake.send_text(person.user, None, "/help")
            await fake.wait_for_message(person.chat_id, after=mark, timeout=10.0)
            waited = time.monotonic() - started
            assert waited < 1.0, f"{person.user.first_name} waited {waited:.1f}s"

        # The flood drains: a bounded number of replies, and exactly one notice.
        await fake.wait_idle(quiet=0.5, timeout=60.0)
        sent = [m.visible_text for m in fake.sent(flooder.id)]
        assert sent.count(messages.FLOOD_NOTICE) == 1, sent
        answered = [text for text in sent if text != messages.FLOOD_NOTICE]
        assert set(answered) == {messages.JOIN_EXPLANATION}
        # Each update was either answered or dropped at once; a few more than the limit are
        # answered because the flood arrives in batches while the first ones are handled.
        assert env.app.update_processor.dropped == FLOOD - len(answered)
        assert PER_USER_LIMIT <= len(answered) <= 3 * PER_USER_LIMIT, len(answered)

        # After the flood, the account is served normally again, and a new flood gets a new
        # notice (one per flood, not one per dropped message).
        mark = fake.mark()
        fake.send_text(flooder, None, "你好")
        await fake.wait_for_message(flooder.id, after=mark, timeout=10.0)
        for n in range(3 * PER_USER_LIMIT):
            fake.send_text(flooder, None, f"又一条{n}")
        await fake.wait_idle(quiet=0.5, timeout=60.0)
        sent = [m.visible_text for m in fake.sent(flooder.id)]
        assert sent.count(messages.FLOOD_NOTICE) == 2, sent
