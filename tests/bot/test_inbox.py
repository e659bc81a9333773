"""The inbox (bot/inbox.py): stored before acknowledged, done with its answer, handled once.

The kill test over real processes is tests/bot/test_inbox_kill.py; here the parts, on the real
service and databases (SQLite and PostgreSQL) and the in-process bot over the loopback fake.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import false
from sqlalchemy.exc import OperationalError
from telegram import Update

from bot.inbox import CURRENT_CLAIM, Claim, ClaimLost, Inbox, install_done_marks, resume_payload
from bot.service import FilingService
from bot.startup import build_application
from dialogs.actions import Action, ActionKind
from storage.db import Database
from storage.records import Role
from storage.repos import (
    DepartmentRepository,
    InboxRepository,
    RoundRepository,
    UserRepository,
)
from tests.support.bot import (
    BotEnv,
    join_as,
    make_settings,
    open_round,
    quick_limiter,
    sqlite_database,
)
from tests.support.fake_bot_api import BotMessage, FakeBotApi, post_update_to_webhook
from tests.support.inbox import all_replied, inbox_rows, is_prompt, prompts_sent, until
from tests.support.processes import free_port

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
DEAD_WORKER = 7  # a worker id no live process holds
TABLE_A = "部门整体支出绩效目标表"


def _message(update_id: int, user_id: int, text: str, chat_type: str = "private") -> dict[str, Any]:
    chat_id = user_id if chat_type == "private" else -100123
    return {
        "update_id": update_id,
        "message": {
            "message_id": 900 + update_id % 100,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": chat_type, "title": "群"}
            if chat_type != "private"
            else {"id": chat_id, "type": "private", "first_name": "张"},
            "from": {"id": user_id, "is_bot": False, "first_name": "张"},
            "text": text,
        },
    }


# --- the done mark commits with the answer, or the answer does not commit ------------------------


def _staff_with_table_a(database: Database) -> tuple[FilingService, int, int]:
    with database.transaction() as session:
        department = DepartmentRepository(session).create("测试第九局")
        deadline = datetime.now(UTC) + timedelta(days=30)
        round_ = RoundRepository(session).create(2023, "2023", deadline, "2023年预算绩效目标")
        user = UserRepository(session).create(424242, "填报员", Role.STAFF, department.id)
    service = FilingService(database)
    view = service.open_table_a(department.id, round_.id, user.id)
    return service, view.form.id, user.id


def _store(database: Database, update_id: int, worker: int) -> None:
    with database.transaction() as session:
        InboxRepository(session).store(update_id, _message(update_id, 1, "x"), worker=worker)


def test_the_answer_and_its_done_mark_commit_together(db: Database) -> None:
    service, form_id, user_id = _staff_with_table_a(db)
    install_done_marks(db)
    worker = 11
    _store(db, 1, worker)
    before = service.view(form_id).form.version
    claim = Claim(1, worker)
    token = CURRENT_CLAIM.set(claim)
    try:
        result = service.act(form_id, Action(ActionKind.ANSWER, "300"), user_id)
    finally:
        CURRENT_CLAIM.reset(token)
    assert result.outcome.accepted
    assert result.view.form.version == before + 1
    with db.transaction() as session:
        entry = InboxRepository(session).get(1)
    assert entry is not None and entry.done_at is not None and entry.replied_at is None
    assert claim.done


def test_an_update_taken_over_meanwhile_saves_nothing(db: Database) -> None:
    """Another worker took the update over (this process was thought dead): the answer of this
    one is rolled back with the mark, so the update is applied by the other worker only."""
    service, form_id, user_id = _staff_with_table_a(db)
    install_done_marks(db)
    _store(db, 2, 11)
    with db.transaction() as session:  # the other worker claims it
        InboxRepository(session).claim(2, 12, alive=false())  # as if 11 were dead
    before = service.view(form_id).form
    token = CURRENT_CLAIM.set(Claim(2, 11))
    try:
        with pytest.raises(ClaimLost):
            service.act(form_id, Action(ActionKind.ANSWER, "300"), user_id)
    finally:
        CURRENT_CLAIM.reset(token)
    after = service.view(form_id).form
    assert (after.version, after.state) == (before.version, before.state)
    with db.transaction() as session:
        entry = InboxRepository(session).get(2)
    assert entry is not None and entry.done_at is None and entry.claimed_by == 12


def test_refreshing_the_users_profile_is_not_the_answer(db: Database) -> None:
    """The gate in front of every handler may update the user row; that must not mark the
    update done, or a crash before the real answer would lose it."""
    install_done_marks(db)
    _store(db, 3, 11)
    token = CURRENT_CLAIM.set(Claim(3, 11))
    try:
        with db.transaction() as session:
            UserRepository(session).upsert(515151, "新名字")
    finally:
        CURRENT_CLAIM.reset(token)
    with db.transaction() as session:
        entry = InboxRepository(session).get(3)
    assert entry is not None and entry.done_at is None


# --- receiving: once per update, and a dead worker's updates taken over ---------------------------


def test_a_second_delivery_is_not_handled_again(db: Database) -> None:
    inbox = Inbox(db)
    inbox.open()
    try:
        update = Update.de_json(_message(20, 1, "100"), None)
        assert inbox.receive(update)
        assert not inbox.receive(update)  # held by this live process
        claim = inbox.take(update)
        assert claim is not None
        inbox.finish(claim)
        assert not inbox.receive(update)  # done
        assert inbox.take(update) is None
    finally:
        inbox.close()


@pytest.mark.parametrize(
    "storage_template",
    [pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_two_processes_one_update_and_the_survivor_takes_over(db: Database) -> None:
    """Two webhook processes get the same update: the first to store it handles it; when that
    process dies (its advisory lock goes with its connection) the other takes it over."""
    first, second = Inbox(db), Inbox(db)
    first.open()
    second.open()
    try:
        update = Update.de_json(_message(30, 1, "100"), None)
        assert first.receive(update)
        assert not second.receive(update)
        assert second.take_over() == []
        first.close()  # as a SIGKILL would: the connection and its lock are gone
        taken = second.take_over()
        assert [entry.update_id for entry in taken] == [30]
        assert second.take(update) is not None
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize(
    "storage_template",
    [pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_an_update_being_handled_is_not_taken_over_by_its_own_process(db: Database) -> None:
    """The process's lock connection dropped (a database restart): its own claims look dead to
    the sweep, which must not queue an update the process is handling or has queued."""
    inbox = Inbox(db)
    inbox.open()
    try:
        handled = Update.de_json(_message(60, 1, "100"), None)
        queued = Update.de_json(_message(61, 1, "200"), None)
        assert inbox.receive(handled) and inbox.receive(queued)
        assert inbox.take(handled) is not None
        inbox.close()  # the advisory lock is gone
        assert inbox.take_over() == []
    finally:
        inbox.close()


def test_prune_forgets_only_what_was_answered_long_ago(db: Database) -> None:
    now = datetime.now(UTC)
    with db.transaction() as session:
        inbox = InboxRepository(session)
        for update_id in (40, 41, 42):
            inbox.store(update_id, _message(update_id, 1, "x"), worker=11, now=now)
        inbox.mark_replied(40, 11, now=now - timedelta(days=3))
        inbox.mark_replied(41, 11, now=now - timedelta(hours=1))
    inbox = Inbox(db, retention=timedelta(days=2))
    assert inbox.prune(now=now) == 1
    assert set(inbox_rows(db)) == {41, 42}


def test_the_resume_of_an_answered_update_is_fill_from_the_same_person() -> None:
    resumed = resume_payload(_message(50, 77, "100"))
    assert resumed is not None
    assert resumed["update_id"] == 50
    assert resumed["message"]["text"] == "/fill"
    assert resumed["message"]["from"]["id"] == 77
    assert resumed["message"]["chat"]["id"] == 77
    pressed = {
        "update_id": 51,
        "callback_query": {
            "id": "q1",
            "chat_instance": "c",
            "data": "s:1:2:3",
            "from": {"id": 78, "is_bot": False, "first_name": "李"},
            "message": _message(0, 78, "prompt")["message"],
        },
    }
    resumed = resume_payload(pressed)
    assert resumed is not None and resumed["message"]["from"]["id"] == 78
    assert resume_payload(_message(52, 79, "100", chat_type="group")) is None


# --- the bot in process ------------------------------------------------------------------------


async def _staff_at_table_a(env: BotEnv) -> Any:
    await open_round(env, "测试第七局")
    person = await join_as(env, "王五", "staff", "测试第七局")
    await person.say("/fill")
    await person.tap(TABLE_A)
    return person


async def test_every_update_is_stored_done_and_replied(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path, reminders=False) as env:
        person = await _staff_at_table_a(env)
        await person.say("300")
        await env.fake.wait_idle()
        rows = await asyncio.to_thread(inbox_rows, env.database)
        delivered = {r.params.get("offset") for r in env.fake.requests if r.method == "getUpdates"}
        assert rows and all(r.done_at and r.replied_at for r in rows.values())
        assert max(rows) + 1 in delivered  # the offset moved past the last stored update


async def test_a_repeated_update_is_answered_and_applied_once(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path, reminders=False) as env:
        person = await _staff_at_table_a(env)
        form_id = await env.current_form(person)
        mark = env.fake.mark()
        update = env.fake.send_text(person.user, None, "300")
        await env.fake.wait_for_message(person.chat_id, is_prompt, after=mark)
        await env.fake.wait_idle()
        version = (await env.form(form_id)).version
        prompts = prompts_sent(env.fake, person.chat_id)
        # Telegram delivers it again (to the queue, as the Updater would), and it is processed
        # directly too.
        again = Update.de_json(update, env.app.bot)
        await env.app.update_queue.put(again)
        await env.app.process_update(again)
        await env.fake.wait_idle()
        assert (await env.form(form_id)).version == version
        assert prompts_sent(env.fake, person.chat_id) == prompts


async def test_at_start_the_bot_finishes_what_is_stored(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path, reminders=False) as env:
        person = await _staff_at_table_a(env)
        form_id = await env.current_form(person)
        version = (await env.form(form_id)).version
        await env.stop()
        # Left by a process that died: one update received but not handled, and one handled
        # (its answer saved) whose reply may never have left.
        user_id = person.user.id
        with env.database.transaction() as session:
            inbox = InboxRepository(session)
            inbox.store(10_000, _message(10_000, user_id, "300"), worker=DEAD_WORKER)
            inbox.store(10_001, _message(10_001, user_id, "x"), worker=DEAD_WORKER)
            inbox.mark_done(10_001, DEAD_WORKER)
        mark = env.fake.mark()
        await env.start()
        await until(
            lambda: all(r.replied_at for r in inbox_rows(env.database).values()),
            "the stored updates handled",
            10.0,
        )
        replies: list[BotMessage] = env.fake.messages_since(person.chat_id, mark)
        # The stored answer is applied, once; the answered update gets the current step.
        assert (await env.form(form_id)).version == version + 1
        assert prompts_sent(env.fake, person.chat_id, after=mark) == 2, replies
        assert "✓" in "\n".join(m.visible_text or "" for m in replies)
        rows = await asyncio.to_thread(inbox_rows, env.database)
        assert rows[10_000].replied_at and rows[10_001].replied_at


async def test_an_update_that_could_not_be_stored_is_fetched_again(tmp_path: Path) -> None:
    """The database fails while an update is being stored: it is not acknowledged, polling goes
    on (with its back-off), and the update is fetched again and answered once."""
    async with BotEnv.running(tmp_path, reminders=False) as env:
        person = await _staff_at_table_a(env)
        form_id = await env.current_form(person)
        version = (await env.form(form_id)).version
        inbox = env.app.update_queue.inbox
        receive = inbox.receive
        failures: list[int] = []

        def failing_once(update: Update) -> bool:
            if not failures:
                failures.append(update.update_id)
                raise OperationalError("INSERT INTO inbox", {}, Exception("database is locked"))
            return receive(update)

        inbox.receive = failing_once
        mark = env.fake.mark()
        update = env.fake.send_text(person.user, None, "300")
        await env.fake.wait_for_message(person.chat_id, is_prompt, after=mark, timeout=20.0)
        await until(lambda: all_replied(env.database), "the update handled", 10.0)
        assert failures == [update["update_id"]]
        assert (await env.form(form_id)).version == version + 1
        assert prompts_sent(env.fake, person.chat_id, after=mark) == 1


# --- stored before Telegram is told ---------------------------------------------------------------


class HeldStore:
    """Holds the inbox's store of the next update until released, and says when it began."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.receive = inbox.receive
        self.entered = threading.Event()
        self.release = threading.Event()
        inbox.receive = self._held  # type: ignore[method-assign]

    def _held(self, update: Update, **kwargs: Any) -> bool:
        self.entered.set()
        assert self.release.wait(30), "never released"
        return self.receive(update, **kwargs)

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 30), "the update was never stored"


