"""A bot process for the kill-and-restart test: the real application with the reminders on a
fixed fake clock, against the fake Bot API of the test process.

    python -m tests.support.bot_process DATABASE_URL API_BASE FILE_BASE NOW WORKER BATCH

It only runs the application's JobQueue (no polling: this process has no users to answer); the
first reminder tick runs at start, as after any restart.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from typing import Any

from bot.reminders import ReminderConfig, install_reminders
from bot.settings import Settings
from bot.startup import build_application
from storage.db import Database
from tests.support.bot import quick_limiter
from tests.support.clock import FakeClock
from tests.support.fake_bot_api import DEFAULT_TOKEN


async def main(url: str, api: str, files: str, now: str, worker: str, batch: int) -> None:
    values: dict[str, Any] = {
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_API_BASE_URL": api,
        "TELEGRAM_FILE_BASE_URL": files,
        "DATABASE_URL": url,
    }
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    database = Database(url)
    app = build_application(settings, database, rate_limiter=quick_limiter(), reminders=False)
    config = ReminderConfig(worker=worker, batch_size=batch, first_tick=0.1, tick_seconds=0.5)
    install_reminders(
        app, database, settings, clock=FakeClock(datetime.fromisoformat(now)), config=config
    )
    async with app:
        await app.start()
        print("started", flush=True)
        await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    url, api, files, now, worker, batch = sys.argv[1:7]
    asyncio.run(main(url, api, files, now, worker, int(batch)))
