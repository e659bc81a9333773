"""SIGKILL at random moments while staff type and press: every update is answered, and applied
once (issue 16, the durable inbox).

A real `python -m bot.cli run|webhook` process against the loopback fake Bot API, on SQLite and
on PostgreSQL. Two people fill their tables in parallel while the test kills the process at
random moments (drawn from a seeded generator, JIXIAO_FAULT_SEED to explore others) and starts
it again at once. The kill may land anywhere: between updates, while an update is being fetched
or posted, stored, handled, committed, or while its reply is on its way.

What must hold afterwards:
- every update got its reply (a prompt), exactly one; the one exception the test identifies
  itself: the process died after the reply was delivered but before it could record that, so
  the next process answers again with the current step (it cannot know the first one arrived);
- every update is stored, done and replied in the inbox;
- each answer is in the database once: the form is exactly the script's first N actions applied
  once each, and its version moved once per action.
"""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path
from typing import Any

import pytest

from storage.db import Database
from tests.support.fake_bot_api import FakeBotApi, post_update_to_webhook
from tests.support.inbox import (
    ENGINE,
    TABLE_A,
    Staff,
    all_replied,
    as_chat,
    build_staff,
    comparable,
    inbox_rows,
    is_prompt,
    offline,
    prompts_sent,
    seed_script,
    until,
)
from tests.support.processes import BotProcess, BotProcesses, bot_environment

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
SEED = int(os.environ.get("JIXIAO_FAULT_SEED", "20260316"))
SECRET = "inbox-kill-secret_1"
PEOPLE = 2
STEPS = 6  # script actions per person after opening table A
KILLS = 3


async def kill_at_random(
    bot: BotProcess,
    fake: FakeBotApi,
    database: Database,
    people: list[Staff],
    rng: random.Random,
    finished: asyncio.Event,
) -> int:
    """Kill the bot at random moments and start it again at once; how many kills."""
    kills = 0
    while kills < KILLS and not finished.is_set():
        try:
            await asyncio.wait_for(finished.wait(), rng.uniform(0.2, 1.5))
            break
        except TimeoutError:
            pass  # a moment to kill at
        bot.kill()
        await bot.wait_killed()
        kills += 1
        # An update the dead process answered (a prompt arrived after it) but had not recorded
        # as replied is answered again by the next one: count those.
        rows = await asyncio.to_thread(inbox_rows, database)
        for person in people:
            for update_id, mark in person.sent.items():
                row = rows.get(update_id)
                if row is None or row.done_at is None or row.replied_at is not None:
                    continue
                if prompts_sent(fake, person.chat_id, after=mark):
                    person.repeated += 1
        await bot.start(fake)
    return kills


async def fill_while_killed(tmp_path: Path, database: Database, command: str, seed: int) -> None:
    rng = random.Random(seed)
    url = database.url.render_as_string(hide_password=False)
    async with FakeBotApi(default_timeout=90.0) as fake, BotProcesses(tmp_path) as processes:
        people = await asyncio.to_thread(build_staff, fake, database, PEOPLE)
        environment = bot_environment(fake, url, tmp_path)
        if command == "run":
            bot = processes.polling("bot", environment)
        else:
            bot = processes.webhook("bot", environment, SECRET)
        try:
            await bot.start(fake)
            await asyncio.gather(*(person.open_table_a() for person in people))
            opened = {p.user.id: (await asyncio.to_thread(p.form)).version for p in people}
            finished = asyncio.Event()
            killer = asyncio.create_task(kill_at_random(bot, fake, database, people, rng, finished))
            try:
                await asyncio.gather(*(person.fill(STEPS) for person in people))
            finally:
                finished.set()
                kills = await killer
            assert kills >= 1, "the bot was never killed: make the steps or the range longer"
            await until(
                lambda: all(r.replied_at for r in inbox_rows(database).values()),
                "every stored update replied",
                30.0,
            )
            rows = await asyncio.to_thread(inbox_rows, database)
            for person in people:
                # Every update stored, done and replied …
                assert set(person.sent) <= set(rows)
                assert all(rows[u].done_at and rows[u].replied_at for u in person.sent)
                # … answered exactly once (bar the repeat counted at the kill) …
                replies = prompts_sent(fake, person.chat_id)
                assert replies == len(person.sent) + person.repeated, (
                    person.user.id,
                    replies,
                    len(person.sent),
                    person.repeated,
                )
                # … and applied exactly once.
                form = await asyncio.to_thread(person.form)
                assert form.version == opened[person.user.id] + person.steps
                expected = offline(person.steps, person.department)
                assert comparable(ENGINE.resume(form.state)) == comparable(expected)
            # Nothing else was stored (each update once, by its update_id).
            assert set(rows) == {u for person in people for u in person.sent}
            assert not fake.errors, fake.errors
            print(f"{command}: {kills} kills, repeated replies {[p.repeated for p in people]}")
        except BaseException:
            print(processes.tails())
            raise
        finally:
            await bot.stop()


