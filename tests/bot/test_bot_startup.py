"""Start-up and Telegram's rules: the command menu, the webhook's secret token, the token never in
the logs, retries on 429/5xx/dropped connections, and answers kept when replies cannot be sent."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError
from bot.startup import (
    RedactToken,
    build_application,
    configure_logging,
    quiet_http_logs,
    run_bot,
    webhook_options,
)
from tests.support.bot import (
    BotEnv,
    join_as,
    make_settings,
    open_round,
    quick_limiter,
    sqlite_database,
)
from tests.support.fake_bot_api import DEFAULT_TOKEN, FakeBotApi
from tests.support.telegram_client import ChatDriver, free_port, post_update_to_webhook

# PTB 22 warns about its own RetryAfter int/timedelta migration when one is raised.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
SECRET = "s3cret-Token_42"
REPO = Path(__file__).resolve().parents[2]
X = "区委宣传部"


def names(commands: list[tuple[str, str]]) -> set[str]:
    return {name for name, _ in commands}


async def test_command_menu_is_registered_in_chinese(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path) as env:
        default = env.fake.get_commands()
        assert len(default) >= 6
        assert {"start", "help", "fill", "review", "submit", "cancel", "status", "export"} <= names(
            default
        )
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for _, text in default)
        admin_scope = {"type": "chat", "chat_id": env.admin_user.id}
        assert {"admin", "invite", "newdept", "newround", "fill"} <= names(
            env.fake.get_commands(admin_scope)
        )
        await open_round(env, X)
        supervisor = await join_as(env, "审核人", "supervisor", X)
        scope = {"type": "chat", "chat_id": supervisor.user.id}
        assert "invite" in names(env.fake.get_commands(scope))
        assert "newround" not in names(env.fake.get_commands(scope))


def _update(chat_id: int, text: str) -> dict[str, object]:
    return {
        "update_id": 777,
        "message": {
            "message_id": 5,
            "date": 0,
            "chat": {"id": chat_id, "type": "private", "first_name": "管理员"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "管理员"},
            "text": text,
        },
    }


async def test_webhook_answers_403_without_the_secret_token(tmp_path: Path) -> None:
    port = free_port()
    async with FakeBotApi(default_timeout=10.0) as fake:
        admin = fake.user("管理员")
        database = sqlite_database(tmp_path)
        settings = make_settings(
            fake,
            database,
            [admin.id],
            WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/hook",
            WEBHOOK_SECRET_TOKEN=SECRET,
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=port,
        )
        options = webhook_options(settings)
        app = build_application(settings, database, rate_limiter=quick_limiter())
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_webhook(**options)
            if app.post_init is not None:
                await app.post_init(app)
            try:
                url = f"http://127.0.0.1:{port}/telegram/hook"
                assert fake.webhook.url == url and fake.webhook.secret_token == SECRET
                assert (
                    await post_update_to_webhook(url, _update(admin.id, "/start"))
                ).status_code == 403
                wrong = await post_update_to_webhook(url, _update(admin.id, "/start"), "wrong")
                assert wrong.status_code == 403
                await asyncio.sleep(0.1)
                assert fake.sent(admin.id) == []  # nothing of the refused posts was processed
                driver = ChatDriver(fake, admin, app=app, timeout=10.0)
                replies = await driver.say("/start")  # the fake posts with the secret
                assert replies and "管理员" in (replies[0].visible_text or "")
            finally:
                await app.updater.stop()
                await app.stop()
        database.dispose()


def test_webhook_settings_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = {"TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN, "JIXIAO_DATA_DIR": str(tmp_path)}
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]
    with pytest.raises(SettingsError, match="WEBHOOK_URL"):
        webhook_options(settings)
    assert run_bot(settings, webhook=True) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "WEBHOOK_URL" in error and "Traceback" not in error
    no_secret = settings.model_copy(update={"webhook_url": "https://example.org/tg"})
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET_TOKEN"):
        webhook_options(no_secret)


async def test_debug_logs_of_set_webhook_show_neither_the_token_nor_the_secret(
    tmp_path: Path,
) -> None:
    """DEBUG on, logging configured as `jixiao webhook` does, then setWebhook: PTB logs the
    call's parameters (the secret token among them) and the Bot API URL (with the token)."""
    secret = "debug-Webhook_secret-9f3a"
    port = free_port()
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)  # a root handler before start, like basicConfig's
    level = root.level
    try:
        async with FakeBotApi(default_timeout=10.0) as fake:
            database = sqlite_database(tmp_path)
            settings = make_settings(
                fake,
                database,
                [],
                WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
                WEBHOOK_SECRET_TOKEN=secret,
                WEBHOOK_PORT=port,
            )
            token = settings.telegram_bot_token
            assert token is not None
            configure_logging(token.get_secret_value(), secret)
            root.setLevel(logging.DEBUG)
            for name in ("telegram", "httpx", "httpcore"):
                logging.getLogger(name).setLevel(logging.DEBUG)
            app = build_application(settings, database, rate_limiter=quick_limiter())
            async with app:
                await app.start()
                assert app.updater is not None
                await app.updater.start_webhook(**webhook_options(settings))
                assert fake.webhook.secret_token == secret
                await app.updater.stop()
                await app.stop()
            database.dispose()
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        for name in ("telegram", "httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.NOTSET)
        quiet_http_logs()
    logged = stream.getvalue()
    assert "setWebhook" in logged and "DEBUG" in logged  # the call was logged, in detail
    assert secret not in logged
    assert DEFAULT_TOKEN not in logged and DEFAULT_TOKEN.split(":")[1] not in logged
    assert "<WEBHOOK_SECRET>" in logged


def test_redact_token_filter() -> None:
    record = logging.LogRecord(
        "x",
        logging.ERROR,
        __file__,
        1,
        "GET %s failed",
        (f"https://api.telegram.org/bot{DEFAULT_TOKEN}/getMe",),
        None,
    )
    RedactToken(DEFAULT_TOKEN).filter(record)
    assert DEFAULT_TOKEN not in record.getMessage() and "<TOKEN>" in record.getMessage()


async def test_token_never_reaches_the_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with BotEnv.running(tmp_path) as env:
        await env.admin.say("/start")
        env.fake.fail_next("sendMessage", n=20, status=500)
        await env.admin.say("/help", expect_reply=False)  # fails for good: logged with traceback
    assert any(r.exc_info for r in caplog.records if r.name == "bot.startup")
    assert caplog.records and DEFAULT_TOKEN not in caplog.text
    assert DEFAULT_TOKEN.split(":")[1] not in caplog.text
    assert not [r for r in caplog.records if r.name.startswith("httpx") and r.levelno < 30]


async def staff_at_total(env: BotEnv) -> ChatDriver:
    await open_round(env, X)
    staff = await join_as(env, "张三", "staff", X)
    await staff.say("/fill")
    await staff.tap("部门整体支出绩效目标表")
    return staff


async def test_flood_waits_and_server_errors_are_retried(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path) as env:
        staff = await staff_at_total(env)
        flood = env.fake.fail_next("sendMessage", status=429, retry_after=1)
        replies = await staff.say("100")
        assert flood.fired == 1 and "✓ 资金总额：100 万元" in (replies[-1].visible_text or "")
        server = env.fake.fail_next("sendMessage", status=502)
        replies = await staff.say("100")
        assert server.fired == 1 and "一般公共预算拨款：100 万元" in (
            replies[-1].visible_text or ""
        )
        dropped = env.fake.fail_next("sendMessage", drop=True)
        replies = await staff.tap("跳过", exact=True)
        assert dropped.fired == 1 and "已跳过" in (replies[-1].visible_text or "")
        slow_button = env.fake.fail_next("answerCallbackQuery", status=500)
        await staff.tap("跳过", exact=True)
        assert slow_button.fired == 1 and staff.last_answer is not None


async def test_a_reply_that_cannot_be_sent_loses_no_answer(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path) as env:
        staff = await staff_at_total(env)
        form_id = await env.current_form(staff)
        outage = env.fake.fail_next("sendMessage", n=100, status=500)
        await staff.say("123.45", expect_reply=False)
        assert outage.fired >= 2  # the reply, retried, then the error message
        env.fake.clear_faults()
        stored = await env.form(form_id)
        assert str(stored.state.values["total"]) == "123.45"
        resumed = "\n".join(m.visible_text or "" for m in await staff.say("/fill"))
        assert "一般公共预算拨款" in resumed
        # an answer whose reply was delivered but reported lost is stored once
        lost = env.fake.fail_next("sendMessage", status=500, processed=True)
        await staff.say("123.45")
        assert lost.fired == 1
        after = await env.form(form_id)
        assert after.version == stored.version + 1


async def test_jixiao_run_migrates_answers_and_stops_cleanly(tmp_path: Path) -> None:
    """The real process: `jixiao run` against the fake, on a database it migrates at start."""
    async with FakeBotApi(default_timeout=20.0) as fake:
        admin = fake.user("管理员")
        environment = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE_URL": fake.api_base_url,
            "TELEGRAM_FILE_BASE_URL": fake.file_base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
            "ADMIN_TELEGRAM_IDS": str(admin.id),
            "JIXIAO_DATA_DIR": str(tmp_path),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            cwd=REPO,
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            fake.send_text(admin, None, "/start")
            reply = await fake.wait_for_message(admin.id, timeout=30)
            assert "管理员" in (reply.visible_text or "")
            await fake.wait_until(lambda: len(fake.get_commands()) >= 6, timeout=10)
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
        log = stderr.decode()
        assert process.returncode == 0, log
        assert DEFAULT_TOKEN not in log and "Traceback" not in log
        assert "getUpdates" not in log  # httpx request lines stay below WARNING
