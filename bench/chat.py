"""Simulated users in chat with a bot, for the benchmarks: they send updates, learn from the
Bot API calls the bot makes when each got its reply, and press the buttons of its messages.

The transport is the caller's: `deliver` puts an update where the bot will find it (the
in-process application's update queue, or the loopback Bot API's getUpdates), and the API object
(bench/inprocess.py or bench/loopback.py) calls `on_call` with every request the bot makes.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bench.bot_api_json import JSON
from bench.chat_script import Input
from bench.inprocess import Call
from bot import messages

MAX_RETRIES = 3  # a user sends an update again after the bot's error message, this often


class BenchError(RuntimeError):
    pass


class ChatApi(Protocol):
    def subscribe(self, listener: Callable[[Call, Any], None]) -> None: ...
    def text_update(self, user_id: int, text: str, first_name: str = ...) -> JSON: ...
    def callback_update(
        self, user_id: int, message: JSON, data: str, first_name: str = ...
    ) -> JSON: ...


def find_button(message: JSON, wanted: Input) -> str:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    buttons = [(b.get("text", ""), b.get("callback_data")) for row in rows for b in row]
    for label in wanted.labels:
        for text_, data in buttons:
            if text_ == label and data:
                return str(data)
        if not wanted.exact:
            for text_, data in buttons:
                if label in text_ and data:
                    return str(data)
    raise BenchError(f"no button {wanted.labels} in {[t for t, _ in buttons]}")


@dataclass
class Run:
    """One measured phase: updates answered, their latencies, and the bot's CPU meanwhile."""

    bot: str
    database: str
    users: int
    updates: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    fill_latencies: list[float] = field(default_factory=list)  # of /fill alone (the menu)
    errors: int = 0  # updates answered with the error message (each retried by its user)
    cpu: float = 0.0  # seconds of CPU of the bot's process (every thread) meanwhile
    driver_cpu: float = 0.0  # seconds of CPU of the benchmark process meanwhile (over HTTP)
    statements: int = 0  # SQL statements executed meanwhile (in process only)
    transactions: int = 0  # commits meanwhile (in process only)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    def percentile(self, share: float, of: list[float] | None = None) -> float:
        ordered = sorted(self.latencies if of is None else of)
        if not ordered:
            return 0.0
        index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
        return ordered[index] * 1000


@dataclass
class ChatUser:
    telegram_id: int
    name: str
    last_keyboard: JSON | None = None  # the bot message that carries the current buttons
    last_message: JSON | None = None
    waiter: asyncio.Future[tuple[float, bool]] | None = None  # (when, answered normally)
    sent: list[tuple[str, str]] = field(default_factory=list)  # ("text"|"press", value)
    replies: int = 0  # updates answered (normally or with the error message)


