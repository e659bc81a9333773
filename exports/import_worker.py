"""Reading an uploaded workbook in a child process with a time and a memory budget.

`exports.importer` already bounds the work by the file's declared sizes and the layout's own
limits; this is the second wall, for whatever those checks do not foresee (a parser's worst
case, a bug): the child gets an address-space limit (RLIMIT_AS: an allocation beyond it fails
in the child, never in the bot), a CPU-time limit, and is killed when the wall-clock budget runs
out. The bot's event loop only waits on a pipe, so other users are answered meanwhile.

    python -m exports.import_worker     (stdin: one JSON header line, then the file's bytes;
                                         stdout: the pickled result)

The cheap checks (file size, zip directory, encrypted/old .xls) run in the caller first, so
junk is refused without starting a process.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import pickle
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dialogs.catalogue import Code, Problem
from dialogs.definition import Layout
from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.loader import get_layout
from dialogs.state import FormState
from exports.importer import (
    ImportProblem,
    WorkbookRefused,
    check_archive,
    import_workbook,
    workbook_bytes,
)

_LOGGER = logging.getLogger(__name__)
_ROOT = Path(__file__).resolve().parent.parent  # so the child imports this very code


@dataclass(frozen=True)
class Budget:
    seconds: float = 15.0  # wall clock, from start to result
    cpu_seconds: int = 10
    memory_bytes: int = 512 * 2**20  # address space of the child (a normal read needs < 100 MB)

    def describe(self) -> str:
        return f"{self.seconds:g} 秒、{self.memory_bytes // 2**20} MB"


DEFAULT_BUDGET = Budget()

# What the child sends back: ("filing", table A state or None, C states) or ("problems", list).
_Outcome = tuple[str, FormState | None, list[FormState]] | tuple[str, list[ImportProblem]]


def _too_costly(budget: Budget) -> list[ImportProblem]:
    problem = Problem(Code.IMPORT_TOO_COSTLY, {"limit": budget.describe()})
    return [ImportProblem("工作簿", "", problem.message, problem.code)]


def _command() -> list[str]:
    return [sys.executable, "-m", "exports.import_worker"]


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH", "")]))
    return env


def _request(data: bytes, layout: Layout, department: str, year: int, budget: Budget) -> bytes:
    header = {
        "layout": layout.key,
        "department": department,
        "year": year,
        "cpu_seconds": budget.cpu_seconds,
        "memory_bytes": budget.memory_bytes,
    }
    return json.dumps(header).encode() + b"\n" + data


def _precheck(source: bytes | Path) -> bytes | list[ImportProblem]:
    try:
        data = workbook_bytes(source)
        check_archive(data)
    except WorkbookRefused as refused:
        return [refused.problem]
    except OSError as error:  # the file cannot be read
        detail = f"无法读取文件（{error.strerror or type(error).__name__}）"
        problem = Problem(Code.IMPORT_NOT_WORKBOOK, {"detail": detail})
        return [ImportProblem("工作簿", "", problem.message, problem.code)]
    return data


class _ResultUnpickler(pickle.Unpickler):
    """Only the types a read can produce: the child parses untrusted bytes, so even its
    answer is not trusted to name arbitrary callables."""

    def find_class(self, module: str, name: str) -> Any:
        if module.startswith("dialogs.") or module in ("exports.importer", "decimal"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a result type")


def _result(
    returncode: int | None,
    stdout: bytes,
    stderr: bytes,
    layout: Layout,
    department: str,
    year: int,
    budget: Budget,
) -> DepartmentFiling | list[ImportProblem]:
    if returncode != 0 or not stdout:
        _LOGGER.warning(
            "import worker ended with %s: %s", returncode, stderr.decode(errors="replace")[-500:]
        )
        return _too_costly(budget)
    try:
        outcome = _ResultUnpickler(io.BytesIO(stdout)).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as error:
        _LOGGER.warning("import worker answered something unexpected: %s", error)
        return _too_costly(budget)
    if outcome[0] == "problems":
        return list(outcome[1])
    _, table_a, directions = outcome
    return DepartmentFiling(
        department=department,
        year=year,
        layout=layout,
        table_a=FiledForm(form_id=0, state=table_a) if isinstance(table_a, FormState) else None,
        directions=tuple(FiledForm(form_id=0, state=state) for state in directions),
    )


def read_bounded(
    source: bytes | Path,
    layout: Layout,
    department: str,
    year: int,
    budget: Budget = DEFAULT_BUDGET,
) -> DepartmentFiling | list[ImportProblem]:
    """`import_workbook` in a child process within `budget` (for the command line)."""
    checked = _precheck(source)
    if isinstance(checked, list):
        return checked
    try:
        done = subprocess.run(  # noqa: S603 - our own module, no shell
            _command(),
            input=_request(checked, layout, department, year, budget),
            capture_output=True,
            timeout=budget.seconds,
            env=_environment(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return _too_costly(budget)
    except OSError as error:  # the child could not be started
        _LOGGER.warning("import worker did not start: %s", error)
        return _too_costly(budget)
    return _result(done.returncode, done.stdout, done.stderr, layout, department, year, budget)


async def read_bounded_async(
    source: bytes,
    layout: Layout,
    department: str,
    year: int,
    budget: Budget = DEFAULT_BUDGET,
) -> DepartmentFiling | list[ImportProblem]:
    """`import_workbook` in a child process within `budget`, awaited without a thread."""
    checked = _precheck(source)
    if isinstance(checked, list):
        return checked
    try:
        process = await asyncio.create_subprocess_exec(
            *_command(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_environment(),
        )
    except OSError as error:  # the child could not be started
        _LOGGER.warning("import worker did not start: %s", error)
        return _too_costly(budget)
    request = _request(checked, layout, department, year, budget)
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(request), budget.seconds)
    except TimeoutError:
        return _too_costly(budget)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return _result(process.returncode, stdout, stderr, layout, department, year, budget)


# --- the child ---------------------------------------------------------------------------------


def _limit(cpu_seconds: int, memory_bytes: int) -> None:
    import resource  # POSIX only; the bot runs on Linux

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def main() -> int:
    stdin = sys.stdin.buffer
    header = json.loads(stdin.readline())
    _limit(int(header["cpu_seconds"]), int(header["memory_bytes"]))
    data = stdin.read()
    layout = get_layout(str(header["layout"]))
    try:
        result = import_workbook(data, layout, str(header["department"]), int(header["year"]))
    except MemoryError:
        return 3  # the parent reports the budget
    outcome: _Outcome
    if isinstance(result, list):
        outcome = ("problems", result)
    else:
        table_a = result.table_a.state if result.table_a is not None else None
        outcome = ("filing", table_a, [form.state for form in result.directions])
    sys.stdout.buffer.write(pickle.dumps(outcome))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
