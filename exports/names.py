"""File and sheet names: `{年度}_{部门名称}_绩效目标表.xlsx`, `{年度}_汇总.xlsx`, sheet titles."""

from __future__ import annotations

import re
import unicodedata

from exports.xmlsafe import REPLACEMENT, xml_safe

# Not allowed in file names on Windows, macOS or Linux, plus controls.
_FILE_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
# Not allowed in Excel sheet names.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f]")
_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(\..*)?$", re.IGNORECASE)
SHEET_NAME_LIMIT = 31
FILE_STEM_LIMIT = 120


def _clean(text: str, forbidden: re.Pattern[str]) -> str:
    text = unicodedata.normalize("NFC", xml_safe(text).replace(REPLACEMENT, "_"))
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp"))
    text = forbidden.sub("_", text)
    return re.sub(r"\s+", " ", text).strip()


def safe_file_part(text: str) -> str:
    """`text` usable inside a file name: forbidden characters become `_`, never empty."""
    cleaned = _clean(text, _FILE_FORBIDDEN).strip(". ")
    if not cleaned or _RESERVED.match(cleaned):
        cleaned = f"_{cleaned}"
    return cleaned[:FILE_STEM_LIMIT]


def department_file_name(year: int, department: str) -> str:
    """`2021_中共株洲市石峰区委员会宣传部_绩效目标表.xlsx`."""
    return f"{year}_{safe_file_part(department)}_绩效目标表.xlsx"


def consolidated_file_name(year: int) -> str:
    """`2021_汇总.xlsx`."""
    return f"{year}_汇总.xlsx"


def sheet_name(wanted: str, taken: set[str]) -> str:
    """A sheet name of at most 31 characters, without []:*?/\\, unique among `taken` (which it
    extends). Excel compares sheet names case-insensitively."""
    base = _clean(wanted, _SHEET_FORBIDDEN).strip("'") or "Sheet"
    base = base[:SHEET_NAME_LIMIT]
    lowered = {name.casefold() for name in taken}
    candidate = base
    number = 2
    while candidate.casefold() in lowered:
        suffix = f"({number})"
        candidate = base[: SHEET_NAME_LIMIT - len(suffix)] + suffix
        number += 1
    taken.add(candidate)
    return candidate
