"""The importer's work is bounded before anything is read: small files that claim (or unpack
to) a lot are refused with a catalogue code, in little time and memory, in both layouts; the
child-process reader holds to its time and memory budget."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import workbooks
from dialogs.catalogue import Code
from dialogs.definition import Layout
from dialogs.filing import DepartmentFiling
from dialogs.loader import get_layout
from exports import department_workbook
from exports.import_worker import Budget, read_bounded
from exports.importer import (
    MAX_PART_BYTES,
    ImportProblem,
    import_workbook,
    sheet_limits,
)
from tests.support.seed import seed_filing

DEPARTMENT, YEAR = "市交通运输局", 2024
LAYOUTS = ["2021", "2023"]


def own_workbook(layout_key: str) -> bytes:
    """A filled workbook of our own department and year (the seed's values)."""
    filing = replace(seed_filing(layout_key), department=DEPARTMENT, year=YEAR)
    return department_workbook(filing)


def _refusal(result: DepartmentFiling | list[ImportProblem]) -> Code | None:
    assert isinstance(result, list) and len(result) == 1, result
    return result[0].code


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return workbooks.zip_bomb(MAX_PART_BYTES + 2**20)


@pytest.fixture(scope="module")
def lying_bomb() -> bytes:
    return workbooks.lying_zip_bomb(MAX_PART_BYTES * 4)


SHAPES: dict[str, tuple[Callable[[], bytes] | str, Code]] = {
    "huge dimension": (workbooks.huge_dimension, Code.IMPORT_SHEET_TOO_LARGE),
    "cell at XFD1048576": (workbooks.far_cell, Code.IMPORT_SHEET_TOO_LARGE),
    "row 1 repeated 5 000 times": (workbooks.repeated_rows, Code.IMPORT_SHEET_TOO_LARGE),
    "zip bomb": ("bomb", Code.IMPORT_ARCHIVE_TOO_LARGE),
    "zip bomb lying about its size": ("lying_bomb", Code.IMPORT_NOT_WORKBOOK),
    "password-protected": (workbooks.encrypted_ole, Code.IMPORT_ENCRYPTED),
    "old .xls": (workbooks.old_xls, Code.IMPORT_OLD_FORMAT),
    "random bytes": (workbooks.random_bytes, Code.IMPORT_NOT_WORKBOOK),
    "zip without a workbook": (workbooks.zip_without_workbook, Code.IMPORT_NOT_WORKBOOK),
}


def _bytes(shape: Callable[[], bytes] | str, request: pytest.FixtureRequest) -> bytes:
    if isinstance(shape, str):
        data = request.getfixturevalue(shape)
        assert isinstance(data, bytes)
        return data
    return shape()


@pytest.mark.parametrize("layout_key", LAYOUTS)
@pytest.mark.parametrize("name", list(SHAPES))
def test_hostile_shapes_are_refused_cheaply(
    name: str, layout_key: str, request: pytest.FixtureRequest
) -> None:
    shape, code = SHAPES[name]
    data = _bytes(shape, request)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = import_workbook(data, get_layout(layout_key), DEPARTMENT, YEAR)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - started
    assert _refusal(result) is code
    assert elapsed < 3.0, f"{name}: {elapsed:.1f} s"
    assert peak < 20 * 2**20, f"{name}: {peak / 2**20:.0f} MB"


@pytest.mark.parametrize("layout_key", LAYOUTS)
def test_a_merge_over_the_whole_sheet_is_clipped_to_the_layout(layout_key: str) -> None:
    tracemalloc.start()
    try:
        result = import_workbook(workbooks.far_merge(), get_layout(layout_key), DEPARTMENT, YEAR)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(result, list) and all(p.code is None for p in result)  # cell problems
    assert peak < 20 * 2**20


@pytest.mark.parametrize("layout_key", LAYOUTS)
def test_limits_come_from_the_layout_and_admit_its_own_workbook(layout_key: str) -> None:
    layout = get_layout(layout_key)
    limits = sheet_limits(layout)
    table_a = layout.table_a
    indicator_rows = (
        len(list(table_a.indicators.level2s())) * table_a.indicators.max_rows_per_level2
    )
    assert limits.rows > indicator_rows and limits.columns >= len(table_a.indicators.columns)
    assert limits.rows < 1000 and limits.columns < 60  # far from what a sheet may claim
    filing = seed_filing(layout_key)
    assert isinstance(
        import_workbook(department_workbook(filing), layout, "x", 2021), DepartmentFiling
    )


def _content_beyond(layout: Layout, rows: int, columns: int) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws["A1"] = layout.table_c.title.format(year=YEAR)
    ws.cell(row=rows, column=columns, value="多余的内容")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("layout_key", LAYOUTS)
def test_content_just_beyond_the_limits_is_refused_and_just_within_is_read(
    layout_key: str,
) -> None:
    layout = get_layout(layout_key)
    limits = sheet_limits(layout)
    beyond = import_workbook(_content_beyond(layout, limits.rows + 1, 1), layout, DEPARTMENT, YEAR)
    assert _refusal(beyond) is Code.IMPORT_SHEET_TOO_LARGE
    wide = import_workbook(_content_beyond(layout, 1, limits.columns + 1), layout, DEPARTMENT, YEAR)
    assert _refusal(wide) is Code.IMPORT_SHEET_TOO_LARGE
    within = import_workbook(
        _content_beyond(layout, limits.rows, limits.columns), layout, DEPARTMENT, YEAR
    )
    assert isinstance(within, list) and all(p.code is None for p in within)


def test_too_many_parts_and_a_file_too_large_are_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(1200):
            archive.writestr(f"xl/media/{number}.bin", b"")
    layout = get_layout("2021")
    assert _refusal(import_workbook(buffer.getvalue(), layout, DEPARTMENT, YEAR)) is (
        Code.IMPORT_ARCHIVE_TOO_LARGE
    )
    big = tmp_path / "big.xlsx"
    big.write_bytes(b"PK" + bytes(6 * 2**20))
    assert _refusal(import_workbook(big, layout, DEPARTMENT, YEAR)) is Code.IMPORT_FILE_TOO_LARGE


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    positions=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=8),
    values=st.binary(min_size=8, max_size=8),
)
def test_damaged_workbooks_never_raise(positions: list[int], values: bytes) -> None:
    """Bytes of a real workbook changed here and there: a result or problems, never an error."""
    data = bytearray(_SEED_2021)
    for position, value in zip(positions, values, strict=False):
        data[position % len(data)] = value
    result = import_workbook(bytes(data), get_layout("2021"), DEPARTMENT, YEAR)
    assert isinstance(result, DepartmentFiling | list)


