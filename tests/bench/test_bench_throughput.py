"""The throughput benchmark's machinery, run small so that it cannot rot unnoticed: both bots in
their own processes over HTTP against the loopback Bot API, three users on SQLite. Nothing here
asserts a timing; only that the conversations went through."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bench.chat_script import table_a_script
from bench.databases import LAYOUT, YEAR, sqlite_database
from bench.throughput import run_echo, run_ours

pytestmark = pytest.mark.slow
USERS = 3


async def test_three_users_fill_table_a_through_both_bots_over_http(tmp_path: Path) -> None:
    script = table_a_script(LAYOUT, YEAR)
    args = argparse.Namespace(timeout=60.0, seconds=1.0)
    with sqlite_database() as database:
        found, _ = await run_ours(database, "SQLite", USERS, script, args, tmp_path)
    assert found.cursors and set(found.cursors.values()) == {"review"}, found.cursors
    assert len(found.cursors) == USERS
    # Every update of every user got its reply, none the error message.
    assert found.saturated.updates == USERS * len(script)
    assert found.alone.updates == len(script)
    assert found.saturated.errors == found.alone.errors == 0
    assert all(len(sent) == len(script) for sent in found.sent.values())
    echo, alone = await run_echo(found.sent, args, tmp_path)
    assert echo.updates == USERS * len(script) and echo.errors == 0
    assert alone.updates == len(script)
    assert found.unknown == {}, "the bot called Bot API methods the loopback API does not model"