class Conversations:
    """The simulated users of one bot. An update's reply is the first request to its chat that
    carries the next prompt's buttons (`reply_needs_keyboard`, our bot: a long reply may come in
    parts, the buttons last) or any message (the echo bot), or the bot's error message."""

    def __init__(
        self,
        api: ChatApi,
        deliver: Callable[[JSON], Awaitable[None]],
        run: Run,
        *,
        reply_needs_keyboard: bool,
        timeout: float,
    ) -> None:
        self.api = api
        self.deliver = deliver
        self.run = run
        self.reply_needs_keyboard = reply_needs_keyboard
        self.timeout = timeout
        self.users: dict[int, ChatUser] = {}
        self.recording = True
        api.subscribe(self.on_call)

    def on_call(self, call: Call, result: Any) -> None:
        if call.method not in ("sendMessage", "editMessageText") or not isinstance(result, dict):
            return
        user = self.users.get(call.chat_id or 0)
        if user is None:
            return
        user.last_message = result
        failed = call.params.get("text") == messages.ERROR_TEXT
        if self.reply_needs_keyboard and call.keyboard is None and not failed:
            return  # a first part of a long reply: the prompt with its buttons comes last
        if call.keyboard is not None:
            user.last_keyboard = result
        if user.waiter is not None and not user.waiter.done():
            user.waiter.set_result((call.time, not failed))

    def user(self, telegram_id: int, name: str) -> ChatUser:
        found = self.users.get(telegram_id)
        if found is None:
            found = self.users[telegram_id] = ChatUser(telegram_id, name)
        return found

    async def exchange(self, user: ChatUser, make: Callable[[], JSON], what: str) -> None:
        """Send one update and wait for its reply; record the latency (update made available
        → reply request received). An update answered with the bot's error message counts as
        an error and is sent again, as a person would ("出错了…请重试")."""
        for _ in range(MAX_RETRIES + 1):
            user.waiter = asyncio.get_running_loop().create_future()
            update = make()
            start = time.perf_counter()
            await self.deliver(update)
            try:
                replied, answered = await asyncio.wait_for(user.waiter, self.timeout)
            except TimeoutError:
                raise BenchError(
                    f"{self.run.bot}: no reply to {what!r} from user {user.telegram_id} "
                    f"within {self.timeout:g}s"
                ) from None
            user.replies += 1
            if self.recording:
                self.run.updates += 1
                if not answered:
                    self.run.errors += 1
                else:
                    self.run.latencies.append(replied - start)
                    if what == "/fill":
                        self.run.fill_latencies.append(replied - start)
            if answered:
                return
        raise BenchError(f"{self.run.bot}: {what!r} failed {MAX_RETRIES + 1} times")

    async def say(self, user: ChatUser, text_: str) -> None:
        user.sent.append(("text", text_))
        await self.exchange(
            user, lambda: self.api.text_update(user.telegram_id, text_, user.name), text_
        )

    async def press(self, user: ChatUser, data: str, under: JSON | None) -> None:
        if under is None:
            raise BenchError(f"user {user.telegram_id}: no bot message to press {data!r} under")
        user.sent.append(("press", data))
        await self.exchange(
            user, lambda: self.api.callback_update(user.telegram_id, under, data, user.name), data
        )

    async def perform(self, user: ChatUser, step: Input) -> None:
        if step.is_text:
            await self.say(user, step.text)
            return
        if user.last_keyboard is None:
            raise BenchError(f"user {user.telegram_id}: no keyboard for {step.labels}")
        await self.press(user, find_button(user.last_keyboard, step), user.last_keyboard)

    async def replay(self, user: ChatUser, inputs: Sequence[tuple[str, str]]) -> None:
        """Send what another bot's user sent, in order (the echo bot gets the same updates)."""
        for kind, value in inputs:
            if kind == "text":
                await self.say(user, value)
            else:
                await self.press(user, value, user.last_message)


async def fill_concurrently(
    talk: Conversations, users: Sequence[ChatUser], script: Sequence[Input]
) -> None:
    """Every user goes through `script`, each sending the next update as soon as the previous
    one is answered (no think time)."""

    async def one(user: ChatUser) -> None:
        for step in script:
            await talk.perform(user, step)

    await asyncio.gather(*(one(user) for user in users))


async def at_load(
    talk: Conversations,
    users: Sequence[ChatUser],
    script: Sequence[Input],
    rate: float,
    seconds: float,
) -> None:
    """The users fill in with think time between updates (exponential, the same mean for all)
    so that together they offer about `rate` updates a second, for `seconds`."""
    rng = random.Random(6)  # the same think times in every run
    mean_think = len(users) / rate
    deadline = time.perf_counter() + seconds

    async def one(user: ChatUser) -> None:
        await asyncio.sleep(min(rng.uniform(0, mean_think), seconds))  # arrivals spread out
        for step in script:
            if time.perf_counter() >= deadline:
                return
            await talk.perform(user, step)
            think = rng.expovariate(1 / mean_think)
            await asyncio.sleep(min(think, max(0.0, deadline - time.perf_counter())))

    await asyncio.gather(*(one(user) for user in users))
