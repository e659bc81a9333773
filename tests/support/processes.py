"""Real bot processes for fault tests: `python -m bot.cli run|webhook` against the loopback fake.

    async with BotProcesses(tmp_path) as processes:
        bot = processes.polling("bot", bot_environment(fake, database_url, admins=[…]))
        await bot.start(fake)        # returns once the process polls the fake
        bot.kill()                   # SIGKILL: no clean-up of any kind in the process
        await bot.start(fake)        # a new process on the same database

Each process writes its stdout and stderr to a log file in the test's directory (a pipe nobody
reads would block it), shown by `tail()` when a test fails. Processes are ended by their own
pid, and every process still running when the context ends is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from bench.processes import ROOT, process_environment
from tests.support.fake_bot_api import DEFAULT_TOKEN, FakeBotApi

START_TIMEOUT = 30.0  # imports, migrations and PTB start-up of a fresh interpreter


def bot_environment(
    fake: FakeBotApi,
    database_url: str,
    data_dir: Path,
    *,
    admins: Iterable[int] = (),
    **extra: str,
) -> dict[str, str]:
    """The environment of `jixiao run|webhook` pointed at `fake` and `database_url` (the
    benchmarks' processes get theirs the same way)."""
    return process_environment(
        DEFAULT_TOKEN,
        fake.api_base_url,
        fake.file_base_url,
        database_url,
        data_dir,
        ADMIN_TELEGRAM_IDS=",".join(str(a) for a in admins),
        **extra,
    )


@dataclass
class BotProcess:
    """One bot process (started again after a kill under the same name, a new pid each time)."""

    name: str
    command: str  # "run" (long polling) or "webhook"
    environment: dict[str, str]
    log_path: Path
    port: int | None = None  # the webhook server's port
    process: asyncio.subprocess.Process | None = None
    pids: list[int] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @property
    def webhook_url(self) -> str:
        assert self.port is not None, f"{self.name} is not a webhook process"
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self, fake: FakeBotApi) -> None:
        """Start the process and wait until it can take updates: for polling, its first
        getUpdates reached the fake; for a webhook, it set its webhook and its port accepts
        connections."""
        if self.running:
            raise AssertionError(f"{self.name} is already running (pid {self.pids[-1]})")
        mark = len(fake.requests)
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start #{len(self.pids) + 1} ---\n".encode())
            log.flush()
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                self.command,
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=log,
            )
        self.pids.append(self.process.pid)
        deadline = time.monotonic() + START_TIMEOUT
        if self.command == "run":
            await self._until(deadline, lambda: _called(fake, "getUpdates", mark))
        else:
            await self._until(deadline, lambda: _webhook_set(fake, mark, self.webhook_url))
            await self._until(deadline, lambda: _accepts(self.port or 0))

    async def _until(self, deadline: float, ready: Callable[[], bool]) -> None:
        while not ready():
            if not self.running:
                raise AssertionError(f"{self.name} exited during start-up\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} not ready in {START_TIMEOUT:g}s\n{self.tail()}")
            await asyncio.sleep(0.02)  # polling a condition, not timing a result

    def kill(self) -> None:
        """SIGKILL, as the kernel's OOM killer or a power cut would end it."""
        if self.running:
            assert self.process is not None
            os.kill(self.process.pid, signal.SIGKILL)

    async def wait_killed(self) -> None:
        if self.process is not None:
            await self.process.wait()

    async def stop(self, timeout: float = 15.0) -> int | None:
        """SIGINT (a clean stop, as Ctrl-C), then SIGKILL if it does not end in time."""
        if self.process is None:
            return None
        if self.running:
            os.kill(self.process.pid, signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self.kill()
                await self.process.wait()
        return self.process.returncode

    def tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return f"[{self.name}: no log]"
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return f"[{self.name} log, last {lines} lines]\n" + "\n".join(text[-lines:])


class BotProcesses:
    """The bot processes of one test; all of them are ended when the context ends."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.processes: list[BotProcess] = []

    def polling(self, name: str, environment: dict[str, str]) -> BotProcess:
        return self._add(BotProcess(name, "run", environment, self._log(name)))

    def webhook(self, name: str, environment: dict[str, str], secret: str) -> BotProcess:
        port = free_port()
        url = f"http://127.0.0.1:{port}/hook"
        settings = {
            "WEBHOOK_URL": url,
            "WEBHOOK_SECRET_TOKEN": secret,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
        }
        process = BotProcess(name, "webhook", {**environment, **settings}, self._log(name), port)
        return self._add(process)

    def _log(self, name: str) -> Path:
        return self.directory / f"{name}.log"

    def _add(self, process: BotProcess) -> BotProcess:
        self.processes.append(process)
        return process

    def tails(self) -> str:
        return "\n".join(process.tail() for process in self.processes)

    async def __aenter__(self) -> BotProcesses:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for process in self.processes:
            process.kill()
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                await process.wait_killed()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _called(fake: FakeBotApi, method: str, after: int) -> bool:
    return any(r.method == method for r in fake.requests[after:])


def _webhook_set(fake: FakeBotApi, after: int, url: str) -> bool:
    return any(
        r.method == "setWebhook" and r.ok and r.params.get("url") == url
        for r in fake.requests[after:]
    )


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0
