"""Tests of the Telegram Bot API fake itself, driven by a real PTB Application with a tiny echo
bot (not our bot)."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.support.fake_bot_api import (
    DEFAULT_TOKEN,
    EntityParseError,
    FakeBotApi,
    InlineButton,
    parse_html,
)
from tests.support.telegram_client import (
    ChatDriver,
    post_update_to_webhook,
    running_polling,
    running_webhook,
)

App = Application[Any, Any, Any, Any, Any, Any]
# PTB itself reads RetryAfter.retry_after while building the error message
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@dataclass
class EchoBot:
    app: App
    errors: list[BaseException] = field(default_factory=list)
    downloads: list[bytes] = field(default_factory=list)


def build_echo_bot(fake: FakeBotApi) -> EchoBot:
    app = fake.application_builder(DEFAULT_TOKEN).build()
    bot = EchoBot(app)

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(f"start {' '.join(context.args or [])}".strip())

    async def long(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("x" * 4097)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("再说一次", callback_data="again")],
                [InlineKeyboardButton("文档", url="https://example.org/doc")],
            ]
        )
        await update.message.reply_text(
            f"<b>echo</b>: {html.escape(update.message.text)}",
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard,
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer(f"got {query.data}")
        await query.edit_message_text(f"pressed {query.data}")

    async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.document is not None
        doc = update.message.document
        file = await context.bot.get_file(doc.file_id)
        data = bytes(await file.download_as_bytearray())
        bot.downloads.append(data)
        await update.message.reply_document(
            document=data[::-1], filename=f"反转-{doc.file_name}", caption=f"{len(data)} 字节"
        )

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.error is not None
        bot.errors.append(context.error)

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("long", long))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(MessageHandler(filters.Document.ALL, document))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_error_handler(on_error)
    return bot


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(default_timeout=3.0) as api:
        yield api
    assert api.errors == [], "the fake itself failed"


@pytest.fixture
async def echo(fake: FakeBotApi) -> AsyncIterator[EchoBot]:
    bot = build_echo_bot(fake)
    async with running_polling(bot.app):
        yield bot


@pytest.fixture
def alice(fake: FakeBotApi, echo: EchoBot) -> ChatDriver:
    return ChatDriver(fake, fake.user("Alice", username="alice"), app=echo.app)


# ---------------------------------------------------------------------------------- chatting


async def test_echo_roundtrip(fake: FakeBotApi, alice: ChatDriver) -> None:
    replies = await alice.say("你好 <世界> & co")

    assert len(replies) == 1
    reply = replies[0]
    assert reply.visible_text == "echo: 你好 <世界> & co"
    assert reply.text == "<b>echo</b>: 你好 &lt;世界&gt; &amp; co"
    assert reply.parse_mode == "HTML"
    assert reply.entities == [{"type": "bold", "offset": 0, "length": 4}]
    assert reply.reply_markup == [[("再说一次", "again")], [("文档", "https://example.org/doc")]]
    assert reply.buttons[1].kind == "url"
    assert [m.message_id for m in fake.transcript(alice.chat_id)] == [1, 2]
    assert alice.last_text == "echo: 你好 <世界> & co"
    assert alice.buttons() == ["再说一次", "文档"]
    assert fake.calls("sendMessage")[0].params["chat_id"] == alice.chat_id


async def test_command_gets_its_entity(fake: FakeBotApi, alice: ChatDriver) -> None:
    await alice.say("/start CODE123")
    assert alice.last_text == "start CODE123"
    update = fake.send_command(alice.user, None, "/start")
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    message = await fake.wait_for_message(alice.chat_id)
    assert message.visible_text == "start"


async def test_press_is_answered_and_edits(fake: FakeBotApi, alice: ChatDriver) -> None:
    await alice.say("hi")
    keyboard_message = alice.keyboard_message
    assert keyboard_message is not None

    replies = await alice.tap("再说")

    assert alice.last_answer is not None and alice.last_answer.text == "got again"
    assert [r.message_id for r in replies] == [keyboard_message.message_id]
    edited = fake.message(alice.chat_id, keyboard_message.message_id)
    assert edited.visible_text == "pressed again"
    assert edited.reply_markup is None  # editMessageText without markup drops the keyboard
    assert [v.visible_text for v in edited.history] == ["echo: hi"]
    assert alice.keyboard_message is None


async def test_press_low_level_returns_query_id(fake: FakeBotApi, alice: ChatDriver) -> None:
    await alice.say("hi")
    message = fake.sent(alice.chat_id)[-1]
    query_id = fake.press(alice.user, message, "again")
    answer = await fake.wait_callback_answer(query_id)
    assert answer.text == "got again"
    edited = await fake.wait_for_message(alice.chat_id)
    assert edited.visible_text == "pressed again" and edited.edited
    with pytest.raises(AssertionError, match="no button with callback_data"):
        fake.press(alice.user, message, "forged")


async def test_unanswered_press_fails_the_driver(fake: FakeBotApi) -> None:
    app = fake.application_builder().build()

    async def silent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        return None

    app.add_handler(CallbackQueryHandler(silent))
    user = fake.user("Bob")
    async with running_polling(app):
        await app.bot.send_message(
            user.id,
            "choose",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]]),
        )
        driver = ChatDriver(fake, user, app=app)
        with pytest.raises(AssertionError, match="did not answer callback query"):
            await driver.tap("A")


async def test_driver_without_app_waits_for_quiet(fake: FakeBotApi, echo: EchoBot) -> None:
    driver = ChatDriver(fake, fake.user("Finn"), quiet=0.03)  # e.g. a bot in a subprocess
    replies = await driver.say("ping")
    assert [r.visible_text for r in replies] == ["echo: ping"]
    replies = await driver.tap("再说一次")
    assert [r.visible_text for r in replies] == ["pressed again"]
    assert driver.last_answer is not None
    fake.send_text(driver.user, None, "pong")
    assert (await fake.wait_for_message(driver.chat_id)).visible_text == "echo: pong"
    await fake.wait_idle(quiet=0.03)
    assert driver.last_text == "echo: pong"


async def test_group_text(fake: FakeBotApi, echo: EchoBot) -> None:
    user = fake.user("Carol")
    group = fake.group("预算科", chat_type="supergroup")
    fake.send_group_text(user, group, "大家好")
    reply = await fake.wait_for_message(group.id)
    assert reply.visible_text == "echo: 大家好"
    assert group.id < 0 and fake.chat(group.id).type == "supergroup"


async def test_document_roundtrip(fake: FakeBotApi, echo: EchoBot, alice: ChatDriver) -> None:
    content = bytes(range(256)) * 10
    replies = await alice.upload("绩效目标表.xlsx", content, caption="请看")

    assert echo.downloads == [content]
    [reply] = replies
    assert reply.document is not None
    assert reply.document.filename == "反转-绩效目标表.xlsx"
    assert reply.document.data == content[::-1]
    assert reply.document.caption == "2560 字节" == reply.visible_text
    assert fake.calls("getFile")[0].ok
    # the bot can resend the stored document by file_id
    again = await echo.app.bot.send_document(alice.chat_id, reply.document.file_id)
    assert fake.sent(alice.chat_id)[-1].document == dataclasses.replace(
        reply.document, caption=None
    )
    assert again.document is not None and again.document.file_size == len(content)


# ------------------------------------------------------------------------------- validation


async def test_too_long_message_is_bad_request(
    fake: FakeBotApi, echo: EchoBot, alice: ChatDriver
) -> None:
    await alice.say("/long", expect_reply=False)
    assert len(echo.errors) == 1
    assert isinstance(echo.errors[0], BadRequest)
    assert "too long" in str(echo.errors[0])
    # length counts after entity parsing: 4096 visible characters inside tags are fine
    bot = echo.app.bot
    ok = await bot.send_message(alice.chat_id, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")
    assert ok.text == "&" * 4096
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.send_message(alice.chat_id, "<b>" + "额" * 4097 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)text is empty"):
        await bot.send_message(alice.chat_id, "  <b> </b> ", parse_mode="HTML")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 < 2", 'Unsupported start tag ""'),
        ("a & b", 'Unescaped "&"'),
        ("<foo>x</foo>", 'Unsupported start tag "foo"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag"),
        ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<b", "Unclosed start tag"),
    ],
)
def test_parse_html_errors(text: str, message: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(text)
    assert message in str(caught.value)


def test_parse_html_entities() -> None:
    text, entities = parse_html(
        '😀 <b>粗<i>斜</i></b> <a href="https://x.org/?a=1&amp;b=2">链接</a> &#65;&#x42;&quot;'
        '<pre><code class="language-python">x</code></pre><tg-spoiler>s</tg-spoiler>'
        "<blockquote expandable>q</blockquote>"
    )
    assert text == '😀 粗斜 链接 AB"xsq'
    assert entities == [
        {"type": "bold", "offset": 3, "length": 2},  # the emoji is 2 UTF-16 units
        {"type": "italic", "offset": 4, "length": 1},
        {"type": "text_link", "offset": 6, "length": 2, "url": "https://x.org/?a=1&b=2"},
        {"type": "pre", "offset": 12, "length": 1, "language": "python"},
        {"type": "spoiler", "offset": 13, "length": 1},
        {"type": "expandable_blockquote", "offset": 14, "length": 1},
    ]
    assert parse_html("a & b", strict_ampersand=False)[0] == "a & b"


async def test_html_errors_reach_the_bot(fake: FakeBotApi, echo: EchoBot) -> None:
    user = fake.user()
    with pytest.raises(BadRequest, match=r"(?i)an't parse entities"):
        await echo.app.bot.send_message(user.id, "<b>x", parse_mode="HTML")
    assert fake.sent(user.id) == []


async def test_keyboard_validation(fake: FakeBotApi, echo: EchoBot) -> None:
    user = fake.user()
    bot = echo.app.bot

    def markup(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data=data)]])

    await bot.send_message(user.id, "ok", reply_markup=markup("测" * 21))  # 63 bytes
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(user.id, "no", reply_markup=markup("测" * 22))  # 66 bytes
    [sent] = fake.sent(user.id)
    assert sent.reply_markup == [[InlineButton("b", "测" * 21)]]


async def test_edit_errors(fake: FakeBotApi, echo: EchoBot) -> None:
    user = fake.user()
    bot = echo.app.bot
    sent = await bot.send_message(user.id, "<b>a</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("<b>a</b>", user.id, sent.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("b", user.id, sent.message_id + 5)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("k", callback_data="k")]])
    await bot.edit_message_reply_markup(user.id, sent.message_id, reply_markup=markup)
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_reply_markup(user.id, sent.message_id, reply_markup=markup)
    assert await bot.delete_message(user.id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("c", user.id, sent.message_id)
    stored = fake.sent(user.id)[0]
    assert stored.deleted and stored.reply_markup == [[("k", "k")]] and len(stored.history) == 1


async def test_blocked_user_and_unknown_chat(fake: FakeBotApi, echo: EchoBot) -> None:
    user = fake.user()
    fake.block(user.id)
    with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
        await echo.app.bot.send_message(user.id, "hi")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await echo.app.bot.send_message(999_999_999, "hi")


async def test_answer_unknown_query(fake: FakeBotApi, echo: EchoBot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await echo.app.bot.answer_callback_query("12345")


# -------------------------------------------------------------------------- fault injection


async def test_429_is_reported_as_retry_after(
    fake: FakeBotApi, echo: EchoBot, alice: ChatDriver
) -> None:
    fault = fake.fail_next("sendMessage", 1, status=429, retry_after=3)
    await alice.say("first", expect_reply=False)
    assert fault.fired == 1
    assert len(echo.errors) == 1 and isinstance(echo.errors[0], RetryAfter)
    assert "Retry in 3 seconds" in str(echo.errors[0])
    assert fake.sent(alice.chat_id) == []
    replies = await alice.say("second")
    assert replies[0].visible_text == "echo: second"


async def test_500_drop_and_delay(fake: FakeBotApi, echo: EchoBot) -> None:
    user = fake.user()
    bot = echo.app.bot
    fake.fail_next(None, 1, status=500)  # method=None: any method except getUpdates
    with pytest.raises(NetworkError, match=r"(?i)Internal Server Error"):
        await bot.send_message(user.id, "a")
    fake.fail_next("sendMessage", 1, drop=True)
    with pytest.raises(NetworkError):
        await bot.send_message(user.id, "b")
    assert fake.calls("sendMessage")[-1].fault == "drop"
    fake.fail_next("sendMessage", 1, drop=True, processed=True)  # sent, but the answer is lost
    with pytest.raises(NetworkError):
        await bot.send_message(user.id, "c")
    fake.delay_next("sendMessage", seconds=0.3)
    with pytest.raises(TimedOut):
        await bot.send_message(user.id, "d", read_timeout=0.05)
    await fake.wait_for_call("sendMessage", lambda call: call.params["text"] == "d")
    assert [m.visible_text for m in fake.sent(user.id)] == ["c", "d"]
    await bot.send_message(user.id, "e")
    assert [m.message_id for m in fake.sent(user.id)] == [1, 2, 3]


async def test_rate_limit(fake: FakeBotApi, echo: EchoBot) -> None:
    user = fake.user()
    bot = echo.app.bot
    limit = fake.rate_limit(per_second=2, retry_after=7)
    await bot.send_message(user.id, "1")
    await bot.send_chat_action(user.id, "typing")
    with pytest.raises(RetryAfter, match=r"(?i)Retry in 7 seconds"):
        await bot.send_message(user.id, "3")
    assert limit is not None and limit.rejected == 1
    fake.rate_limit(None)
    await bot.send_message(user.id, "4")
    assert fake.chat_actions[0][:2] == (user.id, "typing")


# ------------------------------------------------------------------- commands, raw protocol


async def test_set_my_commands_is_recorded(fake: FakeBotApi, echo: EchoBot) -> None:
    bot = echo.app.bot
    await bot.set_my_commands([BotCommand("start", "开始"), BotCommand("help", "帮助")])
    await bot.set_my_commands(
        [BotCommand("fill", "填报")], scope=BotCommandScopeAllPrivateChats(), language_code="zh"
    )
    assert fake.get_commands() == [("start", "开始"), ("help", "帮助")]
    assert fake.get_commands("all_private_chats", "zh") == [("fill", "填报")]
    assert fake.get_commands("all_private_chats") == []
    got = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="zh")
    assert [(c.command, c.description) for c in got] == [("fill", "填报")]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    await bot.delete_my_commands()
    assert fake.get_commands() == []


async def test_raw_protocol(fake: FakeBotApi) -> None:
    base = f"{fake.api_base_url}{DEFAULT_TOKEN}"
    async with httpx.AsyncClient(trust_env=False) as client:
        unknown = await client.post(f"{base}/sendPhotoOfCat", json={"chat_id": 1})
        assert unknown.status_code == 404
        assert unknown.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }
        me = (await client.get(f"{base}/getme")).json()
        assert me["ok"] and me["result"]["id"] == 123456 and me["result"]["is_bot"]

        user = fake.user()
        first = fake.send_text(user, None, "one")["update_id"]
        second = fake.send_text(user, None, "two")["update_id"]
        got = (await client.post(f"{base}/getUpdates", data={"timeout": "0"})).json()
        assert [u["update_id"] for u in got["result"]] == [first, second]
        got = (await client.post(f"{base}/getUpdates", json={"offset": second})).json()
        assert [u["update_id"] for u in got["result"]] == [second]
        assert [u["update_id"] for u in fake.pending_updates] == [second]

        # a long poll returns as soon as an update arrives
        fake.long_poll_cap = 5.0
        started = time.monotonic()
        mark = len(fake.requests)
        poll = asyncio.create_task(
            client.post(f"{base}/getUpdates", json={"offset": second + 1, "timeout": 30})
        )
        await fake.wait_for_call("getUpdates", completed=False, after=mark)
        third = fake.send_text(user, None, "three")["update_id"]
        result = (await poll).json()["result"]
        assert [u["update_id"] for u in result] == [third]
        assert time.monotonic() - started < 2.5
        assert fake.pending_updates and not fake.calls("sendMessage")

        # a second getUpdates terminates the first one with 409
        fake.long_poll_cap = 0.5
        mark = len(fake.requests)
        older = asyncio.create_task(
            client.post(f"{base}/getUpdates", json={"offset": third + 1, "timeout": 5})
        )
        await fake.wait_for_call("getUpdates", completed=False, after=mark)
        newer = await client.post(f"{base}/getUpdates", json={"offset": third + 1, "timeout": 0})
        assert (await older).status_code == 409
        assert newer.json() == {"ok": True, "result": []}

        missing = await client.get(f"{fake.url}/file/bot{DEFAULT_TOKEN}/documents/nope")
        assert missing.status_code == 404


async def test_wait_timeout_shows_transcript(fake: FakeBotApi) -> None:
    user = fake.user("Dora")
    fake.send_text(user, None, "anyone there?")
    with pytest.raises(AssertionError) as caught:
        await fake.wait_for_message(user.id, timeout=0.05)
    report = str(caught.value)
    assert "[user #1] anyone there?" in report
    assert "not yet fetched by the bot" in report


# ------------------------------------------------------------------------------------ webhook


async def test_webhook_mode(fake: FakeBotApi) -> None:
    bot = build_echo_bot(fake)
    async with running_webhook(bot.app, secret_token="s3cret") as url:
        assert fake.webhook.url == url and fake.webhook.secret_token == "s3cret"
        driver = ChatDriver(fake, fake.user("Eve"), app=bot.app)
        replies = await driver.say("via webhook")
        assert replies[0].visible_text == "echo: via webhook"
        assert fake.webhook_deliveries[-1].status == 200

        update = {
            "update_id": 5,
            "message": {
                "message_id": 99,
                "date": int(time.time()),
                "chat": {"id": driver.chat_id, "type": "private", "first_name": "Eve"},
                "from": {"id": driver.chat_id, "is_bot": False, "first_name": "Eve"},
                "text": "direct",
            },
        }
        mark = fake.mark()
        refused = await post_update_to_webhook(url, update, secret_token="wrong")
        assert refused.status_code == 403
        accepted = await post_update_to_webhook(url, update, secret_token="s3cret")
        assert accepted.status_code == 200
        reply = await fake.wait_for_message(driver.chat_id, after=mark)
        assert reply.visible_text == "echo: direct"

        base = f"{fake.api_base_url}{DEFAULT_TOKEN}"
        async with httpx.AsyncClient(trust_env=False) as client:
            conflict = await client.post(f"{base}/getUpdates")
        assert conflict.status_code == 409
