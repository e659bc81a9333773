"""Render a workbook as a printed reviewer would see it: xlsx → PDF (LibreOffice) → PNG pages.

LibreOffice runs headless with a profile of its own in a temporary directory, so it neither
touches nor waits for a user's running instance.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SOFFICE = "soffice"
PDFTOPPM = "pdftoppm"
TIMEOUT_SECONDS = 180
# Windows' 宋体/仿宋 are not on a Linux machine; render them with the closest installed face
# (Noto Serif CJK, a Song/Ming design) instead of a sans fallback, as Excel would show them.
SERIF_FACES = ("宋体", "SimSun", "仿宋", "FangSong", "仿宋_GB2312", "新宋体", "NSimSun")
SERIF_SUBSTITUTE = "Noto Serif CJK SC"
SYSTEM_FONTS_CONF = Path("/etc/fonts/fonts.conf")


class RenderError(RuntimeError):
    """LibreOffice or pdftoppm failed or is missing."""


def available() -> bool:
    return shutil.which(SOFFICE) is not None and shutil.which(PDFTOPPM) is not None


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


def to_pdf(xlsx: Path, out_dir: Path) -> Path:
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
                timeout=TIMEOUT_SECONDS,
                check=False,
                env=env,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise RenderError(f"soffice failed: {error}") from error
    pdf = out_dir / f"{xlsx.stem}.pdf"
    if done.returncode != 0 or not pdf.exists():
        raise RenderError(f"soffice failed ({done.returncode}): {done.stderr.strip()}")
    return pdf


def to_pngs(pdf: Path, out_dir: Path, resolution: int = 80, gray: bool = False) -> list[Path]:
    """One PNG per page: `out_dir/<stem>-1.png`, `-2.png`, …"""
    prefix = out_dir / pdf.stem
    command = [PDFTOPPM, "-png", *(["-gray"] if gray else []), "-r", str(resolution)]
    command += [str(pdf), str(prefix)]
    try:
        done = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RenderError(f"pdftoppm failed: {error}") from error
    if done.returncode != 0:
        raise RenderError(f"pdftoppm failed ({done.returncode}): {done.stderr.strip()}")
    return sorted(out_dir.glob(f"{pdf.stem}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def render(xlsx: Path, out_dir: Path, resolution: int = 80, gray: bool = False) -> list[Path]:
    """The PNG pages of `xlsx` (every sheet, in order) in `out_dir`."""
    pdf = to_pdf(xlsx, out_dir)
    return to_pngs(pdf, out_dir, resolution, gray)
