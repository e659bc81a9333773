"""项目实施期: two year-months, start <= end."""

from __future__ import annotations

import re

from dialogs.catalogue import Code
from dialogs.parsing.errors import ParseError
from dialogs.parsing.text import normalize_width, shorten
from dialogs.values import Period, YearMonth

MIN_YEAR = 1900
MAX_YEAR = 2100

# A year-month: 2021.1, 2021.01, 2021/1, 2021-01, 2021年1月, optionally with a day (ignored).
_YM = (
    r"(?P<{p}y>[0-9]{{4}})\s*"
    r"(?:年\s*(?P<{p}m1>[0-9]{{1,2}})\s*月?|[./-]\s*(?P<{p}m2>[0-9]{{1,2}})\s*月?)"
    r"(?:\s*(?:[./-]\s*)?(?P<{p}d>[0-9]{{1,2}})\s*[日号]?)??"
)
# The end may leave out the year when it names the month with 月: 2021年1月至12月.
_END_MONTH_ONLY = r"(?P<em3>[0-9]{1,2})\s*月(?:\s*(?P<ed3>[0-9]{1,2})\s*[日号])?"
_SEPARATOR = r"\s*(?:-+|—+|~+|至|到)\s*"
_RANGE = re.compile(rf"{_YM.format(p='s')}{_SEPARATOR}(?:{_YM.format(p='e')}|{_END_MONTH_ONLY})")
# A whole year: 2021, 2021年, 2021年度, 2021年全年.
_YEAR = re.compile(r"(?P<y>[0-9]{4})\s*(?:年(?:度|全年)?)?")


def _year(text: str, source: str) -> int:
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ParseError(Code.PERIOD_FORMAT, {"text": shorten(source)})
    return year


def _month(text: str) -> int:
    month = int(text)
    if not 1 <= month <= 12:
        raise ParseError(Code.PERIOD_MONTH, {"month": text})
    return month


def _day(text: str | None, source: str) -> None:
    if text is not None and not 1 <= int(text) <= 31:
        raise ParseError(Code.PERIOD_FORMAT, {"text": shorten(source)})


def parse_period(text: str) -> Period:
    """`2021.1-2021.12`, `2021年1月-2021年12月`, `2021.01—2021.12`, `2021/1-2021/12`,
    `2021-01至2021-12`, `2021.1~2021.12`, `2021年1月至12月`, a whole year `2021年`.

    Raises ParseError PERIOD_FORMAT (text), PERIOD_MONTH (month), PERIOD_REVERSED (start, end).
    """
    source = normalize_width(text).strip()
    whole_year = _YEAR.fullmatch(source)
    if whole_year is not None:
        year = _year(whole_year["y"], text)
        return Period(YearMonth(year, 1), YearMonth(year, 12))
    match = _RANGE.fullmatch(source)
    if match is None:
        raise ParseError(Code.PERIOD_FORMAT, {"text": shorten(text)})
    start_year = _year(match["sy"], text)
    start = YearMonth(start_year, _month(match["sm1"] or match["sm2"]))
    _day(match["sd"], text)
    if match["ey"] is not None:
        end = YearMonth(_year(match["ey"], text), _month(match["em1"] or match["em2"]))
        _day(match["ed"], text)
    else:
        end = YearMonth(start_year, _month(match["em3"]))
        _day(match["ed3"], text)
    if end < start:
        raise ParseError(Code.PERIOD_REVERSED, {"start": str(start), "end": str(end)})
    return Period(start, end)
