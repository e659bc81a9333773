"""The fake Bot API refuses and answers as Telegram does where the bot relies on it: the 4,096
limit on what the user sees, HTML, a callback query answered once, "message is not modified",
blocked users, file downloads; in process and over HTTP alike."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError

from tests.support.fake_bot_api import DEFAULT_TOKEN, FakeBotApi


@pytest.fixture(params=["in process", "over HTTP"])
async def api(request: pytest.FixtureRequest) -> AsyncIterator[tuple[FakeBotApi, Bot]]:
    fake = FakeBotApi()
    if request.param == "in process":
        bot = Bot(DEFAULT_TOKEN, request=fake.request(), get_updates_request=fake.request())
        async with bot:
            yield fake, bot
        return
    async with fake:
        bot = Bot(DEFAULT_TOKEN, base_url=fake.api_base_url, base_file_url=fake.file_base_url)
        async with bot:
            yield fake, bot


async def test_the_limit_is_on_what_the_user_sees(api: tuple[FakeBotApi, Bot]) -> None:
    fake, bot = api
    chat = fake.user("甲").id
    text = "<b>" + "字" * 4096 + "</b>"
    sent = await bot.send_message(chat, text, parse_mode=ParseMode.HTML)
    assert fake.sent(chat)[0].visible_text == "字" * 4096 and sent.text == "字" * 4096
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.send_message(chat, "字" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(chat, "<b>1 < 2</b>", parse_mode=ParseMode.HTML)
    assert len(fake.sent(chat)) == 1


async def test_a_button_press_is_answered_once_and_edits_must_change_something(
    api: tuple[FakeBotApi, Bot],
) -> None:
    fake, bot = api
    user = fake.user("甲")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("好", callback_data="ok")]])
    sent = await bot.send_message(user.id, "选一个", reply_markup=keyboard)
    query = fake.press(user, fake.sent(user.id)[0], "ok")
    assert await bot.answer_callback_query(query)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query)
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_reply_markup(user.id, sent.message_id, reply_markup=keyboard)
    await bot.edit_message_reply_markup(user.id, sent.message_id, reply_markup=None)
    assert fake.sent(user.id)[0].reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        too_long = InlineKeyboardButton("长", callback_data="x" * 65)
        await bot.send_message(user.id, "选", reply_markup=InlineKeyboardMarkup([[too_long]]))


async def test_uploads_download_and_refusals(api: tuple[FakeBotApi, Bot]) -> None:
    fake, bot = api
    user = fake.user("甲")
    update = fake.send_document(user, None, "表.xlsx", b"PK\x03\x04 data")
    file = await bot.get_file(update["message"]["document"]["file_id"])
    assert bytes(await file.download_as_bytearray()) == b"PK\x03\x04 data"
    await bot.send_document(user.id, b"%PDF-1.7", filename="表.pdf", caption="PDF")
    document = fake.sent(user.id)[0].document
    assert document is not None and (document.filename, document.data) == ("表.pdf", b"%PDF-1.7")
    fake.block(user.id)
    with pytest.raises(Forbidden):
        await bot.send_message(user.id, "你好")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "你好")
    fault = fake.fail_next("getMe", drop=True)
    with pytest.raises(NetworkError):
        await bot.get_me()
    assert fault.fired == 1 and fake.calls("getMe")[-1].status == 0
