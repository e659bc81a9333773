"""/status (simple version): per department of the user's scope, each form with its status and
the sections done."""

from __future__ import annotations

from telegram import Update

from bot import messages
from bot.handlers.common import BotContext, in_thread, say
from bot.render import Line
from bot.roles import DepartmentStatus
from dialogs.definition import TableKind
from storage.records import Round


def status_lines(round_: Round, statuses: list[DepartmentStatus], zone_name: str) -> list[Line]:
    from zoneinfo import ZoneInfo

    deadline = round_.deadline.astimezone(ZoneInfo(zone_name)).strftime("%Y-%m-%d %H:%M")
    lines = [Line(f"📊 {round_.year}年填报进度（截止 {deadline}）", "b")]
    for status in statuses:
        lines.append(Line(f"【{status.department.name}】", "b"))
        if not status.forms:
            lines.append(Line("  尚未开始填写"))
        for form in status.forms:
            name = form.name if form.kind is TableKind.A else f"支出方向：{form.name}"
            lines.append(
                Line(
                    f"  {name}：{form.status.label}，"
                    f"已完成 {form.sections_done}/{form.section_count} 部分"
                )
            )
    return lines


async def status_command(update: Update, context: BotContext) -> None:
    directory = context.deps.directory
    round_ = await in_thread(directory.current_round)
    if round_ is None:
        await say(update, context, [messages.NO_ROUND])
        return
    statuses = await in_thread(directory.status, context.me, round_)
    if not statuses:
        await say(update, context, [messages.NO_DEPARTMENTS_IN_SCOPE])
        return
    await say(update, context, status_lines(round_, statuses, context.deps.settings.timezone))
