"""The CJK font the round picture needs: tests that draw it skip, with the reason, on a machine
without one; CI installs fonts-noto-cjk (.ci/run) and there they must run."""

from __future__ import annotations

import os

import pytest

from exports.round_png import CjkFont, CjkFontMissing, find_cjk_font


def require_cjk_font() -> CjkFont:
    try:
        return find_cjk_font()
    except CjkFontMissing as missing:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no CJK font to draw the round picture: {missing}")
