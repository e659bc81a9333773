"""Prompts, outcomes and reviews as Telegram HTML messages of at most 4,096 characters.

Every user-supplied or stored string goes through `html.escape`; our own markup is only <b> and
<i> around whole lines, so a message can be cut between any two lines without breaking a tag.
Telegram measures the limit on the visible text (after entity parsing) in UTF-16 code units,
which is what bot.split counts and cuts.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.split import EMPTY, LIMIT, split_text
from bot.split import units as visible_length
from dialogs.actions import Outcome, Prompt
from dialogs.catalogue import Problem
from dialogs.review import Review

Style = Literal["", "b", "i", "code"]


@dataclass(frozen=True)
class Line:
    text: str
    style: Style = ""

    def html(self) -> str:
        escaped = html.escape(self.text, quote=False)
        if not self.style or not self.text.strip():
            return escaped
        return f"<{self.style}>{escaped}</{self.style}>"


def html_messages(lines: Sequence[Line | str], limit: int = LIMIT) -> list[str]:
    """Lines joined into as few messages as fit (bot.split cuts the visible text), each
    rendered as HTML: a line keeps its style in every message a cut spreads it over."""
    flat = [
        Line(text, line.style)
        for line in (raw if isinstance(raw, Line) else Line(raw) for raw in lines)
        for text in line.text.split("\n")
    ]
    if not flat:
        return [EMPTY]
    messages: list[str] = []
    index = 0  # the line (of `flat`) the next character of the visible text belongs to
    for part in split_text("\n".join(line.text for line in flat), limit):
        rendered = []
        for number, segment in enumerate(part.split("\n")):
            index += 1 if number else 0
            rendered.append(Line(segment, flat[index].style).html())
        messages.append("\n".join(rendered).strip())
    return [message for message in messages if message] or [EMPTY]


def problem_lines(problems: Iterable[Problem]) -> list[Line]:
    return [Line(("✗ " if p.is_error else "⚠ ") + p.message) for p in problems]


def prompt_lines(prompt: Prompt) -> list[Line]:
    heading = prompt.heading
    if prompt.progress is not None:
        p = prompt.progress
        heading += f"  {p.bar()} 第{p.section_index}/{p.section_count}部分"
    lines = [Line(heading, "b"), Line(prompt.text)]
    if prompt.hint:
        lines.append(Line(prompt.hint, "i"))
    return lines


def outcome_lines(outcome: Outcome) -> list[Line]:
    lines = [Line(outcome.echo)] if outcome.echo else []
    return lines + problem_lines(outcome.problems)


def resume_line(done: int, total: int, prompt: Prompt) -> Line:
    """`已完成 4/7 部分，继续：年度重点工作计划（第 3 条）` — the heading without the table name,
    which the prompt below repeats anyway."""
    where = prompt.heading
    if prompt.progress is not None:
        where = where.removeprefix(f"{prompt.progress.table} · ")
    return Line(f"已完成 {done}/{total} 部分，继续：{where}")


def review_messages(review: Review, limit: int = LIMIT) -> list[str]:
    """The review as messages, each headed by its title in bold and its number:
    `📋 表名 · 预览（1/2）`. The room for the heading is kept for up to 999 parts."""
    room = limit - visible_length(f"{review.title}（999/999）\n")
    bodies = html_messages(list(review.lines), room)
    count = len(bodies)
    return [
        f"{Line(f'{review.title}（{number}/{count}）', 'b').html()}\n{body}"
        for number, body in enumerate(bodies, start=1)
    ]


def confirm_lines(warnings: Sequence[Problem]) -> list[Line]:
    lines = [Line(f"提交前请确认以下 {len(warnings)} 条提示：", "b")]
    lines += [Line(f"{i + 1}. ⚠ {w.message}") for i, w in enumerate(warnings)]
    lines.append(Line("确认后仍要提交吗？"))
    return lines
