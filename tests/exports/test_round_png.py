"""The round picture as a PNG for the chat: a real image of a phone's width, Chinese drawn with
an installed CJK font (no missing glyphs), overdue in red, and a clear error without a font."""

from __future__ import annotations

import io
import warnings

import pytest
from matplotlib import font_manager
from PIL import Image

from dialogs.checks.indicators import QualityFigure
from exports.round_picture import DepartmentStanding, Stage, round_picture
from exports.round_png import (
    OVERDUE,
    PROBE,
    CjkFontMissing,
    find_cjk_font,
    png_size,
    round_png,
)
from tests.support.fonts import require_cjk_font


def _standings(count: int, *, overdue: bool) -> list[DepartmentStanding]:
    stages = list(Stage)
    return [
        DepartmentStanding(
            f"{'海湾新区社会事业发展和公共服务管理局' if n % 7 == 0 else '林场'}{n}",
            stages[n % 5],
            QualityFigure(10, n % 11, 10 - n % 11, 0, n % 4),
            overdue and not stages[n % 5].done,
        )
        for n in range(count)
    ]


def _red_pixels(data: bytes) -> int:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    red = tuple(int(OVERDUE[i : i + 2], 16) for i in (1, 3, 5))
    colours = image.getcolors(maxcolors=1 << 24) or []
    return sum(count for count, colour in colours if colour == red)


def _render(picture: object) -> bytes:
    require_cjk_font()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = round_png(picture)  # type: ignore[arg-type]
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == []  # every Chinese label drawn, no boxes
    return data


def test_cjk_font_found_through_the_font_manager() -> None:
    font = require_cjk_font()
    assert "CJK" in font.family or "Han" in font.family or "Hei" in font.family
    assert any(entry.fname == font.path for entry in font_manager.fontManager.ttflist)


@pytest.mark.parametrize("count", [6, 500])
def test_png_of_a_phone_width_with_overdue_in_red(count: int) -> None:
    picture = round_picture("2029年度预算绩效目标填报", _standings(count, overdue=True))
    data = _render(picture)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = png_size(data)
    assert width == 1080
    assert 1200 <= height <= 2600  # the same few parts whatever the number of departments
    assert 30_000 < len(data) < 1_500_000
    image = Image.open(io.BytesIO(data))
    image.verify()
    assert _red_pixels(data) > 500


def test_nothing_red_when_nothing_is_overdue() -> None:
    picture = round_picture("2029年度", _standings(6, overdue=False))
    assert _red_pixels(_render(picture)) == 0


def test_no_indicators_yet() -> None:
    quality = QualityFigure(0, 0, 0, 0)
    picture = round_picture(
        "2029年度", [DepartmentStanding("林场", Stage.NOT_STARTED, quality, False)]
    )
    width, _ = png_size(_render(picture))
    assert width == 1080


def test_without_a_cjk_font_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    latin = [e for e in font_manager.fontManager.ttflist if "DejaVu" in e.name]
    assert latin  # matplotlib ships DejaVu: a machine without any CJK font sees only these
    with pytest.raises(CjkFontMissing, match="fonts-noto-cjk"):
        find_cjk_font(latin)
    monkeypatch.setattr(font_manager.fontManager, "ttflist", latin)
    picture = round_picture("2029年度", _standings(3, overdue=True))
    with pytest.raises(CjkFontMissing):
        round_png(picture)


def test_probe_covers_the_labels() -> None:
    # The glyphs checked for a font include the words the picture always draws.
    for word in ("部门", "逾期", "指标", "质量", "已审核", "退回"):
        assert set(word) <= set(PROBE)
