"""Bot processes for the benchmarks over HTTP: our bot (`python -m bench.bot_main`, which is
`jixiao run` with pacing off) or the echo bot (`python -m bench.echo_bot`), each long polling a
`LoopbackBotApi` of this process, configured through the environment as in production.

    process = BotProcess("jixiao", "bench.bot_main", bot_environment(api, url, workdir), log)
    await process.start(api)        # returns once the process polls the loopback API
    before = process.cpu_seconds()  # user + system time of all its threads (/proc/PID/stat)
    await process.stop()            # SIGINT, as Ctrl-C: PTB stops polling and returns

Each process writes its output to a log file (a pipe nobody reads would block it), shown when
it fails to start. Processes are ended by their own pid only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.loopback import LoopbackBotApi

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0  # imports, migrations and PTB's start of a fresh interpreter, when loaded
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def bot_environment(
    api: LoopbackBotApi, database_url: str, data_dir: Path, **extra: str
) -> dict[str, str]:
    """The environment of a bot process pointed at `api` and `database_url`."""
    return process_environment(
        api.token, api.api_base_url, api.file_base_url, database_url, data_dir, **extra
    )


def process_environment(
    token: str,
    api_base_url: str,
    file_base_url: str,
    database_url: str,
    data_dir: Path,
    **extra: str,
) -> dict[str, str]:
    """The environment of a bot process of this checkout talking to the Bot API at
    `api_base_url` (the fault tests' processes use it too). The parent's environment is kept
    (PATH, the virtualenv) except settings a developer may have exported; no admins unless
    `extra` names them."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "WEBHOOK_", "JIXIAO_", "ADMIN_"))
        and key != "DATABASE_URL"
    }
    return {
        **inherited,
        "PYTHONPATH": os.pathsep.join(
            part for part in (str(ROOT), os.environ.get("PYTHONPATH", "")) if part
        ),
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": api_base_url,
        "TELEGRAM_FILE_BASE_URL": file_base_url,
        "DATABASE_URL": database_url,
        "JIXIAO_DATA_DIR": str(data_dir),
        "ADMIN_TELEGRAM_IDS": "",
        **extra,
    }


@dataclass
class BotProcess:
    name: str
    module: str  # run as `python [wrapper…] -m MODULE`
    environment: dict[str, str]
    log_path: Path
    wrapper: list[str] = field(default_factory=list)  # e.g. ["-m", "cProfile", "-o", FILE]
    process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, api: LoopbackBotApi) -> None:
        """Start the process (in the log file's directory, so no `.env` of the developer's is
        read) and wait until it polls `api`."""
        api.polling.clear()
        log = self.log_path.open("ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                *self.wrapper,
                "-m",
                self.module,
                env=self.environment,
                cwd=self.log_path.parent,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        finally:
            log.close()
        polling = asyncio.ensure_future(api.polling.wait())
        exited = asyncio.ensure_future(self.process.wait())
        done, _ = await asyncio.wait(
            {polling, exited}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        polling.cancel()
        exited.cancel()
        if polling not in done:
            await self.stop()
            raise RuntimeError(f"{self.name} did not start polling:\n{self.tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far, all its threads (Linux /proc)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS

    async def stop(self, timeout: float = 30.0) -> int | None:
        """SIGINT (PTB stops polling, the process exits and a profiler around it writes its
        output); killed if it has not ended within `timeout`."""
        process = self.process
        if process is None or process.returncode is not None:
            return None if process is None else process.returncode
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        try:
            return await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            return await process.wait()

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])
