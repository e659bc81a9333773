"""`jixiao chat` in-process with typed lines, and the screen as a person would see it (each
typed line echoed after its prompt, as a real terminal shows it)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from bot.settings import Settings
from bot.terminal import run_terminal


def terminal_settings(directory: Path) -> Settings:
    return Settings(
        JIXIAO_DATA_DIR=directory, DATABASE_URL=f"sqlite:///{directory / 'chat.sqlite3'}"
    )


def transcript(
    directory: Path,
    department: str,
    year: int | None,
    typed: Sequence[str],
    layout: str | None = None,
) -> tuple[int, str]:
    """Exit code and screen of one `jixiao chat` session that reads `typed`, then Ctrl-D."""
    pending = list(typed)
    screen = io.StringIO()

    def read(label: str) -> str:
        if not pending:
            raise EOFError
        line = pending.pop(0)
        screen.write(f"{label}{line}\n")
        return line

    code = run_terminal(
        terminal_settings(directory), department, year, layout, read=read, out=screen
    )
    return code, screen.getvalue()
