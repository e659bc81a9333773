"""The round picture (exports.round_picture) as a PNG for the chat, laid out for a phone.

Drawn with matplotlib's Agg backend through its object API (no pyplot, no global figure state);
matplotlib is imported only here and only when a picture is drawn, so the bot starts without it.
The labels are Chinese: a CJK font is looked up through matplotlib's font manager (which reads
the fonts fontconfig knows) and checked to really hold the glyphs; without one, drawing fails
with `CjkFontMissing`, whose message says what to install, instead of boxes in place of text.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exports.round_picture import RoundPicture, Stage

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# Simplified-Chinese faces first; any other font that holds the glyphs is taken after them.
PREFERRED_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "Noto Sans CJK JP",
    "Droid Sans Fallback",
)
PROBE = "部门填报进度逾期已审核退回指标质量"  # glyphs the picture cannot do without
INSTALL_HINT = "install a CJK font, e.g. `apt-get install fonts-noto-cjk`"

WIDTH_PX = 1080  # Telegram shows photos up to 1280 px; a phone scales 1080 to its width
DPI = 180
STAGE_COLOURS = {
    Stage.NOT_STARTED: "#9e9e9e",
    Stage.IN_PROGRESS: "#42a5f5",
    Stage.SUBMITTED: "#7e57c2",
    Stage.RETURNED: "#ffa726",
    Stage.APPROVED: "#43a047",
}
OVERDUE = "#d32f2f"
QUALITY_BAR = "#5c6bc0"
MUTED = "#616161"
NAME_CHARS = 16  # a longer department name is cut with "…" (the text report has it whole)
LONG_BAR = 60  # percent from which the counts are written on the bar itself

_DRAWING = threading.Lock()  # matplotlib's font cache is shared between threads


class CjkFontMissing(RuntimeError):
    """No installed font can draw the Chinese labels."""


@dataclass(frozen=True)
class CjkFont:
    family: str
    path: str


def _holds_glyphs(path: str, index: int) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        try:
            font = FT2Font(path, face_index=index)
        except TypeError:  # a matplotlib without faces of collections: the first face
            font = FT2Font(path)
    except (OSError, RuntimeError, ValueError):
        return False
    return all(font.get_char_index(ord(char)) for char in PROBE)


def find_cjk_font(entries: Iterable[Any] | None = None) -> CjkFont:
    """The first installed font that can draw the labels: a preferred family if there is one,
    else any. `entries` are matplotlib FontEntry values (default: every font it knows)."""
    from matplotlib import font_manager

    known = list(font_manager.fontManager.ttflist if entries is None else entries)
    rank = {family: number for number, family in enumerate(PREFERRED_FAMILIES)}
    ordered = sorted(
        known,
        key=lambda e: (rank.get(e.name, len(rank)), e.weight != 400, e.name),
    )
    for entry in ordered:
        if _holds_glyphs(entry.fname, getattr(entry, "index", 0)):
            return CjkFont(entry.name, entry.fname)
    raise CjkFontMissing(
        f"no font with Chinese glyphs among {len(known)} fonts matplotlib knows: {INSTALL_HINT}"
    )


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def _stage_part(ax: Axes, picture: RoundPicture) -> None:
    stages = list(picture.stages)
    rows = range(len(stages))
    widest = max((c.departments for c in stages), default=0) or 1
    on_time = [c.on_time for c in stages]
    late = [c.overdue for c in stages]
    ax.barh(rows, on_time, color=[STAGE_COLOURS[c.stage] for c in stages], height=0.62)
    ax.barh(rows, late, left=on_time, color=OVERDUE, height=0.62, hatch="//", edgecolor="white")
    for row, count in zip(rows, stages, strict=True):
        x = count.departments + widest * 0.02
        ax.text(x, row, str(count.departments), va="center", fontsize=15, fontweight="bold")
        if count.overdue:
            digits = len(str(count.departments))
            ax.text(
                x + widest * (0.045 * digits + 0.02),
                row,
                f"逾期 {count.overdue}",
                va="center",
                fontsize=13,
                color=OVERDUE,
            )
    ax.set_yticks(list(rows), [c.stage.label for c in stages], fontsize=15)
    ax.invert_yaxis()
    ax.set_xlim(0, widest * 1.45)
    ax.set_title("各阶段部门数", loc="left", fontsize=15, fontweight="bold", pad=10)
    _bare(ax)


def _quality_part(ax: Axes, picture: RoundPicture) -> None:
    title = f"指标质量最弱的 {len(picture.weakest)} 个部门" if picture.weakest else "指标质量"
    ax.set_title(title + "（可量化指标占比）", loc="left", fontsize=15, fontweight="bold", pad=10)
    _bare(ax)
    ax.spines["left"].set_visible(False)
    ax.set_yticks([])
    ax.set_xlim(0, 100)
    if not picture.weakest:
        ax.set_ylim(1, 0)
        ax.text(0, 0.5, "尚无已填写指标的部门。", fontsize=14, color=MUTED, va="center")
        return
    # Each department takes two lines: its name and percentage, then its bar across the whole
    # width (long names need no margin) with the counts written on the bar's track.
    for row, weak in enumerate(picture.weakest):
        y = row * 2
        colour = OVERDUE if weak.overdue else "black"
        name = _short(weak.name) + ("（逾期）" if weak.overdue else "")
        ax.text(0, y - 0.5, name, fontsize=14, color=colour, va="center")
        ax.text(
            100,
            y - 0.5,
            f"{weak.measurable_percent}%",
            fontsize=14,
            fontweight="bold",
            color=colour,
            va="center",
            ha="right",
        )
        ax.barh(y + 0.45, 100, color="#eeeeee", height=0.8)
        ax.barh(
            y + 0.45,
            max(weak.measurable_percent, 0.6),
            height=0.8,
            color=OVERDUE if weak.overdue else QUALITY_BAR,
        )
        counts = f"指标 {weak.indicators} 条"
        if weak.warnings:
            counts += f"，待改进 {weak.warnings} 条"
        # On the empty track, or in white on the bar where the bar reaches under the text.
        inside = weak.measurable_percent >= LONG_BAR
        x, ink = (weak.measurable_percent - 1, "white") if inside else (99, "#424242")
        ax.text(x, y + 0.45, counts, fontsize=11, color=ink, va="center", ha="right")
    ax.set_ylim(len(picture.weakest) * 2 - 0.4, -1.2)


def _bare(ax: Axes) -> None:
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_xticks([])
    ax.tick_params(axis="y", length=0)


def _footnote(picture: RoundPicture) -> str:
    counted = []
    if picture.not_listed:
        counted.append(f"另有 {picture.not_listed} 个部门未列出")
    if picture.unrated:
        counted.append(f"{picture.unrated} 个部门尚无指标")
    lines = ["，".join(counted) + "。"] if counted else []
    lines.append("红色：逾期（截止时间已过，仍未提交）。")
    return "\n".join(lines)


def _summary(picture: RoundPicture) -> str:
    text = f"共 {picture.departments} 个部门，已完成 {picture.done} 个"
    if picture.as_of:
        text += f" · 截至 {picture.as_of}"
    return text


def round_png(picture: RoundPicture, font: CjkFont | None = None) -> bytes:
    """The picture as PNG bytes, 1080 px wide (blocking, CPU-bound: run it in a thread)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Heights in inches, top to bottom: heading, stage part, quality part, footnote.
    heading = 1.55 if picture.overdue else 1.15
    stages, gap, footer = 2.7, 0.8, 0.85
    quality = 0.72 * max(len(picture.weakest), 1) + 0.2
    height = heading + stages + gap + quality + footer
    width = WIDTH_PX / DPI

    def box(
        left: float, top: float, box_height: float, right: float = 0.97
    ) -> tuple[float, float, float, float]:
        return (left, 1 - (top + box_height) / height, right - left, box_height / height)

    with _DRAWING:
        chosen = font or find_cjk_font()
        with matplotlib.rc_context({"font.family": [chosen.family], "axes.unicode_minus": False}):
            figure = Figure(figsize=(width, height), dpi=DPI, facecolor="white")
            FigureCanvasAgg(figure)
            figure.text(
                0.04,
                1 - 0.35 / height,
                _short_title(picture.title),
                fontsize=18,
                fontweight="bold",
                va="center",
            )
            figure.text(
                0.04, 1 - 0.8 / height, _summary(picture), fontsize=13, color=MUTED, va="center"
            )
            if picture.overdue:
                figure.text(
                    0.04,
                    1 - 1.2 / height,
                    f"逾期未完成 {picture.overdue} 个部门",
                    fontsize=14,
                    fontweight="bold",
                    color=OVERDUE,
                    va="center",
                )
            _stage_part(figure.add_axes(box(0.18, heading + 0.45, stages - 0.45)), picture)
            top = heading + stages + gap
            _quality_part(figure.add_axes(box(0.04, top, quality)), picture)
            figure.text(
                0.04,
                footer / 2 / height,
                _footnote(picture),
                fontsize=11,
                color=MUTED,
                va="center",
                linespacing=1.5,
            )
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def _short_title(title: str) -> str:
    text = f"{title} · 填报进度"
    return text if len(text) <= 22 else title[:21] + "…"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header (for checks without decoding the image)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        raise ValueError("not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
