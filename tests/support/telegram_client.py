"""A high-level test driver for chatting with the bot through `FakeBotApi`.

    fake = FakeBotApi()
    app = build_application(settings, database, request=fake.request(),
                            get_updates_request=fake.request())
    async with running_polling(app):
        alice = ChatDriver(fake, fake.user("Alice"), app=app)
        replies = await alice.say("/start")
        assert "欢迎" in alice.last_text
        await alice.tap("开始填报")

`say`/`tap`/`upload` send one update and return the bot's replies once the bot has finished
with it. With `app=` (the PTB Application) that is deterministic: the fake sees the update
confirmed (PTB queued it), then `app.update_queue.join()` returns when PTB has processed it, and
the fake has no call in flight. Without `app` (a bot in another process) the driver waits for a
first reply and then for `quiet` seconds without bot API calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from tests.support.fake_bot_api import (
    DEFAULT_TOKEN,
    BotMessage,
    FakeBotApi,
    TgUser,
    post_update_to_webhook,
)
from tests.support.fake_bot_records import CallbackAnswer, TgChat
from tests.support.processes import free_port

if TYPE_CHECKING:
    from telegram.ext import Application

__all__ = [
    "DEFAULT_TOKEN",
    "ChatDriver",
    "free_port",
    "post_update_to_webhook",
    "running_polling",
]


class ChatDriver:
    """One user chatting with the bot (their private chat, or `chat` for a group)."""

    def __init__(
        self,
        fake: FakeBotApi,
        user: TgUser | None = None,
        chat: TgChat | None = None,
        *,
        app: Application[Any, Any, Any, Any, Any, Any] | None = None,
        timeout: float | None = None,
        quiet: float = 0.05,
        settle_quiet: float = 0.01,
        check_answered: bool = True,
    ) -> None:
        """timeout: per action (default fake.default_timeout). quiet: without `app`, how long the
        bot must be silent after its first reply. settle_quiet: with `app`, the silence required
        after PTB finished the update (covers non-blocking handlers). check_answered: `tap`
        fails unless the bot answered the callback query."""
        self.fake = fake
        self.user = user if user is not None else fake.user()
        self.chat = fake.register_chat(chat if chat is not None else self.user.private_chat)
        self.app = app
        self.timeout = fake.default_timeout if timeout is None else timeout
        self.quiet = quiet
        self.settle_quiet = settle_quiet
        self.check_answered = check_answered
        self.last_replies: list[BotMessage] = []
        self.last_query_id: str | None = None

    # ------------------------------------------------------------------------------ actions

    @property
    def chat_id(self) -> int:
        return self.chat.id

    async def say(self, text: str, *, expect_reply: bool = True) -> list[BotMessage]:
        """Send a text (a leading /command gets its bot_command entity) and return the bot
        messages sent or edited in this chat while handling it (latest state, each once)."""
        mark = self.fake.mark()
        update = self.fake.send_text(self.user, self.chat, text)
        return await self._settle(update["update_id"], mark, expect_reply=expect_reply)

    async def command(self, text: str, *, expect_reply: bool = True) -> list[BotMessage]:
        if not text.startswith("/"):
            text = "/" + text
        return await self.say(text, expect_reply=expect_reply)

    async def upload(
        self,
        filename: str,
        data: bytes,
        mime_type: str | None = None,
        *,
        caption: str | None = None,
        expect_reply: bool = True,
    ) -> list[BotMessage]:
        """Send a document; the bot can getFile + download it."""
        mark = self.fake.mark()
        update = self.fake.send_document(
            self.user, self.chat, filename, data, mime_type, caption=caption
        )
        return await self._settle(update["update_id"], mark, expect_reply=expect_reply)

    async def tap(
        self,
        label: str,
        *,
        message: BotMessage | None = None,
        exact: bool = False,
        expect_reply: bool = False,
    ) -> list[BotMessage]:
        """Press the inline button whose label contains `label` (or equals it: `exact`, and an
        exact match always wins) in `message`, by default the latest bot message with an
        inline keyboard. Returns the messages sent or edited meanwhile (the pressed message
        too if the bot edited it)."""
        target = self._current(message) if message is not None else self.keyboard_message
        if target is None:
            raise AssertionError(
                f"no bot message with an inline keyboard in chat {self.chat_id}\n"
                + self.fake.format_transcript(self.chat_id)
            )
        button = target.button(label, exact=exact)
        return await self.press(button.callback_data, message=target, expect_reply=expect_reply)

    async def press(
        self,
        callback_data: str,
        *,
        message: BotMessage | None = None,
        expect_reply: bool = False,
        check: bool = True,
    ) -> list[BotMessage]:
        """Press a button by its callback_data (`check=False` forges data not in the
        keyboard)."""
        target = self._current(message) if message is not None else self.keyboard_message
        if target is None:
            raise AssertionError(f"no bot message to press a button under in {self.chat_id}")
        mark = self.fake.mark()
        query_id = self.fake.press(self.user, target, callback_data, check=check)
        self.last_query_id = query_id
        update_id = self.fake.callback_queries[query_id].update_id
        replies = await self._settle(update_id, mark, expect_reply=expect_reply, query_id=query_id)
        if self.check_answered and query_id not in self.fake.callback_answers:
            raise AssertionError(
                f"the bot did not answer callback query {query_id} ({callback_data!r}); "
                "the user's client would show a spinner\n"
                + self.fake.format_transcript(self.chat_id)
            )
        return replies

    async def settle(self) -> None:
        """Wait until the bot is idle (all updates fetched and processed, no calls)."""
        await self.fake.wait_idle(quiet=self.quiet, timeout=self.timeout)
        if self.app is not None:
            await self._join_queue(time.monotonic() + self.timeout)
            await self.fake.wait_idle(quiet=self.settle_quiet, timeout=self.timeout)

    # -------------------------------------------------------------------------- inspection

    @property
    def messages(self) -> list[BotMessage]:
        """All bot messages in this chat (current state, deleted ones included)."""
        return self.fake.sent(self.chat_id)

    @property
    def last_message(self) -> BotMessage | None:
        """The newest bot message in this chat that is not deleted (current state)."""
        return self.fake.last_message(self.chat_id)

    @property
    def last_text(self) -> str | None:
        """What the user sees of the newest bot message (HTML removed; a caption for a
        document)."""
        message = self.last_message
        return None if message is None else message.visible_text

    @property
    def keyboard_message(self) -> BotMessage | None:
        """The newest live bot message that has an inline keyboard."""
        for message in reversed(self.fake.sent(self.chat_id, include_deleted=False)):
            if message.reply_markup:
                return message
        return None

    def buttons(self, message: BotMessage | None = None) -> list[str]:
        """Labels of the inline buttons of `message` (default: the latest keyboard)."""
        target = self._current(message) if message is not None else self.keyboard_message
        return [] if target is None else target.button_labels

    @property
    def last_document(self) -> BotMessage | None:
        for message in reversed(self.fake.sent(self.chat_id, include_deleted=False)):
            if message.document is not None:
                return message
        return None

    @property
    def last_answer(self) -> CallbackAnswer | None:
        """The bot's answerCallbackQuery for the last press/tap, if any."""
        if self.last_query_id is None:
            return None
        return self.fake.callback_answers.get(self.last_query_id)

    def transcript(self) -> str:
        return self.fake.format_transcript(self.chat_id)

    # ----------------------------------------------------------------------------- waiting

    def _current(self, message: BotMessage) -> BotMessage:
        return self.fake.message(message.chat_id, message.message_id)

    async def _join_queue(self, deadline: float) -> None:
        assert self.app is not None
        try:
            await asyncio.wait_for(
                self.app.update_queue.join(), max(0.0, deadline - time.monotonic())
            )
        except TimeoutError:
            raise AssertionError(
                f"the bot did not finish processing its updates within {self.timeout:g}s\n"
                + self.fake.format_transcript(self.chat_id)
            ) from None

    async def _settle(
        self,
        update_id: int,
        mark: int,
        *,
        expect_reply: bool,
        query_id: str | None = None,
    ) -> list[BotMessage]:
        deadline = time.monotonic() + self.timeout
        fake = self.fake
        await fake.wait_confirmed(update_id, timeout=self.timeout)
        if self.app is not None:
            await self._join_queue(deadline)
            await fake.wait_idle(
                quiet=self.settle_quiet, timeout=max(0.0, deadline - time.monotonic())
            )
        else:
            if expect_reply:
                await fake.wait_until(
                    lambda: fake.messages_since(self.chat_id, mark),
                    timeout=max(0.0, deadline - time.monotonic()),
                    what=f"a reply in chat {self.chat_id}",
                    chat_id=self.chat_id,
                )
            elif query_id is not None and self.check_answered:
                await fake.wait_until(
                    lambda: query_id in fake.callback_answers,
                    timeout=max(0.0, deadline - time.monotonic()),
                    what=f"the answer to callback query {query_id}",
                )
            await fake.wait_idle(quiet=self.quiet, timeout=max(0.0, deadline - time.monotonic()))
        replies = fake.messages_since(self.chat_id, mark)
        fake.mark_read(self.chat_id)
        if expect_reply and not replies:
            raise AssertionError(
                f"the bot did not reply in chat {self.chat_id}\n"
                + fake.format_transcript(self.chat_id)
            )
        self.last_replies = replies
        return replies


# ------------------------------------------------------------------------------------------
# Running a PTB Application against the fake
# ------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def running_polling(
    app: Application[Any, Any, Any, Any, Any, Any],
    *,
    timeout: int = 1,
    drop_pending_updates: bool = False,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """initialize + start + start_polling(poll_interval=0); stops and shuts down after."""
    async with app:
        await app.start()
        assert app.updater is not None, "build the Application with an Updater"
        await app.updater.start_polling(
            poll_interval=0, timeout=timeout, drop_pending_updates=drop_pending_updates
        )
        try:
            yield app
        finally:
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
