"""The README's sample screen is the real one: the same steps are typed into `jixiao chat` here
and the README block must appear, line for line, in what the terminal shows."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.terminal import transcript

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "<!-- sample screen: tests/bot/test_readme_samples.py -->"
DEPARTMENT = "示例县农业农村局"
YEAR = 2024
TYPED = (":1", "320.5", "300", "20.5", "0", "200", "120", ":t")


def readme_samples() -> list[str]:
    """Every ```text block that follows the marker in the README."""
    text = README.read_text(encoding="utf-8")
    blocks = []
    for after in text.split(MARKER)[1:]:
        match = re.match(r"\s*```text\n(.*?)\n```", after, re.DOTALL)
        assert match is not None, "the marker must be followed by a ```text block"
        blocks.append(match[1])
    assert blocks, "the README lost its sample screens"
    return blocks


def test_readme_samples_are_what_the_terminal_shows(tmp_path: Path) -> None:
    code, screen = transcript(tmp_path, DEPARTMENT, YEAR, TYPED)
    assert code == 0
    for sample in readme_samples():
        assert len(sample.splitlines()) >= 10
        # Whole lines: a sample starts and ends at line boundaries of the real screen.
        assert f"\n{sample}\n" in f"\n{screen}", f"README sample differs; the screen:\n{screen}"
