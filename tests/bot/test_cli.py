"""`jixiao` as a user runs it, one process per call: a wrong layout, a database that cannot be
used, a Bot API that does not answer and an import without a terminal each end with one clear
line on stderr and a non-zero exit, never a traceback; the round's layout is decided once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dialogs.catalogue import Code
from dialogs.layout_choice import LayoutChoiceError
from storage.db import Database
from storage.repos import RoundRepository
from tests.support.processes import DEFAULT_TOKEN

ROOT = Path(__file__).resolve().parents[2]
DEPARTMENT = "青禾县水利局"


def jixiao(
    tmp_path: Path, *args: str, typed: str | None = "", timeout: float = 90, **env: str
) -> subprocess.CompletedProcess[str]:
    """`python -m bot.cli ARGS` in `tmp_path` with a clean jixiao environment; stdin is `typed`
    (a pipe, not a terminal) or, with typed=None, /dev/null."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "WEBHOOK_", "JIXIAO_")) and key != "DATABASE_URL"
    }
    environment = {
        **inherited,
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "home" / ".local" / "share"),
        "JIXIAO_DATA_DIR": str(tmp_path / "data"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=typed,
        stdin=subprocess.DEVNULL if typed is None else None,
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=timeout,
        check=False,
    )


def one_clear_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


def rounds(tmp_path: Path) -> list[tuple[int, str]]:
    database = Database(f"sqlite:///{tmp_path / 'data' / 'jixiao.sqlite3'}")
    try:
        with database.transaction() as session:
            return [(r.year, r.layout) for r in RoundRepository(session).list_open()]
    finally:
        database.dispose()


# --- the round's layout ---------------------------------------------------------------------------


def chat(tmp_path: Path, year: int, *layout: str) -> subprocess.CompletedProcess[str]:
    args = ["chat", "--department", DEPARTMENT, "--year", str(year), *layout]
    return jixiao(tmp_path, *args)


@pytest.mark.parametrize(("year", "expected"), [(2022, "2021"), (2024, "2023")])
def test_a_new_round_gets_the_default_layout_of_its_year(
    tmp_path: Path, year: int, expected: str
) -> None:
    done = chat(tmp_path, year)
    assert done.returncode == 0, done.stderr
    assert f"（{expected} 版表样）" in done.stdout
    assert rounds(tmp_path) == [(year, expected)]


def test_an_unknown_layout_stops_with_the_known_ones(tmp_path: Path) -> None:
    done = chat(tmp_path, 2024, "--layout", "2022")
    assert done.returncode == 2
    line = one_clear_line(done)
    assert "2022" in line and "2021 版" in line and "2023 版" in line
    assert "--layout 2023" in line  # the year's default, as a valid example
    assert not (tmp_path / "data" / "jixiao.sqlite3").exists() or rounds(tmp_path) == []


def test_a_layout_that_disagrees_with_the_years_round_stops(tmp_path: Path) -> None:
    assert chat(tmp_path, 2025, "--layout", "2021").returncode == 0  # an explicit choice
    done = chat(tmp_path, 2025, "--layout", "2023")
    assert done.returncode == 2
    line = one_clear_line(done)
    assert "2025年填报轮次已是 2021 版" in line and "--layout 2021" in line
    unknown = one_clear_line(chat(tmp_path, 2025, "--layout", "v3"))
    assert "是 2021 版" in unknown
    assert chat(tmp_path, 2025, "--layout", "2021").returncode == 0
    assert chat(tmp_path, 2025).returncode == 0
    assert rounds(tmp_path) == [(2025, "2021")]


