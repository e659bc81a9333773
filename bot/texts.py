"""Rendering the jinja2 templates in bot/templates (wording changes there, not in code).

Templates produce Telegram HTML with autoescaping on, so department names, comments and other
stored text cannot inject markup. Every tag a template writes opens and closes on one line,
which lets bot.split cut a long text between lines without breaking the HTML.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


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
