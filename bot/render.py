"""Prompts, outcomes and reviews as Telegram HTML messages of at most 4,096 characters.

Every user-supplied or stored string goes through `html.escape`; our own markup is only <b> and
<i> around whole lines, so a message can be cut between any two lines without breaking a tag.
Telegram measures the limit on the visible text (after entity parsing) in UTF-16 code units,
which is what `visible_length` counts.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from telegram.constants import MessageLimit

from dialogs.actions import Outcome, Prompt
from dialogs.catalogue import Problem
from dialogs.review import Review

LIMIT: int = MessageLimit.MAX_TEXT_LENGTH
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


def visible_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _pieces(line: Line, limit: int) -> Iterable[Line]:
    """A line cut into pieces that each fit into one message."""
    text = line.text
    while visible_length(text) > limit:
        cut = limit
        while visible_length(text[:cut]) > limit:
            cut -= 1
        yield Line(text[:cut], line.style)
        text = text[cut:]
    yield Line(text, line.style)


def html_messages(lines: Sequence[Line | str], limit: int = LIMIT) -> list[str]:
    """Lines joined into as few messages as fit, each rendered as HTML."""
    messages: list[list[Line]] = []
    current: list[Line] = []
    size = 0
    for raw in lines:
        line = raw if isinstance(raw, Line) else Line(raw)
        for text_line in (Line(part, line.style) for part in line.text.split("\n")):
            for piece in _pieces(text_line, limit):
                extra = visible_length(piece.text) + (1 if current else 0)
                if current and size + extra > limit:
                    messages.append(current)
                    current, size = [], 0
                    extra = visible_length(piece.text)
                current.append(piece)
                size += extra
    if current:
        messages.append(current)
    rendered = ["\n".join(line.html() for line in message).strip() for message in messages]
    return [message for message in rendered if message] or ["…"]


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


def review_messages(review: Review) -> list[str]:
    """Each part of the review as its own message, its first line (the part title) in bold."""
    messages: list[str] = []
    for part in review.parts:
        title, _, body = part.partition("\n")
        messages.extend(html_messages([Line(title, "b"), body]))
    return messages


def confirm_lines(warnings: Sequence[Problem]) -> list[Line]:
    lines = [Line(f"提交前请确认以下 {len(warnings)} 条提示：", "b")]
    lines += [Line(f"{i + 1}. ⚠ {w.message}") for i, w in enumerate(warnings)]
    lines.append(Line("确认后仍要提交吗？"))
    return lines
