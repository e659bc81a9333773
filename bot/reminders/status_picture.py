"""/status shows a supervisor the round as a picture above its text: departments by stage and
the weakest indicator quality, overdue in red (exports.round_picture, drawn by exports.round_png).

The PNG is drawn in a worker thread (it is CPU work) and cached by the picture's value:
two /status of an unchanged round on the same day send the same bytes without drawing again.
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

from telegram import Update
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.handlers.common import BotContext, chat_id_of
from bot.reminders.report import RoundReport
from exports.round_picture import DepartmentStanding, RoundPicture, department_stage, round_picture
from exports.round_png import CjkFontMissing, round_png  # matplotlib itself loads when drawing

_LOGGER = logging.getLogger(__name__)
CACHE_SIZE = 32  # pictures kept: a few rounds times the scopes of the supervisors asking


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


async def _png(picture: RoundPicture) -> bytes:
    data = PICTURES.get(picture)
    if data is None:
        data = await asyncio.to_thread(round_png, picture)
        PICTURES.put(picture, data)
        PICTURES.drawn += 1
    return data


async def send_round_picture(
    update: Update, context: BotContext, report: RoundReport, now: datetime, zone: ZoneInfo
) -> bool:
    """Send the picture of `report`; False (and the reason in the log) when none was sent."""
    if not report.departments:
        return False
    picture = report_picture(report, now, zone)
    chat_id = chat_id_of(update)
    with contextlib.suppress(TelegramError):  # cosmetic, as for the exports
        await context.bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
    try:
        data = await _png(picture)
        await context.bot.send_photo(
            chat_id, photo=data, caption=f"📊 {report.round.title} · 填报进度图"
        )
    except CjkFontMissing as error:
        _LOGGER.warning("/status sent without its picture: %s", error)
        return False
    except Exception:  # the text must still go out, whatever went wrong with the picture
        _LOGGER.exception("/status sent without its picture")
        return False
    return True
