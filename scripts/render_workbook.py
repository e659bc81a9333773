"""Render an xlsx to PDF and PNG pages for looking at it as a printed table.

    python scripts/render_workbook.py WORKBOOK.xlsx [OUT_DIR] [--resolution 80]
    python scripts/render_workbook.py --seed [OUT_DIR]     # export the seed department first

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", nargs="?", type=Path)
    parser.add_argument("out_dir", nargs="?", type=Path)
    parser.add_argument("--seed", action="store_true", help="export the seed department first")
    parser.add_argument("--resolution", type=int, default=80)
    args = parser.parse_args(argv)
    if args.seed and args.workbook is not None and args.out_dir is None:
        args.out_dir, args.workbook = args.workbook, None
    out_dir: Path = args.out_dir or Path(tempfile.mkdtemp(prefix="jixiao-render-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.seed:
        workbook = _seed_workbook(out_dir)
    elif args.workbook is not None:
        workbook = args.workbook
    else:
        parser.error("give a workbook or --seed")
    try:
        pages = render(workbook, out_dir, args.resolution)
    except RenderError as error:
        print(error, file=sys.stderr)
        return 1
    print(out_dir / f"{workbook.stem}.pdf")
    for page in pages:
        print(page)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
