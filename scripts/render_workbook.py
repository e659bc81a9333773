"""Render an xlsx to PDF and PNG pages for looking at it as a printed table.

    python scripts/render_workbook.py WORKBOOK.xlsx [OUT_DIR] [--resolution 80]
    python scripts/render_workbook.py --seed [OUT_DIR]     # export the seed department first
    python scripts/render_workbook.py --sample 2023 [OUT_DIR]   # a department of our own making
    python scripts/render_workbook.py --sample-round 2023 [OUT_DIR]   # its round workbook

Prints the paths of the PDF and of each PNG page.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from exports.render import RenderError, render  # noqa: E402


def _seed_workbook(out_dir: Path) -> Path:
    from exports.names import department_file_name
    from exports.tables import department_grids
    from exports.writer import workbook_bytes
    from tests.support.seed import seed_filing

    filing = seed_filing()
    path = out_dir / department_file_name(filing.year, filing.department)
    path.write_bytes(workbook_bytes(department_grids(filing)))
    return path


SAMPLE_YEARS = {"2021": 2021, "2023": 2024}


def _sample_workbook(out_dir: Path, layout: str, whole_round: bool) -> Path:
    """The department of tests/support/departments.py (long names, 6-decimal amounts, dates,
    compound units), alone or in a round of three departments (one never started)."""
    from dataclasses import replace
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from exports import department_workbook
    from exports.consolidated import RoundHeader, consolidated_workbook
    from exports.names import consolidated_file_name, department_file_name
    from tests.support.departments import varied_filing

    year = SAMPLE_YEARS[layout]
    filing = varied_filing(layout, year)
    if not whole_round:
        path = out_dir / department_file_name(year, filing.department)
        path.write_bytes(department_workbook(filing))
        return path
    other = varied_filing(layout, year, department="市林业局")
    filings = [
        filing,
        replace(other, directions=other.directions[:1]),
        replace(filing, department="尚未填报的部门", table_a=None, directions=()),
    ]
    made = datetime(year, 3, 1, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    header = RoundHeader(year, f"{year}年度部门预算绩效目标申报", made)
    path = out_dir / consolidated_file_name(year)
    path.write_bytes(consolidated_workbook(filing.layout, filings, header))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", nargs="?", type=Path)
    parser.add_argument("out_dir", nargs="?", type=Path)
    parser.add_argument("--seed", action="store_true", help="export the seed department first")
    parser.add_argument(
        "--sample", choices=sorted(SAMPLE_YEARS), help="render a made-up department"
    )
    parser.add_argument("--sample-round", choices=sorted(SAMPLE_YEARS), help="…and its round")
    parser.add_argument("--resolution", type=int, default=80)
    parser.add_argument("--gray", action="store_true", help="grayscale pages (smaller files)")
    args = parser.parse_args(argv)
    generated = args.seed or args.sample or args.sample_round
    if generated and args.workbook is not None and args.out_dir is None:
        args.out_dir, args.workbook = args.workbook, None
    out_dir: Path = args.out_dir or Path(tempfile.mkdtemp(prefix="jixiao-render-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.seed:
        workbook = _seed_workbook(out_dir)
    elif args.sample or args.sample_round:
        workbook = _sample_workbook(
            out_dir, args.sample or args.sample_round, bool(args.sample_round)
        )
    elif args.workbook is not None:
        workbook = args.workbook
    else:
        parser.error("give a workbook or --seed")
    try:
        pages = render(workbook, out_dir, args.resolution, gray=args.gray)
    except RenderError as error:
        print(error, file=sys.stderr)
        return 1
    print(out_dir / f"{workbook.stem}.pdf")
    for page in pages:
        print(page)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
