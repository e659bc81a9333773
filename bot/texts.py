"""Rendering the jinja2 templates in bot/templates (wording changes there, not in code).

Templates produce Telegram HTML with autoescaping on, so department names, comments and other
stored text cannot inject markup. Every tag a template writes opens and closes on one line,
which lets `split_messages` cut a long text between lines without breaking the HTML.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from telegram.constants import MessageLimit

LIMIT: int = MessageLimit.MAX_TEXT_LENGTH


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bot", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["short"] = shorten
    return env


def render(template: str, **values: Any) -> str:
    """One template (name without .j2) rendered, blank lines at the ends removed."""
    return environment().get_template(f"{template}.j2").render(**values).strip()


def split_messages(text: str, limit: int = LIMIT) -> list[str]:
    """`text` cut into messages of at most `limit` characters, between lines. The raw HTML is
    measured, which is never shorter than what Telegram counts; a single over-long line (which
    the templates avoid by shortening free text) is cut hard."""
    messages: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                messages.append("\n".join(current))
                current, size = [], 0
            messages.append(line[:limit])
            line = line[limit:]
        extra = len(line) + (1 if current else 0)
        if current and size + extra > limit:
            messages.append("\n".join(current))
            current, size, extra = [], 0, len(line)
        current.append(line)
        size += extra
    if current:
        messages.append("\n".join(current))
    return [message.strip() for message in messages if message.strip()] or ["…"]


def shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def local_text(moment: datetime, zone: ZoneInfo) -> str:
    """A moment as staff read it: 2021年3月31日 17:00."""
    local = moment.astimezone(zone)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def remaining_text(deadline: datetime, now: datetime) -> str:
    """还剩 3 天 / 还剩 5 小时 / 已逾期 2 天 (whole units, rounded down, at least 1)."""
    delta = deadline - now
    late = delta.total_seconds() <= 0
    seconds = abs(delta.total_seconds())
    if seconds >= 86_400:
        amount = f"{int(seconds // 86_400)} 天"
    elif seconds >= 3_600:
        amount = f"{int(seconds // 3_600)} 小时"
    else:
        amount = f"{max(int(seconds // 60), 1)} 分钟"
    return f"已逾期 {amount}" if late else f"还剩 {amount}"
