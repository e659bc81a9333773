"""End to end over the loopback Bot API: a supervisor's /status sends the round as a picture,
then the text; the picture is cached while the round is unchanged; without a CJK font (or when
sending the picture fails) /status sends its text alone and the log says why."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from matplotlib import font_manager

from bot.reminders import ReminderConfig, install_reminders
from bot.status import picture as status_picture
from bot.status.picture import PICTURES
from dialogs.state import FormState, FormStatus
from exports.round_png import png_size
from storage.repos import FormRepository
from tests.support.bot import BotEnv
from tests.support.clock import FakeClock
from tests.support.fake_bot_api import BotMessage, TgUser
from tests.support.fonts import require_cjk_font
from tests.support.reminder_world import World, build_world, eventually, shanghai
from tests.support.round_filings import indicators
from tests.support.telegram_client import ChatDriver

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
# build_world makes the supervisor 审核人 oversee 宣传部, so it is one of the departments.
STAFF = {
    "宣传部": ["周四"],
    "清水河管理站": ["赵一"],
    "白云山林场": ["钱二"],
    "金沙湾渔政所": ["孙三"],
}


@dataclass
class Round:
    env: BotEnv
    world: World
    clock: FakeClock
    users: dict[str, TgUser]

    def person(self, name: str) -> ChatDriver:
        return self.env.driver(self.users[name])

    def fill(self, department: str, measurable: int, qualitative: int) -> int:
        form_id = self.world.table_a(department)
        state = FormState(indicators=indicators(measurable, qualitative, 2021))
        with self.env.database.transaction() as session:
            forms = FormRepository(session)
            form = forms.load(form_id)
            forms.save(
                form_id, state, expected_version=form.version, actor_user_id=None, action="t"
            )
        return form_id


@contextlib.asynccontextmanager
async def a_round(tmp_path: Path) -> AsyncIterator[Round]:
    """Four departments; the clock two days after the deadline (2021-03-31 17:00)."""
    PICTURES.clear()
    async with BotEnv.running(tmp_path, reminders=False) as env:
        users: dict[str, TgUser] = {}

        def telegram_id(name: str) -> int:
            users[name] = env.fake.user(name)
            return users[name].id

        world = build_world(env.database, staff=STAFF, telegram_id=telegram_id)
        clock = FakeClock(shanghai(4, 2, 10))
        install_reminders(
            env.app, env.database, env.settings, clock=clock, config=ReminderConfig(first_tick=3600)
        )
        yield Round(env, world, clock, users)


def _photos(replies: list[BotMessage]) -> list[BotMessage]:
    return [m for m in replies if m.photo]


async def test_status_sends_the_picture_then_the_text(tmp_path: Path) -> None:
    require_cjk_font()
    async with a_round(tmp_path) as r:
        r.fill("清水河管理站", measurable=1, qualitative=3)
        done = r.fill("白云山林场", measurable=3, qualitative=0)
        r.world.set_status(done, FormStatus.SUBMITTED)
        supervisor = r.person("区审核人")

        replies = await supervisor.say("/status")
        [photo] = _photos(replies)
        texts = [m for m in replies if not m.photo]
        assert texts and all(photo.message_id < m.message_id for m in texts)
        assert "填报进度" in (texts[0].visible_text or "")
        assert photo.document is not None
        assert png_size(photo.document.data)[0] == 1080
        assert "2021年预算绩效目标填报" in (photo.visible_text or "")
        assert PICTURES.drawn == 1

        # Unchanged round, same day: the same picture, not drawn again.
        again = await supervisor.say("/status 质量")
        [second] = _photos(again)
        assert second.document is not None and second.document.data == photo.document.data
        assert PICTURES.drawn == 1

        # A department moves on: a new picture.
        r.world.set_status(done, FormStatus.APPROVED)
        third = _photos(await supervisor.say("/status"))
        assert third[0].document is not None and third[0].document.data != photo.document.data
        assert PICTURES.drawn == 2

        # A supervisor of one department gets the picture of that department only.
        PICTURES.clear()
        r.fill("宣传部", measurable=2, qualitative=2)
        assert _photos(await r.person("审核人").say("/status"))
        [scoped] = PICTURES.pictures()
        assert scoped.departments == 1 and [w.name for w in scoped.weakest] == ["宣传部"]

        # Staff follow their own department in text only.
        staff = r.person("赵一")
        assert _photos(await staff.say("/status")) == []
        assert "清水河管理站" in (staff.last_text or "")


async def test_status_does_not_hold_its_text_for_a_slow_picture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_cjk_font()
    monkeypatch.setattr(status_picture, "PICTURE_WAIT_SECONDS", 0.0)
    async with a_round(tmp_path) as r:
        supervisor = r.person("区审核人")
        first = await supervisor.say("/status")
        assert _photos(first) == [] and "填报进度" in (supervisor.last_text or "")
        await eventually(lambda: PICTURES.drawn == 1)  # drawn meanwhile, for the next time
        again = await supervisor.say("/status")
        assert len(_photos(again)) == 1 and PICTURES.drawn == 1


async def test_without_a_cjk_font_status_sends_its_text_and_logs_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    latin = [e for e in font_manager.fontManager.ttflist if "DejaVu" in e.name]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", latin)
    async with a_round(tmp_path) as r:
        supervisor = r.person("区审核人")
        with caplog.at_level(logging.WARNING, logger="bot.status.picture"):
            replies = await supervisor.say("/status")
        assert _photos(replies) == []
        assert "填报进度" in (supervisor.last_text or "")
        [record] = [r for r in caplog.records if r.name == "bot.status.picture"]
        assert "without its picture" in record.getMessage()
        assert "fonts-noto-cjk" in record.getMessage()


async def test_a_failing_photo_does_not_cost_the_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with a_round(tmp_path) as r:
        r.env.fake.fail_next(
            "sendPhoto", status=400, description="Bad Request: IMAGE_PROCESS_FAILED"
        )
        supervisor = r.person("区审核人")
        with caplog.at_level(logging.ERROR, logger="bot.status.picture"):
            replies = await supervisor.say("/status")
        assert _photos(replies) == []
        assert "填报进度" in (supervisor.last_text or "")
        assert any("without its picture" in rec.getMessage() for rec in caplog.records)
