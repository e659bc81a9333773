"""Render a workbook as a printed reviewer would see it: xlsx → PDF (LibreOffice) → PNG pages.

LibreOffice runs headless with a profile of its own in a temporary directory, so it neither
touches nor waits for a user's running instance. Pages are rasterised with PDFium (pypdfium2),
so no command-line PDF tool is needed beside LibreOffice.

`Renderer` is what a long-running process uses: one conversion at a time (each LibreOffice start
takes hundreds of MB and a second or more; two at once only slow each other), a timeout on each,
and the results cached by a key the caller derives from what was rendered (form versions), so
pressing "preview" twice converts once.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path

SOFFICE = "soffice"
TIMEOUT_SECONDS = 180
DEFAULT_RESOLUTION = 110  # dpi: an A4 page ≈ 910×1290 px, readable on a phone when zoomed
# Windows' 宋体/仿宋 are not on a Linux machine; render them with the closest installed face
# (Noto Serif CJK, a Song/Ming design) instead of a sans fallback, as Excel would show them.
SERIF_FACES = ("宋体", "SimSun", "仿宋", "FangSong", "仿宋_GB2312", "新宋体", "NSimSun")
SERIF_SUBSTITUTE = "Noto Serif CJK SC"
SYSTEM_FONTS_CONF = Path("/etc/fonts/fonts.conf")
INSTALL_HINT = "apt-get install libreoffice-calc-nogui fonts-noto-cjk"


class RenderError(RuntimeError):
    """LibreOffice failed, timed out or is missing; the PDF could not be read."""


def missing() -> str | None:
    """Why rendering cannot work on this machine (None when it can)."""
    if shutil.which(SOFFICE) is None:
        return f"未找到 LibreOffice（{SOFFICE}）。安装：{INSTALL_HINT}"
    if not _has_cjk_font():
        return f"未找到中文字体，表格中的汉字无法显示。安装：{INSTALL_HINT}"
    return None


def available() -> bool:
    return missing() is None


def _has_cjk_font() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list is None:  # no fontconfig tools: let LibreOffice try
        return True
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments
            [fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return True
    return bool(done.stdout.strip())


def _fonts_conf(directory: Path) -> Path:
    aliases = "".join(
        f'<alias binding="same"><family>{face}</family>'
        f"<prefer><family>{SERIF_SUBSTITUTE}</family></prefer></alias>"
        for face in SERIF_FACES
    )
    path = directory / "fonts.conf"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f'<include ignore_missing="yes">{SYSTEM_FONTS_CONF}</include>{aliases}</fontconfig>',
        encoding="utf-8",
    )
    return path


def to_pdf(xlsx: Path, out_dir: Path, timeout: float = TIMEOUT_SECONDS) -> Path:
    """`out_dir/<stem>.pdf`, printed with the workbook's own page setup."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jixiao-lo-") as profile:
        env = dict(os.environ, FONTCONFIG_FILE=str(_fonts_conf(Path(profile))))
        command = [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}/user",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            str(xlsx),
        ]
        try:
            # A fixed argument list (no shell); the paths are the caller's own files.
            done = subprocess.run(  # noqa: S603
                command,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                env=env,
            )
        except subprocess.TimeoutExpired as error:
            raise RenderError(f"soffice took longer than {timeout:.0f} s") from error
        except OSError as error:
            raise RenderError(f"soffice failed: {error}") from error
    pdf = out_dir / f"{xlsx.stem}.pdf"
    if done.returncode != 0 or not pdf.exists():
        raise RenderError(f"soffice failed ({done.returncode}): {done.stderr.strip()}")
    return pdf


def pdf_bytes(xlsx: bytes, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """The PDF of a workbook given as bytes."""
    with tempfile.TemporaryDirectory(prefix="jixiao-pdf-") as work:
        source = Path(work) / "workbook.xlsx"
        source.write_bytes(xlsx)
        return to_pdf(source, Path(work) / "out", timeout).read_bytes()


def png_pages(
    pdf: bytes, resolution: int = DEFAULT_RESOLUTION, gray: bool = False
) -> tuple[bytes, ...]:
    """Each page of a PDF as PNG bytes (greyscale for small pictures in docs/)."""
    import pypdfium2 as pdfium  # a few MB of native code: loaded only by the callers that render

    try:
        document = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as error:
        raise RenderError(f"unreadable PDF: {error}") from error
    pages: list[bytes] = []
    try:
        for page in document:
            bitmap = page.render(scale=resolution / 72)
            buffer = io.BytesIO()
            image = bitmap.to_pil()
            (image.convert("L") if gray else image).save(buffer, format="PNG", optimize=True)
            pages.append(buffer.getvalue())
    finally:
        document.close()
    return tuple(pages)


def pdf_text(pdf: bytes) -> tuple[str, ...]:
    """The text of each page (for checks and tests)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return tuple(page.get_textpage().get_text_bounded() for page in document)
    finally:
        document.close()


def to_pngs(pdf: Path, out_dir: Path, resolution: int = 80, gray: bool = False) -> list[Path]:
    """One PNG per page: `out_dir/<stem>-1.png`, `-2.png`, …"""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, png in enumerate(png_pages(pdf.read_bytes(), resolution, gray), start=1):
        path = out_dir / f"{pdf.stem}-{number}.png"
        path.write_bytes(png)
        paths.append(path)
    return paths


def render(xlsx: Path, out_dir: Path, resolution: int = 80, gray: bool = False) -> list[Path]:
    """The PNG pages of `xlsx` (every sheet, in order) in `out_dir`."""
    pdf = to_pdf(xlsx, out_dir)
    return to_pngs(pdf, out_dir, resolution, gray)


class Renderer:
    """Serialised, time-bounded, cached conversions for a long-running process (thread-safe)."""

    def __init__(
        self,
        timeout: float = TIMEOUT_SECONDS,
        resolution: int = DEFAULT_RESOLUTION,
        cache_size: int = 64,
    ) -> None:
        self.timeout = timeout
        self.resolution = resolution
        self.cache_size = cache_size
        self.conversions = 0  # LibreOffice runs so far (the cache's effect is visible in tests)
        self._lock = threading.Lock()
        self._cache: OrderedDict[Hashable, bytes | tuple[bytes, ...]] = OrderedDict()

    def _cached(self, key: Hashable) -> bytes | tuple[bytes, ...] | None:
        value = self._cache.get(key)
        if value is not None:
            self._cache.move_to_end(key)
        return value

    def _keep(self, key: Hashable, value: bytes | tuple[bytes, ...]) -> None:
        self._cache[key] = value
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def pdf(self, xlsx: bytes, key: Hashable, timeout: float | None = None) -> bytes:
        with self._lock:
            cached = self._cached(("pdf", key))
            if isinstance(cached, bytes):
                return cached
            self.conversions += 1
            pdf = pdf_bytes(xlsx, self.timeout if timeout is None else timeout)
            self._keep(("pdf", key), pdf)
            return pdf

    def pages(self, xlsx: bytes, key: Hashable) -> tuple[bytes, ...]:
        """PNG pages; the PDF made on the way is cached under the same key."""
        with self._lock:
            cached = self._cached(("png", key))
            if isinstance(cached, tuple):
                return cached
        pdf = self.pdf(xlsx, key)
        pages = png_pages(pdf, self.resolution)
        with self._lock:
            self._keep(("png", key), pages)
        return pages
