"""The bot's parts without a chat: callback ids, keyboards, HTML rendering and splitting, the
per-user update order, and the retrying rate limiter."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from telegram import Chat, Message, Update, User

from bot.keyboards import (
    MAX_CALLBACK_BYTES,
    ExportPress,
    FormOp,
    FormPress,
    ImportPress,
    InvitePress,
    JumpPress,
    MenuOp,
    MenuPress,
    RoundPress,
    StepPress,
    decode,
    encode,
    prompt_keyboard,
)
from bot.render import Line, html_messages
from bot.split import LIMIT
from bot.split import units as visible_length
from bot.updates import PerUserOrderedProcessor
from dialogs.actions import FilingContext
from dialogs.engine import Engine
from dialogs.loader import get_layout
from dialogs.state import FormState
from storage.records import Role
from tests.support.fake_bot_api import parse_html

# PTB 22 warns about its own RetryAfter int/timedelta migration when one is raised.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
BIG = 999_999_999_999


@pytest.mark.parametrize(
    "callback",
    [
        StepPress(12, 3, 4),
        StepPress(BIG, BIG, 999),
        JumpPress(BIG, BIG, "g:key_tasks:12:goal!edit"),
        FormPress(FormOp.SUBMIT, 7, 8),
        FormPress(FormOp.CONFIRM, 7, 8),
        FormPress(FormOp.REVIEW, 7, 8),
        MenuPress(MenuOp.TABLE_A),
        MenuPress(MenuOp.OPEN, 42),
        MenuPress(MenuOp.NEW, 5),
        MenuPress(MenuOp.PAUSE),
        ExportPress(3),
        InvitePress(Role.SUPERVISOR),
        InvitePress(Role.STAFF, 9, create=True),
        InvitePress(Role.DISTRICT_SUPERVISOR, None, create=True),
        RoundPress(2021, date(2021, 3, 31), "2023"),
        ImportPress(True),
        ImportPress(False),
        ExportPress(0),
    ],
)
def test_callback_ids_round_trip_within_64_bytes(callback: object) -> None:
    data = encode(callback)  # type: ignore[arg-type]
    assert data.isascii() and len(data.encode()) <= MAX_CALLBACK_BYTES
    assert decode(data) == callback


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "s:1:2",
        "s:-1:0:0",
        "s:01:0:0",
        "s:1:1:1000",
        "s:1:1:1:1",
        "x:2",
        "x:1:1",
        "m:z",
        "i:a",
        "n:2021:20210231:2021",
        "j:1:1:" + "a" * 60,
        "s:１:1:1",
        "e:1;DROP",
    ],
)
def test_malformed_callback_ids_are_rejected(data: str | None) -> None:
    assert decode(data) is None


def test_prompt_keyboard_offers_every_button_plus_pause() -> None:
    definition = get_layout("2021").table_c
    engine = Engine(definition)
    state = engine.resume(FormState())
    prompt = engine.prompt(state, FilingContext(year=2021, department_name="部门"))
    keyboard = prompt_keyboard(5, 0, prompt)
    assert keyboard is not None
    buttons = [b for row in keyboard.inline_keyboard for b in row]
    data = [b.callback_data for b in buttons]
    assert len(buttons) == len(prompt.buttons) + len(prompt.row_buttons) + 2
    assert "m:p" in data and all(isinstance(d, str) and len(d) <= 64 for d in data)
    assert [b.text for b in buttons][-2].startswith("⏸")


def test_long_text_is_split_escaped_and_parseable() -> None:
    hostile = "<b>不是标签</b> & 5 < 6 > 4 "
    lines: list[Line | str] = [Line("标题 <i>", "b"), hostile * 400, Line("提示 & 例", "i")]
    lines.append("尾" * 5000)
    messages = html_messages(lines)
    assert len(messages) >= 3
    seen = ""
    for message in messages:
        visible = parse_html(message)
        assert visible_length(visible) <= LIMIT
        seen += visible
    assert "<b>不是标签</b>" in seen and "标题 <i>" in seen
    assert messages[0].startswith("<b>标题 &lt;i&gt;</b>")


def _update(user_id: int, update_id: int) -> Update:
    user = User(user_id, "u", False)
    message = Message(update_id, datetime.now(UTC), Chat(user_id, "private"), from_user=user)
    return Update(update_id, message=message)


async def test_one_users_updates_in_order_others_concurrently() -> None:
    processor = PerUserOrderedProcessor()
    events: list[str] = []

    async def work(name: str, delay: float) -> None:
        events.append(f"{name}+")
        await asyncio.sleep(delay)
        events.append(f"{name}-")

    tasks = [
        asyncio.create_task(processor.process_update(_update(1, 1), work("a1", 0.05))),
        asyncio.create_task(processor.process_update(_update(1, 2), work("a2", 0.0))),
        asyncio.create_task(processor.process_update(_update(2, 3), work("b1", 0.0))),
    ]
    await asyncio.gather(*tasks)
    assert events.index("a1-") < events.index("a2+")  # user 1 strictly in order
    assert events.index("b1-") < events.index("a1-")  # user 2 did not wait for user 1
    assert processor.active_users == 0


async def test_one_user_holds_at_most_the_limit_and_gets_one_notice_per_flood() -> None:
    processor = PerUserOrderedProcessor(per_user_limit=3)
    floods: list[int] = []
    processor.on_flood = lambda update: floods.append(update.update_id)
    release = asyncio.Event()
    handled: list[int] = []

    async def work(update_id: int) -> None:
        await release.wait()
        handled.append(update_id)

    async def other() -> None:
        handled.append(0)

    tasks = [
        asyncio.create_task(processor.process_update(_update(1, n), work(n)))
        for n in range(1, 11)
    ]
    await asyncio.sleep(0.01)
    # Seven of user 1's updates were dropped at once (one notice); user 2 is not held up.
    assert processor.dropped == 7 and floods == [4]
    assert processor.current_concurrent_updates == 3
    await asyncio.wait_for(processor.process_update(_update(2, 99), other()), 1.0)
    release.set()
    await asyncio.gather(*tasks)
    assert handled == [0, 1, 2, 3] and processor.active_users == 0
    # The flood is over: a new one gets its own notice.
    release.clear()
    tasks = [
        asyncio.create_task(processor.process_update(_update(1, n), work(n)))
        for n in range(11, 16)
    ]
    await asyncio.sleep(0.01)
    release.set()
    await asyncio.gather(*tasks)
    assert floods == [4, 14] and processor.dropped == 9