_SEED_2021 = own_workbook("2021")


# --- the child process ----------------------------------------------------------------------


@pytest.mark.parametrize("layout_key", LAYOUTS)
def test_the_child_reads_what_the_importer_reads(layout_key: str) -> None:
    layout = get_layout(layout_key)
    data = own_workbook(layout_key)
    direct = import_workbook(data, layout, DEPARTMENT, YEAR)
    bounded = read_bounded(data, layout, DEPARTMENT, YEAR, Budget(seconds=120))
    assert isinstance(direct, DepartmentFiling) and bounded == direct


@pytest.fixture(scope="module")
def costly() -> bytes:
    """Within every size limit, but 40 000 shared strings to hold in memory."""
    return workbooks.many_shared_strings(40_000)


def test_the_child_is_stopped_at_its_memory_budget(costly: bytes) -> None:
    layout = get_layout("2021")
    # The default memory budget (wall clock relaxed: the test machine may be loaded).
    read = read_bounded(costly, layout, DEPARTMENT, YEAR, Budget(seconds=120))
    assert isinstance(read, list) and all(p.code is None for p in read)
    small = Budget(memory_bytes=56 * 2**20, seconds=120)
    small_read = read_bounded(costly, layout, DEPARTMENT, YEAR, small)
    assert _refusal(small_read) is Code.IMPORT_TOO_COSTLY


def test_the_child_is_stopped_at_its_cpu_budget() -> None:
    """The limits the child sets on itself: one CPU second ends a busy loop with SIGXCPU."""
    code = "from exports.import_worker import _limit\n_limit(1, 2**30)\nwhile True:\n    pass"
    started = time.process_time()
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=60, check=False
    )
    assert done.returncode in (-signal.SIGXCPU, -signal.SIGKILL), done
    assert time.process_time() - started < 1  # the parent spent nothing on it


def test_the_child_is_stopped_at_its_wall_clock_budget() -> None:
    layout = get_layout("2021")
    started = time.perf_counter()
    result = read_bounded(own_workbook("2021"), layout, DEPARTMENT, YEAR, Budget(seconds=0.05))
    assert _refusal(result) is Code.IMPORT_TOO_COSTLY
    assert time.perf_counter() - started < 2.0


def test_the_childs_answer_may_name_only_result_types() -> None:
    """A child subverted by the file it reads cannot make the parent call anything."""
    import pickle
    import subprocess as process_module

    from exports import import_worker

    layout = get_layout("2021")
    hostile = pickle.dumps(("problems", [process_module.run]))
    result = import_worker._result(0, hostile, b"", layout, DEPARTMENT, YEAR, Budget())
    assert _refusal(result) is Code.IMPORT_TOO_COSTLY
    problems = [ImportProblem("表A", "C5", "金额不对")]
    honest = pickle.dumps(("problems", problems))
    assert import_worker._result(0, honest, b"", layout, DEPARTMENT, YEAR, Budget()) == problems
