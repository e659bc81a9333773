"""`jixiao chat`: the seed department filled in the terminal, and resumed after a stop."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.service import FilingService
from bot.settings import Settings
from bot.terminal import run_terminal
from dialogs.actions import ActionKind
from dialogs.definition import TableKind
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
