"""Running the real bot (`bot.startup.build_application`) against the fake Bot API, in process.

    async with BotEnv.running(tmp_path) as env:
        admin = env.admin                      # a ChatDriver for the admin from the settings
        staff = env.person("张三")
        await staff.say("/fill")
        await env.restart()                    # a new Application on the same database

`fill_by_script` answers a form through chat with a SeedScript: the step is read from the
database (as the script needs the address), every input goes through messages and buttons.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.ratelimit import Pacing, RetryingRateLimiter
from bot.service import FilingService, FormView
from bot.settings import Settings
from bot.startup import build_application
from dialogs.actions import Action, ActionKind
from storage.db import Database, upgrade
from storage.records import StoredForm, User
from storage.repos import FormRepository, UserRepository
from tests.support.fake_bot_api import DEFAULT_TOKEN, FakeBotApi, TgUser
from tests.support.scripted import SeedScript
from tests.support.telegram_client import ChatDriver, running_polling

_TEMPLATE: Path | None = None
_INVITE = re.compile(r"start=([A-Za-z0-9_-]+)")


def template_database() -> Path:
    """One migrated SQLite file per test session; each test copies it (migrating is slow)."""
    global _TEMPLATE
    if _TEMPLATE is None or not _TEMPLATE.exists():
        path = Path(tempfile.mkdtemp(prefix="jixiao-bot-")) / "template.sqlite3"
        upgrade(f"sqlite:///{path}")
        _TEMPLATE = path
    return _TEMPLATE


def sqlite_database(directory: Path) -> Database:
    target = directory / "bot.sqlite3"
    shutil.copyfile(template_database(), target)
    return Database(f"sqlite:///{target}")


def quick_limiter() -> RetryingRateLimiter:
    """Retries as in production but quick, and no pacing (the fake has no flood limits)."""
    return RetryingRateLimiter(base_delay=0.02, max_delay=0.1, pacing=Pacing.off())


def make_settings(
    fake: FakeBotApi, database: Database, admins: list[int], **extra: Any
) -> Settings:
    values: dict[str, Any] = {
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_API_BASE_URL": fake.api_base_url,
        "TELEGRAM_FILE_BASE_URL": fake.file_base_url,
        "DATABASE_URL": database.url.render_as_string(hide_password=False),
        "ADMIN_TELEGRAM_IDS": ",".join(str(a) for a in admins),
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def invite_code(text: str | None) -> str:
    found = _INVITE.search(text or "")
    assert found, f"no invite link in {text!r}"
    return found.group(1)


@dataclass
class BotEnv:
    fake: FakeBotApi
    database: Database
    settings: Settings
    admin_user: TgUser
    app: Any = None
    reminders: bool = True  # False: the test installs reminders itself (on a fake clock)
    renderer: Any = None  # a Renderer for the tests of PDFs and pictures (LibreOffice is slow)
    drivers: list[ChatDriver] = field(default_factory=list)
    limiter: Callable[[], RetryingRateLimiter] = quick_limiter  # a new one for each start
    _running: contextlib.AsyncExitStack | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls,
        tmp_path: Path,
        *,
        database: Database | None = None,
        reminders: bool = True,
        renderer: Any = None,
        limiter: Callable[[], RetryingRateLimiter] = quick_limiter,
        **settings: Any,
    ) -> AsyncIterator[BotEnv]:
        own = database is None
        db = sqlite_database(tmp_path) if database is None else database
        fake = FakeBotApi(default_timeout=10.0)
        admin = fake.user("管理员", username="admin_user")
        env = cls(fake, db, make_settings(fake, db, [admin.id], **settings), admin)
        env.reminders = reminders
        env.renderer = renderer
        env.limiter = limiter
        try:
            await env.start()
            yield env
        finally:
            await env.stop()
            if own:
                db.dispose()

    async def start(self) -> None:
        self.app = build_application(
            self.settings,
            self.database,
            rate_limiter=self.limiter(),
            reminders=self.reminders,
            renderer=self.renderer,
            request=self.fake.request(),
            get_updates_request=self.fake.request(),
        )
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(running_polling(self.app))
        self._running = stack
        if self.app.post_init is not None:
            await self.app.post_init(self.app)  # run_polling would call it; running_polling not
        for driver in self.drivers:
            driver.app = self.app

    async def stop(self) -> None:
        if self._running is not None:
            await self._running.aclose()
            self._running = None

    async def restart(self) -> None:
        """Stop the bot process and start a new one on the same database."""
        await self.stop()
        await self.start()

    def driver(self, user: TgUser) -> ChatDriver:
        driver = ChatDriver(self.fake, user, app=self.app, timeout=10.0)
        self.drivers.append(driver)
        return driver

    def driver_of(self, user: TgUser) -> ChatDriver:
        """The user's driver: the one made before, or a new one."""
        for driver in self.drivers:
            if driver.user.id == user.id:
                return driver
        return self.driver(user)

    @property
    def admin(self) -> ChatDriver:
        return self.driver_of(self.admin_user)

    def person(self, name: str) -> ChatDriver:
        return self.driver(self.fake.user(name))

    # --- reading the database (never for input) ------------------------------------------------

    @property
    def service(self) -> FilingService:
        return FilingService(self.database)

    async def user(self, driver: ChatDriver) -> User:
        def read() -> User | None:
            with self.database.transaction() as session:
                return UserRepository(session).by_telegram_id(driver.user.id)

        found = await asyncio.to_thread(read)
        assert found is not None, f"{driver.user.first_name} is not a known user"
        return found

    async def current_form(self, driver: ChatDriver) -> int:
        user = await self.user(driver)
        form_id = await asyncio.to_thread(self.service.current_form_id, user.id)
        assert form_id is not None
        return form_id

    async def view(self, form_id: int) -> FormView:
        return await asyncio.to_thread(self.service.view, form_id)

    async def form(self, form_id: int) -> StoredForm:
        def read() -> StoredForm:
            with self.database.transaction() as session:
                return FormRepository(session).load(form_id)

        return await asyncio.to_thread(read)


