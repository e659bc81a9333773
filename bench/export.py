"""`python -m bench export`: the consolidated workbook of a large round and one department's
workbook, each beside bare openpyxl writing the same cells in the same run."""

from __future__ import annotations

import argparse
import gc
import io
import os
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from bench.report import print_or_publish
from bench.synthetic import department, round_filings
from dialogs.loader import get_layout
from exports import department_workbook
from exports.consolidated import (
    RoundHeader,
    consolidated_grids,
    consolidated_workbook,
    official_stacks,
)
from exports.grid import Grid, Stack
from exports.tables import department_grids
from exports.text_width import clear_caches
from exports.writer import stream_workbook, to_bytes, workbook_bytes

# The year of each layout's synthetic round (a layout is chosen for its years).
YEARS = {"2021": 2021, "2023": 2024}


@dataclass(frozen=True)
class Figures:
    """Best wall and CPU seconds over the runs, and the peak of Python allocations in MB."""

    wall: float
    cpu: float
    peak: float


def measure(work: Callable[[], object], repeat: int) -> Figures:
    """Best wall and process CPU time over the runs, and the peak of Python allocations in one
    more run (tracemalloc slows allocation, so it is not on while timing). CPU time is the
    figure to compare on a shared machine: other processes lengthen wall time, not CPU time."""
    wall = cpu = float("inf")
    # The setup (filings, cells for the bare run) is frozen out of the garbage collector's
    # scans, so neither side pays for the other's live objects.
    gc.collect()
    gc.freeze()
    try:
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            work()
            wall = min(wall, time.perf_counter() - start)
            cpu = min(cpu, time.process_time() - start_cpu)
        tracemalloc.start()
        work()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    finally:
        gc.unfreeze()
    return Figures(wall, cpu, peak)


def cold(work: Callable[[], object]) -> Callable[[], object]:
    """`work` with the text measurements forgotten first: each run pays for them once."""

    def run() -> object:
        clear_caches()
        return work()

    return run


def _rows(grid: Grid) -> list[list[object]]:
    rows: dict[int, list[object]] = {}
    for cell in grid.cells:
        rows.setdefault(cell.row, [None] * grid.max_col)[cell.col - 1] = cell.value
    return [rows[r] for r in sorted(rows)]


def _sheet_rows(sheet: Grid | Stack) -> list[list[object]]:
    if isinstance(sheet, Grid):
        return _rows(sheet)
    return [line for part in sheet.parts for line in _rows(part)]


def bare_write(grids: Sequence[Grid | Stack], write_only: bool) -> Callable[[], object]:
    """openpyxl alone writing the same values (unstyled; merges when not write-only)."""
    tables = [
        (grid.name, _sheet_rows(grid), grid.merges() if isinstance(grid, Grid) else ())
        for grid in grids
    ]

    def work() -> object:
        book = Workbook(write_only=write_only)
        if not write_only:
            book.remove(book.active)
        for name, lines, merges in tables:
            sheet = book.create_sheet(name)
            for line in lines:
                sheet.append(line)
            if not write_only:
                for cell in merges:
                    sheet.merge_cells(
                        start_row=cell.row,
                        start_column=cell.col,
                        end_row=cell.row + cell.rows - 1,
                        end_column=cell.col + cell.cols - 1,
                    )
        book.save(io.BytesIO())
        return book

    return work


@dataclass(frozen=True)
class Case:
    label: str
    ours: Figures
    rows: Figures
    write: Figures
    bare: Figures


def round_case(key: str, departments: int, directions: int, repeat: int) -> Case:
    layout = get_layout(key)
    year = YEARS.get(key, 2024)
    filings = round_filings(layout, year, departments, directions)
    header = RoundHeader(
        year, f"{year}年度预算绩效目标申报", datetime.now(ZoneInfo("Asia/Shanghai"))
    )

    def sheets() -> list[Grid | Stack]:
        made: list[Grid | Stack] = list(consolidated_grids(layout, filings, header))
        return made + list(official_stacks(layout, filings))

    grids = sheets()
    ours = measure(cold(lambda: consolidated_workbook(layout, filings, header)), repeat)
    rows = measure(cold(sheets), repeat)
    write = measure(lambda: to_bytes(stream_workbook(grids)), repeat)
    bare = measure(bare_write(grids, True), repeat)
    size_mb = len(consolidated_workbook(layout, filings, header)) / 2**20
    cells = sum(
        len(part.cells) for g in grids for part in (g.parts if isinstance(g, Stack) else (g,))
    )
    label = (
        f"round workbook, {key} layout (lists and every official table), {departments} "
        f"departments × {directions} directions ({cells} cells, {size_mb:.1f} MB)"
    )
    return Case(label, ours, rows, write, bare)