async def test_long_polling_moves_the_offset_only_after_the_update_is_stored(
    tmp_path: Path,
) -> None:
    async with BotEnv.running(tmp_path, reminders=False) as env:
        held = HeldStore(env.app.update_queue.inbox)
        update = env.fake.send_text(env.fake.user("路人"), None, "你好")
        await held.wait_entered()
        offsets = [
            int(r.params.get("offset") or 0) for r in env.fake.requests if r.method == "getUpdates"
        ]
        assert max(offsets) <= update["update_id"]  # not confirmed while it is being stored
        assert update["update_id"] in {u["update_id"] for u in env.fake.pending_updates}
        held.release.set()
        await env.fake.wait_confirmed(update["update_id"])
        assert update["update_id"] in await asyncio.to_thread(inbox_rows, env.database)


async def test_the_webhook_answers_200_only_after_the_update_is_stored(tmp_path: Path) -> None:
    secret = "inbox-secret_2"
    database = sqlite_database(tmp_path)
    async with FakeBotApi(default_timeout=10.0, deliver_webhooks=False) as fake:
        settings = make_settings(fake, database, [])
        app = build_application(settings, database, rate_limiter=quick_limiter(), reminders=False)
        port = free_port()
        url = f"http://127.0.0.1:{port}/hook"
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_webhook(
                listen="127.0.0.1",
                port=port,
                url_path="hook",
                webhook_url=url,
                secret_token=secret,
            )
            try:
                held = HeldStore(app.update_queue.inbox)
                update = fake.send_text(fake.user("路人"), None, "你好")
                post = asyncio.create_task(post_update_to_webhook(url, update, secret))
                await held.wait_entered()
                assert not post.done()  # no answer to Telegram while the update is being stored
                held.release.set()
                assert (await post).status_code == 200
                rows = await asyncio.to_thread(inbox_rows, database)
                assert update["update_id"] in rows
            finally:
                await app.updater.stop()
                await app.stop()
    database.dispose()
