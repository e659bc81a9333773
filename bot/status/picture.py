"""/status shows a supervisor the round as a picture above its text: departments by stage and
the weakest indicator quality, overdue in red (exports.round_picture, drawn by exports.round_png).

The PNG is drawn in a worker thread (it is CPU work) and cached by the picture's value:
two /status of an unchanged round on the same day send the same bytes without drawing again;
/status waits at most PICTURE_WAIT_SECONDS for it before sending its text alone.
The picture is an extra: a machine without a CJK font, or any failure to draw or to send it,
costs only the picture; the reason is logged and /status goes on with its text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.status.report import RoundReport
from exports.round_picture import DepartmentStanding, RoundPicture, department_stage, round_picture
from exports.round_png import CjkFontMissing, round_png  # matplotlib itself loads when drawing

_LOGGER = logging.getLogger(__name__)
CACHE_SIZE = 32  # pictures kept: a few rounds times the scopes of the supervisors asking
# How long /status holds its text back for the picture. The first picture of a process also
# loads matplotlib (and, on a new machine, builds its font list): that one may come next time.
PICTURE_WAIT_SECONDS = 20.0


class PictureCache:
    """PNG bytes by picture, the least recently used dropped first (event loop only)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._pictures: OrderedDict[RoundPicture, bytes] = OrderedDict()
        self.drawn = 0  # pictures drawn, for tests and the log

    def get(self, picture: RoundPicture) -> bytes | None:
        data = self._pictures.get(picture)
        if data is not None:
            self._pictures.move_to_end(picture)
        return data

    def put(self, picture: RoundPicture, data: bytes) -> None:
        self._pictures[picture] = data
        self._pictures.move_to_end(picture)
        while len(self._pictures) > self.size:
            self._pictures.popitem(last=False)

    def pictures(self) -> list[RoundPicture]:
        """The cached pictures, least recently used first."""
        return list(self._pictures)

    def clear(self) -> None:
        self._pictures.clear()
        self.drawn = 0


PICTURES = PictureCache()
_DRAWINGS: dict[RoundPicture, asyncio.Future[bytes]] = {}  # pictures being drawn now


def report_picture(report: RoundReport, now: datetime, zone: ZoneInfo) -> RoundPicture:
    """The picture of what /status reports (the same departments, stages and overdue)."""
    standings = [
        DepartmentStanding(
            name=d.name,
            stage=department_stage([(f.kind, f.status) for f in d.forms]),
            quality=d.quality,
            overdue=d.overdue,
        )
        for d in report.departments
    ]
    as_of = now.astimezone(zone).date().isoformat()
    return round_picture(report.round.title, standings, as_of=as_of)


async def _draw(picture: RoundPicture) -> bytes:
    data = await asyncio.to_thread(round_png, picture)
    PICTURES.put(picture, data)
    PICTURES.drawn += 1
    return data


def _drawn(picture: RoundPicture, done: asyncio.Future[bytes]) -> None:
    _DRAWINGS.pop(picture, None)
    if not done.cancelled() and done.exception() is not None:  # retrieved: the waiter logs it
        _LOGGER.debug("drawing the round picture failed", exc_info=done.exception())


async def _png(picture: RoundPicture) -> bytes | None:
    """The picture's PNG, or None if drawing it takes longer than /status waits: the drawing
    goes on and the next /status of the same round finds it cached."""
    data = PICTURES.get(picture)
    if data is not None:
        return data
    drawing = _DRAWINGS.get(picture)
    if drawing is None:
        drawing = _DRAWINGS[picture] = asyncio.ensure_future(_draw(picture))
        drawing.add_done_callback(lambda done: _drawn(picture, done))
    try:
        return await asyncio.wait_for(asyncio.shield(drawing), PICTURE_WAIT_SECONDS)
    except TimeoutError:
        return None


async def send_round_picture(
    bot: Bot, chat_id: int, report: RoundReport, now: datetime, zone: ZoneInfo
) -> bool:
    """Send the picture of `report`; False (and the reason in the log) when none was sent."""
    if not report.departments:
        return False
    picture = report_picture(report, now, zone)
    with contextlib.suppress(TelegramError):  # cosmetic, as for the exports
        await bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
    try:
        data = await _png(picture)
        if data is None:
            _LOGGER.info("/status sent without its picture: still drawing it")
            return False
        await bot.send_photo(
            chat_id, photo=data, caption=f"📊 {report.round.title} · 填报进度图"
        )
    except CjkFontMissing as error:
        _LOGGER.warning("/status sent without its picture: %s", error)
        return False
    except Exception:  # the text must still go out, whatever went wrong with the picture
        _LOGGER.exception("/status sent without its picture")
        return False
    return True
