"""Printing a benchmark's figures and keeping the latest run of each in BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
HEADER = (
    "# Benchmarks\n\n"
    "Written by `python -m bench NAME`; each section is the latest run of one benchmark, with\n"
    "the machine and date it ran on. Re-run to refresh; figures from other machines differ.\n"
)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}), "
        f"Python {sys.version.split()[0]}"
    )


def print_or_publish(name: str, title: str, lines: list[str], *, dry_run: bool) -> None:
    """Print the figures, and unless `dry_run` (`--no-publish`) record them in BENCHMARKS.md."""
    if dry_run:
        print("\n".join(lines))
        return
    publish(name, title, lines)


def publish(name: str, title: str, lines: list[str]) -> None:
    """Print the figures and replace this benchmark's section of BENCHMARKS.md."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join(lines)
    print(f"{title}\n{body}")
    section = f"## {name}: {title}\n\nRun {stamp} on {machine()}.\n\n{body}\n"
    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else HEADER
    pattern = re.compile(rf"^## {re.escape(name)}:.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    BENCHMARKS.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