def test_telegram_round_creation_follows_the_same_rule(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from bot.roles import Directory

    database = Database(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    database.upgrade()
    directory = Directory(database, frozenset({42}))
    actor = directory.identify(42, "管理员")
    assert actor is not None and actor.is_admin
    deadline = datetime(2026, 3, 31, tzinfo=UTC)
    first = directory.create_round(actor, 2026, deadline, "2023")
    assert directory.create_round(actor, 2026, deadline, "2023") == first  # a repeated press
    for layout, code in (("2021", Code.LAYOUT_CONFLICT), ("1999", Code.LAYOUT_UNKNOWN)):
        with pytest.raises(LayoutChoiceError) as raised:
            directory.create_round(actor, 2026, deadline, layout)
        assert raised.value.problem.code is code
    assert [r.layout for r in directory.open_rounds()] == ["2023"]
    database.dispose()


# --- where the data is, and exports -------------------------------------------------------------


def test_the_default_data_directory_is_the_users_not_the_working_directory(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home" / ".local" / "share" / "jixiao"
    first = jixiao(tmp_path, "chat", "--department", DEPARTMENT, "--year", "2024",
                   typed=":1\n120\n", JIXIAO_DATA_DIR="")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"JIXIAO_DATA_DIR": "", "HOME": str(tmp_path / "home"),
           "XDG_DATA_HOME": str(tmp_path / "home" / ".local" / "share")}
    again = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--department", DEPARTMENT],
        input=":1\n", capture_output=True, text=True, cwd=elsewhere, timeout=90, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    assert f"数据库：{home / 'jixiao.sqlite3'}" in first.stdout
    assert f"数据库：{home / 'jixiao.sqlite3'}" in again.stdout
    # The answer typed from the other folder was found: the form resumes after 资金总额.
    assert "请输入「其中：一般公共预算拨款」" in again.stdout.split("已完成", 1)[1]
    assert not (tmp_path / "data").exists() and not (elsewhere / "data").exists()


def test_jixiao_data_dir_overrides(tmp_path: Path) -> None:
    done = jixiao(tmp_path, "chat", "--department", DEPARTMENT, "--year", "2024",
                  JIXIAO_DATA_DIR=str(tmp_path / "mine"))
    assert done.returncode == 0, done.stderr
    assert f"数据库：{tmp_path / 'mine' / 'jixiao.sqlite3'}" in done.stdout


def test_export_adds_xlsx_or_writes_into_a_directory(tmp_path: Path) -> None:
    assert chat(tmp_path, 2024).returncode == 0
    args = ("export", "--year", "2024", "--department", DEPARTMENT, "-o")
    named = jixiao(tmp_path, *args, "青禾报表")
    assert named.returncode == 0, named.stderr
    assert (tmp_path / "青禾报表.xlsx").is_file()
    (tmp_path / "out").mkdir()
    into = jixiao(tmp_path, *args, "out")
    assert into.returncode == 0, into.stderr
    assert [p.suffix for p in (tmp_path / "out").iterdir()] == [".xlsx"]
    fresh = jixiao(tmp_path, *args, "new/")
    assert fresh.returncode == 0, fresh.stderr
    assert [p.suffix for p in (tmp_path / "new").iterdir()] == [".xlsx"]
    kept = jixiao(tmp_path, "export", "--year", "2024", "-o", "round.XLSX")
    assert kept.returncode == 0 and (tmp_path / "round.XLSX").is_file(), kept.stderr


# --- one failure, one line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("sqlite:///{tmp}/a-file/jixiao.sqlite3", "无法创建 SQLite 数据库文件"),
        ("mysql://user@127.0.0.1/jixiao", "无法使用数据库驱动“mysql”"),
        ("nosuchdb://user@host/db", "无法使用数据库驱动“nosuchdb”"),
        ("not a url", "不是有效的数据库地址"),
    ],
)
@pytest.mark.parametrize("command", [("db", "upgrade"), ("chat", "--department", "部")])
def test_a_bad_database_url_is_one_line(
    tmp_path: Path, url: str, says: str, command: tuple[str, ...]
) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    done = jixiao(tmp_path, *command, DATABASE_URL=url.format(tmp=tmp_path))
    assert done.returncode == 2
    line = one_clear_line(done)
    assert says in line and "DATABASE_URL" in line


def test_an_unreachable_database_server_is_one_line(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://nobody@127.0.0.1:{closed_port()}/jixiao?connect_timeout=3"
    done = jixiao(tmp_path, "db", "upgrade", DATABASE_URL=url)
    assert done.returncode == 1
    assert "数据库无法连接" in one_clear_line(done)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_an_unreachable_bot_api_at_start_is_one_line(tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    done = jixiao(
        tmp_path,
        "run",
        TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
        TELEGRAM_API_BASE_URL=f"{base}/bot",
        TELEGRAM_FILE_BASE_URL=f"{base}/file/bot",
        timeout=120,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("无法连接 Telegram Bot API") and base in last
    assert DEFAULT_TOKEN not in done.stderr


def test_import_without_yes_and_without_a_terminal_is_one_line(tmp_path: Path) -> None:
    args = ("--year", "2024", "--department")
    filled = jixiao(tmp_path, "chat", *args, DEPARTMENT, typed=":1\n120\n")
    assert filled.returncode == 0, filled.stderr
    book = tmp_path / "book.xlsx"
    assert jixiao(tmp_path, "export", *args, DEPARTMENT, "-o", str(book)).returncode == 0
    assert jixiao(tmp_path, "chat", *args, "另一部门").returncode == 0
    for typed in (None, "y\n"):  # /dev/null, or a pipe: neither is someone confirming
        done = jixiao(tmp_path, "import", str(book), *args, "另一部门", typed=typed)
        assert done.returncode == 1
        line = one_clear_line(done)
        assert "--yes" in line and "未做任何修改" in line
        assert "资金总额" in done.stdout  # the plan was shown before the refusal
    applied = jixiao(tmp_path, "import", str(book), *args, "另一部门", "--yes", typed=None)
    assert applied.returncode == 0, applied.stderr