def department_case(key: str, directions: int, repeat: int) -> Case:
    layout = get_layout(key)
    one = department(layout, YEARS.get(key, 2024), 1, directions)
    one_grids = department_grids(one)
    return Case(
        f"one department, {key} layout (A, B, {directions} C)",
        measure(cold(lambda: department_workbook(one)), repeat),
        measure(cold(lambda: department_grids(one)), repeat),
        measure(lambda: workbook_bytes(one_grids), repeat),
        measure(bare_write(one_grids, False), repeat),
    )


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench export")
    parser.add_argument("--departments", type=int, default=500)
    parser.add_argument("--directions", type=int, default=5)
    parser.add_argument("--layout", default="2021,2023", help="one layout or several, a,b")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-publish", action="store_true", help="print only; leave BENCHMARKS.md alone"
    )
    args = parser.parse_args(argv)
    keys = [key.strip() for key in args.layout.split(",") if key.strip()]
    cases = [round_case(key, args.departments, args.directions, args.repeat) for key in keys]
    cases += [department_case(key, args.directions, args.repeat) for key in keys]
    lines = [
        "| workbook | ours, total: CPU (s) | wall (s) | of which rows, CPU (s) "
        "| of which writing, CPU (s) | bare openpyxl: CPU (s) | wall (s) "
        "| ratio, CPU | ratio, wall | our peak (MB) | bare peak (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case in cases:
        ours, bare = case.ours, case.bare
        lines.append(
            f"| {case.label} | {ours.cpu:.3f} | {ours.wall:.3f} | {case.rows.cpu:.3f} "
            f"| {case.write.cpu:.3f} | {bare.cpu:.3f} | {bare.wall:.3f} "
            f"| {ours.cpu / bare.cpu:.2f}× | {ours.wall / bare.wall:.2f}× "
            f"| {ours.peak:.1f} | {bare.peak:.1f} |"
        )
    lines += [
        "",
        "*rows* builds every cell from the stored forms: the list sheets (with each department's "
        "indicator quality figure, every indicator row checked against the review rules) and, "
        "for the round workbook, table A, B and each C of every department, with their widths, "
        "heights and page breaks; *writing* turns those cells into the xlsx with named styles, "
        "merges and print settings (the round workbook streamed: openpyxl writes the package "
        "and each sheet's setup, exports.sheet_xml the rows and merged ranges). Ours is timed "
        "from cold: the text measurements cached during an export are forgotten before each "
        "run. Bare openpyxl writes the finished cell values only (unstyled, write-only for the "
        "round; merges for the department workbook only). Best of the runs; CPU time is the "
        "process's own, which other processes on a shared machine do not lengthen. Peak "
        "memory: Python allocations in one run (tracemalloc). "
        "Target: ≤ 2× bare openpyxl, under 300 MB.",
        "",
        f"Command: `python -m bench export --departments {args.departments} "
        f"--directions {args.directions} --layout {args.layout} --repeat {args.repeat}`.",
    ]
    load = os.getloadavg()[0]
    lines.append(
        f"\nLoad average at the end of the run: {load:.1f} on {os.cpu_count()} CPUs"
        + (" (a shared machine: wall times include waiting for a CPU)." if load > 1.5 else ".")
    )
    for case in cases:
        if case.ours.cpu > 2 * case.bare.cpu:
            lines.append(
                f"\nGap — {case.label}: {case.ours.cpu / case.bare.cpu:.2f}× bare openpyxl in "
                f"CPU time; rows {case.rows.cpu:.3f} s, writing {case.write.cpu:.3f} s."
            )
    print_or_publish(
        "export", "workbook export against bare openpyxl", lines, dry_run=args.no_publish
    )