async def perform(driver: ChatDriver, action: Action) -> None:
    """What a person does in chat for an engine action: type, or tap the button so labelled."""
    match action.kind:
        case ActionKind.ANSWER:
            # Telegram cannot send an empty message: a blank one is the closest a user gets.
            await driver.say(action.text if action.text.strip() else " ")
        case ActionKind.SKIP:
            await driver.tap("跳过", exact=True)
        case ActionKind.KEEP:
            await driver.tap("保持不变")
        case ActionKind.ADD_ROW:
            await driver.tap("再加一条")
        case ActionKind.NEXT:
            labels = driver.buttons()
            await driver.tap("下一项" if any("下一项" in b for b in labels) else "下一部分")
        case ActionKind.NOT_APPLICABLE:
            await driver.tap("本项不适用")
        case ActionKind.CONFIRM:
            await driver.tap("✅ 对")
        case _:
            raise AssertionError(f"the script does not use {action.kind}")


Hook = Callable[[ChatDriver, FormView], Awaitable[None]]


async def fill_by_script(
    env: BotEnv,
    driver: ChatDriver,
    form_id: int,
    script: SeedScript,
    hooks: Mapping[str, Hook] | None = None,
    limit: int = 400,
) -> FormView:
    """Answer steps until the review step. `hooks` run once when their step address comes up
    (mistakes, pauses) before the script's own answer to that step."""
    pending = dict(hooks or {})
    for _ in range(limit):
        view = await env.view(form_id)
        step = view.prompt.step
        hook = pending.pop(step, None)
        if hook is not None:
            await hook(driver, view)
            continue
        scripted = script.next_action(step, view.form.state)
        if scripted is None:
            return view
        before = view.form.version
        await perform(driver, scripted.action)
        after = await env.form(form_id)
        if scripted.expect_refusal is not None:
            assert after.version == before, f"a refused answer changed the form at {step}"
            assert "✗" in (driver.last_text or ""), driver.transcript()
        else:
            assert after.state.cursor != view.form.state.cursor or after.version != before, (
                f"stuck at {step}\n{driver.transcript()}"
            )
    raise AssertionError(f"no review after {limit} steps\n{driver.transcript()}")


ROLE_BUTTONS = {"supervisor": "邀请审核人", "district": "邀请区级审核人", "staff": "邀请填报人员"}


async def join_as(env: BotEnv, name: str, role: str, department: str | None = None) -> ChatDriver:
    """The admin invites `name` in chat (role: supervisor, district or staff) and they join."""
    admin = env.admin
    await admin.say("/invite")
    await admin.tap(ROLE_BUTTONS[role], exact=True)
    if department is not None:
        await admin.tap(department, exact=True)
    person = env.person(name)
    await person.say(f"/join {invite_code(admin.last_text)}")
    assert "已加入" in (person.last_text or ""), person.transcript()
    return person


async def open_round(env: BotEnv, *departments: str, year: int = 2021) -> None:
    admin = env.admin
    for name in departments:
        await admin.say(f"/newdept {name}")
    await admin.say(f"/newround {year} {year}-03-31")
    await admin.tap("2021 版表样")
