"""Where a bot process spends its CPU, with the standard profilers, summarised for BENCHMARKS.md.

- py-spy (`pip install py-spy`), preferred: it samples every thread of the running process from
  outside (`py-spy record --pid PID --format raw`), only for the phase measured, without slowing
  the process down. The bot's database work runs in worker threads, so this matters.
- cProfile, when py-spy is not installed: the process runs as `python -m cProfile -o FILE -m
  bench.bot_main` and writes FILE when SIGINT stops it. cProfile sees the main thread only (the
  event loop: PTB, HTTP, rendering), from start to stop, and slows every call down.

Both are summarised the same way: the share of CPU by area (library or package, by the file of
the function running), the functions with the most own time, and ours by time with callees.
"""

from __future__ import annotations

import asyncio
import contextlib
import pstats
import shutil
import signal
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

OUR_PACKAGES = ("bot/", "storage/", "dialogs/", "exports/")
AREAS = (
    ("sqlalchemy/", "SQLAlchemy (ORM, Core, compiling, result rows)"),
    ("psycopg", "psycopg (PostgreSQL driver)"),
    ("sqlite3", "sqlite3 (SQLite driver and engine)"),
    ("httpx/", "HTTP client (httpx, httpcore, h11)"),
    ("httpcore/", "HTTP client (httpx, httpcore, h11)"),
    ("h11/", "HTTP client (httpx, httpcore, h11)"),
    ("anyio/", "HTTP client (httpx, httpcore, h11)"),
    ("telegram/", "python-telegram-bot"),
    ("dialogs/", "dialogs/ (engine, checks, prompts)"),
    ("storage/", "storage/ (repositories, state codec)"),
    ("bot/", "bot/ (handlers, service, rendering)"),
    ("jinja2/", "jinja2 (message templates)"),
    ("json/", "json"),
    ("asyncio/", "asyncio and the event loop"),
    ("selectors.py", "asyncio and the event loop"),
    ("logging/", "logging"),
)


@dataclass(frozen=True)
class Row:
    own: float  # seconds or samples with this function running
    total: float  # … or in its callees
    calls: int  # 0 when sampled
    where: str  # short file path
    line: int
    function: str


def area(where: str, function: str) -> str:
    for marker, name in AREAS:
        if marker in f"{where} {function}":
            return name
    return "other (Python runtime, builtins, threads)"


def summary(rows: list[Row], updates: int, top: int = 12) -> list[str]:
    total = sum(r.own for r in rows) or 1.0
    areas: Counter[str] = Counter()
    for row in rows:
        areas[area(row.where, row.function)] += row.own
    lines = ["| area | share of CPU |", "|---|---|"]
    lines += [
        f"| {name} | {100 * value / total:.0f} % |"
        for name, value in areas.most_common()
        if value / total >= 0.005
    ]
    lines += ["", "Functions with the most own CPU:", ""]
    for row in sorted(rows, key=lambda r: -r.own)[:top]:
        lines.append(
            f"- `{row.where}:{row.line} {row.function}`: {100 * row.own / total:.1f} % "
            f"({100 * row.total / total:.0f} % with callees)"
        )
    lines += ["", "Our functions, by CPU with callees:", ""]
    ours = [r for r in rows if r.where.startswith(OUR_PACKAGES)]
    for row in sorted(ours, key=lambda r: -r.total)[:top]:
        calls = f", {row.calls / updates:.1f} calls an update" if row.calls and updates else ""
        lines.append(
            f"- `{row.where}:{row.line} {row.function}`: {100 * row.total / total:.0f} %{calls}"
        )
    return lines


def _short(filename: str) -> str:
    parts = Path(filename).parts
    root = Path(__file__).resolve().parent.parent
    with contextlib.suppress(ValueError):
        return str(Path(filename).resolve().relative_to(root))
    for marker in ("site-packages", "lib"):
        if marker in parts:
            index = len(parts) - 1 - parts[::-1].index(marker)
            return "/".join(parts[index + 1 :])
    return filename


# --- py-spy --------------------------------------------------------------------------------------


def py_spy() -> str | None:
    """The py-spy executable (beside this interpreter, or on PATH), if installed."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


class PySpy:
    """`py-spy record` attached to `pid` from `start` to `stop`, raw (collapsed) stacks."""

    def __init__(self, executable: str, pid: int, output: Path, rate: int = 100) -> None:
        self.command = [
            executable, "record", "--pid", str(pid), "--format", "raw",
            "--rate", str(rate), "--nonblocking", "--output", str(output),
        ]  # fmt: skip
        self.output = output
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await asyncio.sleep(0.5)  # attached before the phase starts

    async def stop(self) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGINT)  # py-spy writes its output and exits
        await asyncio.wait_for(self.process.wait(), 30)

    def rows(self) -> list[Row]:
        own: Counter[tuple[str, int, str]] = Counter()
        total: Counter[tuple[str, int, str]] = Counter()
        for line in self.output.read_text(encoding="utf-8", errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = [_frame(f) for f in stack.split(";")]
            own[frames[-1]] += int(count)
            # Time with callees counts from the task step or the pooled call down: the frames
            # above it (the CLI, run_polling, the event loop) hold every sample of the thread.
            roots = [n for n, frame in enumerate(frames) if frame[2] in _WORK_ROOTS]
            for frame in set(frames[roots[-1] + 1 :] if roots else frames[-1:]):
                total[frame] += int(count)
        return [Row(n, total[k], 0, k[0], k[1], k[2]) for k, n in own.items()] + [
            Row(0, n, 0, k[0], k[1], k[2]) for k, n in total.items() if k not in own
        ]


_WORK_ROOTS = frozenset({"Handle._run", "_WorkItem.run"})  # a task's step, a pooled call


def _frame(text: str) -> tuple[str, int, str]:
    """`function (file:line)` → (file, line, function)."""
    function, _, rest = text.rpartition(" (")
    where, _, line = rest.rstrip(")").rpartition(":")
    return _short(where), int(line) if line.isdigit() else 0, function


# --- cProfile ------------------------------------------------------------------------------------


def cprofile_wrapper(output: Path) -> list[str]:
    """Interpreter options that run the module under cProfile, writing `output` at exit."""
    return ["-m", "cProfile", "-o", str(output)]


def cprofile_rows(output: Path) -> list[Row]:
    stats = pstats.Stats(str(output))
    table = stats.stats  # type: ignore[attr-defined]
    return [
        Row(own, cumulative, calls, _short(filename), line, function)
        for (filename, line, function), (_, calls, own, cumulative, _) in table.items()
    ]
