"""`jixiao chat`: the seed department filled in the terminal, and resumed after a stop."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from bot.service import FilingService
from bot.settings import Settings
from bot.terminal import command_of, run_terminal
from dialogs.actions import ActionKind
from dialogs.definition import TableKind
from exports.text import table_b_lines
from storage.db import Database
from storage.repos import FormRepository
from tests.support.scripted import SeedScript
from tests.support.seed import (
    DIRECTIONS,
    KEY_TASKS,
    SEED_DEPARTMENT,
    TABLE_A_ANSWERS,
    TABLE_A_INDICATORS,
    table_a_state,
)
from tests.support.terminal import terminal_settings, transcript

ROOT = Path(__file__).resolve().parents[2]


class TerminalUser:
    """Types what a person reading the screen would: the current step is read from the same
    database the terminal writes to, the input goes through the terminal's own prompt."""

    def __init__(self, database: Database, scripts: list[SeedScript]) -> None:
        self.service = FilingService(database)
        self.database = database
        self.scripts = scripts
        self.form_id: int | None = None
        self.typed: list[str] = []

    def __call__(self, label: str) -> str:
        text = self._next(label)
        self.typed.append(text)
        return text

    def _next(self, label: str) -> str:
        if label == "请选择：":
            if not self.scripts:
                return ":q"
            self.form_id = None
            with self.database.transaction() as session:
                forms = FormRepository(session).list_for_round(1)
            has_a = any(f.kind is TableKind.A for f in forms)
            directions = sum(1 for f in forms if f.kind is TableKind.C)
            # Menu: :1 = table A, then one line per direction, then "new direction".
            return ":1" if not has_a else f":{2 + directions}"
        if label.startswith("以上提示"):
            return "n"
        assert label == "> ", label
        if self.form_id is None:
            self.form_id = self.service.current_form_id(1)
        assert self.form_id is not None
        view = self.service.view(self.form_id)
        scripted = self.scripts[0].next_action(view.prompt.step, view.state)
        if scripted is None:
            self.scripts.pop(0)
            return ":m"
        action = scripted.action
        if action.kind is ActionKind.ANSWER:
            return action.text
        if action.kind is ActionKind.SKIP:
            return ":s"
        buttons = [*view.prompt.buttons, *view.prompt.row_buttons]
        index = next(i for i, b in enumerate(buttons) if b.action.kind is action.kind)
        return f":{index + 1}"


def _settings(tmp_path: Path) -> Settings:
    return Settings(JIXIAO_DATA_DIR=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 't.sqlite3'}")


