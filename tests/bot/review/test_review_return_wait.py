"""The return comment a supervisor is asked for waits in the database, on SQLite and PostgreSQL:
the flow continues after the Application is rebuilt on the same database (a restart, or another
process behind the webhook), and a wait past its expiry is refused with a message."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.messages import Notice
from bot.messages import text as said
from bot.reminders import ReminderConfig, install_reminders
from dialogs.state import FormStatus
from storage.db import Database
from storage.repos.pending import RETURN_COMMENT_TTL
from tests.support.bot import BotEnv
from tests.support.clock import FakeClock
from tests.support.fake_bot_api import TgUser
from tests.support.reminder_world import World, build_world, shanghai
from tests.support.telegram_client import ChatDriver

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
# build_world makes 审核人 oversee 宣传部; the review here is on 市交通运输局 (区审核人 sees all)
STAFF = {"宣传部": ["张三"], "市交通运输局": ["周一"], "市水利局": ["吴二"]}
COMMENT = "请把产出数量指标写成具体公里数"


@dataclass
class Review:
    env: BotEnv
    world: World
    clock: FakeClock
    users: dict[str, TgUser]

    def person(self, name: str) -> ChatDriver:
        return self.env.driver_of(self.users[name])

    def install(self) -> None:
        """The reminders on the fake clock, on the current Application (after each start)."""
        options = ReminderConfig(first_tick=3600)
        install_reminders(
            self.env.app,
            self.env.database,
            self.env.settings,
            clock=self.clock,
            config=options,
        )

    async def restart(self) -> None:
        await self.env.restart()
        self.install()


@contextlib.asynccontextmanager
async def review(db: Database, tmp_path: Path) -> AsyncIterator[Review]:
    async with BotEnv.running(tmp_path, database=db, reminders=False) as env:
        users: dict[str, TgUser] = {}

        def telegram_id(name: str) -> int:
            users[name] = env.fake.user(name)
            return users[name].id

        world = build_world(env.database, staff=STAFF, telegram_id=telegram_id)
        scene = Review(env, world, FakeClock(shanghai(3, 26, 10)), users)
        scene.install()
        yield scene


async def ask_for_comment(scene: Review) -> tuple[ChatDriver, int]:
    """The district supervisor opens the submitted table A and presses 退回修改."""
    form_id = scene.world.table_a("市交通运输局")
    scene.world.set_status(form_id, FormStatus.SUBMITTED)
    supervisor = scene.person("区审核人")
    await supervisor.say("/status")
    await supervisor.tap("审核：市交通运输局")
    await supervisor.tap("退回修改")
    assert "退回意见" in (supervisor.last_text or ""), supervisor.transcript()
    return supervisor, form_id


async def test_the_return_comment_is_taken_after_a_restart(db: Database, tmp_path: Path) -> None:
    async with review(db, tmp_path) as scene:
        supervisor, form_id = await ask_for_comment(scene)
        await scene.restart()
        scene.clock.advance(minutes=20)
        await supervisor.say("  ")  # blank: asked again, still waiting
        assert "退回时请写明修改意见" in (supervisor.last_text or ""), supervisor.transcript()
        await supervisor.say(COMMENT)
        assert "已退回修改" in (supervisor.last_text or ""), supervisor.transcript()
        form = await scene.env.form(form_id)
        assert form.status is FormStatus.RETURNED and form.review_comment == COMMENT
        # Taken once: the next text is no comment.
        await supervisor.say("还有一条")
        assert supervisor.last_text == said(Notice.NOT_STAFF)


async def test_an_expired_return_comment_is_refused(db: Database, tmp_path: Path) -> None:
    async with review(db, tmp_path) as scene:
        supervisor, form_id = await ask_for_comment(scene)
        scene.clock.advance(RETURN_COMMENT_TTL)
        await supervisor.say(COMMENT)
        minutes = str(int(RETURN_COMMENT_TTL.total_seconds() // 60))
        expired = said(Notice.REVIEW_COMMENT_EXPIRED, minutes=minutes)
        assert supervisor.last_text == expired, supervisor.transcript()
        form = await scene.env.form(form_id)
        assert form.status is FormStatus.SUBMITTED and form.review_comment is None
        await supervisor.say(COMMENT)
        assert supervisor.last_text == said(Notice.NOT_STAFF)  # the expired wait is gone


async def test_a_cancelled_return_takes_no_comment(db: Database, tmp_path: Path) -> None:
    async with review(db, tmp_path) as scene:
        supervisor, form_id = await ask_for_comment(scene)
        await supervisor.tap("取消退回")
        await supervisor.say(COMMENT)
        assert supervisor.last_text == said(Notice.NOT_STAFF)
        assert (await scene.env.form(form_id)).status is FormStatus.SUBMITTED