async def test_sigkill_while_staff_type_and_press_long_polling(
    tmp_path: Path, db: Database
) -> None:
    await fill_while_killed(tmp_path, db, "run", SEED)


async def test_sigkill_while_staff_type_and_press_webhook(tmp_path: Path, db: Database) -> None:
    await fill_while_killed(tmp_path, db, "webhook", SEED + 1)


# --- one update at two webhook processes ---------------------------------------------------------


@pytest.mark.parametrize(
    "storage_template",
    [pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
async def test_one_update_posted_to_two_webhook_processes_is_answered_once(
    tmp_path: Path, db: Database
) -> None:
    """Telegram (or a load balancer retrying) delivers the same update to two processes at the
    same moment: both answer 200, one handles it, the person gets one reply, the answer is saved
    once."""
    url = db.url.render_as_string(hide_password=False)
    async with (
        FakeBotApi(default_timeout=30.0, deliver_webhooks=False) as fake,
        BotProcesses(tmp_path) as processes,
    ):
        (person,) = await asyncio.to_thread(build_staff, fake, db, 1)
        environment = bot_environment(fake, url, tmp_path)
        one = processes.webhook("one", environment, SECRET)
        two = processes.webhook("two", environment, SECRET)
        try:
            await asyncio.gather(one.start(fake), two.start(fake))

            async def deliver(update: dict[str, Any], order: tuple[BotProcess, ...]) -> None:
                responses = await asyncio.gather(
                    *(post_update_to_webhook(p.webhook_url, update, SECRET) for p in order)
                )
                assert [r.status_code for r in responses] == [200] * len(order)

            async def act(what: str | tuple[str, bool], order: tuple[BotProcess, ...]) -> None:
                """Type or press, and deliver the update to every process in `order` at once."""
                mark = fake.mark()
                if isinstance(what, str):
                    update = fake.send_text(person.user, None, what)
                else:
                    target = person.keyboard_message()
                    assert target is not None
                    data = target.button(what[0], exact=what[1]).callback_data or ""
                    update_id = fake.callback_queries[fake.press(person.user, target, data)]
                    update = next(
                        u for u in fake.pending_updates if u["update_id"] == update_id.update_id
                    )
                person.sent[int(update["update_id"])] = mark
                await deliver(update, order)
                await until(lambda: all_replied(db), "the update handled", 30.0)
                await fake.wait_for_message(person.chat_id, is_prompt, after=mark)

            await act("/fill", (one, two))
            await act((TABLE_A, False), (two, one))
            opened = (await asyncio.to_thread(person.form)).version
            script = seed_script()
            for n in range(2):
                state = ENGINE.resume((await asyncio.to_thread(person.form)).state)
                scripted = script.next_action(state.cursor, state)
                assert scripted is not None
                what = as_chat(scripted.action, person.keyboard_message())
                await act(what, (one, two) if n % 2 else (two, one))
            form = await asyncio.to_thread(person.form)
            assert form.version == opened + 2
            assert comparable(ENGINE.resume(form.state)) == comparable(
                offline(2, person.department)
            )
            assert prompts_sent(fake, person.chat_id) == len(person.sent)
            rows = await asyncio.to_thread(inbox_rows, db)
            assert set(rows) == set(person.sent)
        except BaseException:
            print(processes.tails())
            raise
        finally:
            await asyncio.gather(one.stop(), two.stop())