def test_terminal_fills_table_a_and_a_direction(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    database = Database(settings.effective_database_url)
    database.upgrade()
    scripts = [
        SeedScript(TABLE_A_ANSWERS, {"key_tasks": KEY_TASKS}, TABLE_A_INDICATORS),
        SeedScript(dict(DIRECTIONS[1].answers), {}, DIRECTIONS[1].indicators),
    ]
    user = TerminalUser(database, scripts)
    out = io.StringIO()
    assert run_terminal(settings, SEED_DEPARTMENT, 2021, "2021", read=user, out=out) == 0
    with database.transaction() as session:
        forms = FormRepository(session).list_for_round(1)
    table_a = next(f for f in forms if f.kind is TableKind.A)
    assert table_a.state.values["total"] == table_a_state().values["total"]
    assert len(table_a.state.groups["key_tasks"]) == len(KEY_TASKS)
    assert [f.instance_name for f in forms if f.kind is TableKind.C] == [DIRECTIONS[1].name]
    screen = out.getvalue()
    assert "资金总额" in screen and "▓" in screen and "已暂停" in screen
    database.dispose()


def _chat(tmp_path: Path, typed: str) -> subprocess.CompletedProcess[str]:
    """`jixiao chat` as a separate process (a new process each time), fed `typed` on stdin."""
    env = {**os.environ, "JIXIAO_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "bot.cli", "chat", "--department", "测试部", "--year", "2022"]
    done = subprocess.run(
        command,
        input=typed,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.slow
def test_console_script_pauses_and_resumes_at_the_same_step(tmp_path: Path) -> None:
    first = _chat(tmp_path, ":1\n100\n")
    assert "✓ 资金总额：100 万元" in first.stdout and "已暂停" in first.stdout
    resumed = _chat(tmp_path, ":1\n").stdout.split("已完成", 1)[1]
    assert "请输入「其中：一般公共预算拨款」" in resumed


# --- typed text is the answer; buttons are `:N` -------------------------------------------------

DEPARTMENT = "青禾县水利局"


@pytest.mark.parametrize(("year", "layout"), [(2022, "2021"), (2025, "2023")])
def test_digits_at_an_amount_step_are_the_amount(tmp_path: Path, year: int, layout: str) -> None:
    # At 资金总额 the screen offers buttons; "1", "2", "3" are still the amounts typed.
    typed = [":1", "3", "2", "1"]
    code, screen = transcript(tmp_path, DEPARTMENT, year, typed, layout)
    assert code == 0
    database = Database(terminal_settings(tmp_path).effective_database_url)
    with database.transaction() as session:
        (form,) = FormRepository(session).list_for_round(1)
    database.dispose()
    values = form.state.values
    amounts = sorted(v for v in values.values() if isinstance(v, Decimal))
    assert values["total"] == Decimal(3) and amounts == [Decimal(1), Decimal(2), Decimal(3)]
    assert "✓ 资金总额：3 万元" in screen and "📋 预览" in screen
    assert "[:1]" in screen and "[1]" not in screen


def test_buttons_and_shortcuts_need_the_colon(tmp_path: Path) -> None:
    # `:2` at 一般公共预算拨款 is its second button (跳过); `：b` (full-width) goes back;
    # an unknown colon command changes nothing and says so.
    typed = [":1", "88", "：b", ":9", ":z", "88", ":2"]
    code, screen = transcript(tmp_path, DEPARTMENT, 2025, typed)
    assert code == 0
    assert screen.count("没有“:9”这个选项") == 1 and screen.count("没有“:z”这个选项") == 1
    database = Database(terminal_settings(tmp_path).effective_database_url)
    with database.transaction() as session:
        (form,) = FormRepository(session).list_for_round(1)
    database.dispose()
    assert form.state.values["total"] == Decimal(88)
    assert len([v for v in form.state.values.values() if isinstance(v, Decimal)]) == 1


@pytest.mark.parametrize(
    ("typed", "command"),
    [(":1", ":1"), ("：12", ":12"), (" :B ", ":b"), ("1", ""), ("12", ""), ("0.5", ""),
     (":", ""), ("我们:1", ""), ("≥1次", "")],
)
def test_what_counts_as_a_command(typed: str, command: str) -> None:
    assert command_of(typed) == command


# --- table B before export ------------------------------------------------------------------------


def test_table_b_is_shown_from_the_menu_and_at_any_step(tmp_path: Path) -> None:
    typed = [
        ":2",  # new direction (table C)
        "堤防加固",
        ":m",
        ":4",  # the menu now: A, the direction, new direction, table B
        ":1",  # table A
        ":t",
    ]
    code, screen = transcript(tmp_path, DEPARTMENT, 2025, typed)
    assert code == 0
    database = Database(terminal_settings(tmp_path).effective_database_url)
    service = FilingService(database)
    with database.transaction() as session:
        forms = FormRepository(session).list_for_round(1)
    direction = next(f for f in forms if f.kind is TableKind.C)
    lines = table_b_lines(service.department_filing(direction.department_id, 1))
    database.dispose()
    block = "\n".join(lines)
    assert screen.count(block) == 2  # from the menu, and with :t during table A
    assert "堤防加固" in block and "2025年" in block


# --- where the data is ---------------------------------------------------------------------------


def test_chat_says_where_the_database_is(tmp_path: Path) -> None:
    code, screen = transcript(tmp_path, DEPARTMENT, 2025, [])
    assert code == 0
    assert screen.splitlines()[0] == f"数据库：{(tmp_path / 'chat.sqlite3').resolve()}"
