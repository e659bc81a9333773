"""/tableb: 表B 专项资金预算绩效目标汇总表 as text, before anyone exports.

Table B is computed from the department's C tables; the text is rendered from the very grid the
workbook prints (exports.text), so what is shown here is what the export will contain. Staff see
their own department's; a supervisor names the department: `/tableb 部门名称`.
"""

from __future__ import annotations

from telegram import Update

from bot.handlers.common import BotContext, command_args, in_thread, round_and_scope, say
from bot.render import Line
from exports.text import table_b_lines

USAGE = "用法：/tableb 部门名称，例：/tableb {example}"


async def table_b_command(update: Update, context: BotContext) -> None:
    found = await round_and_scope(update, context)
    if found is None:
        return
    round_, departments = found.round, found.departments
    wanted = " ".join(command_args(context)).strip()
    if len(departments) == 1 and not wanted:
        department = departments[0]
    else:
        named = next((d for d in departments if d.name == wanted), None)
        if named is None:
            await say(update, context, [USAGE.format(example=departments[0].name)])
            return
        department = named
    filing = await in_thread(context.deps.service.department_filing, department.id, round_.id)
    lines: list[Line | str] = [Line(f"{department.name} · 表B（由各支出方向自动汇总）", "b")]
    lines += [Line(text, "code") for text in table_b_lines(filing)]
    if not filing.directions:
        lines.append("还没有支出方向：用 /fill 新增支出方向后，表B 自动汇总。")
    await say(update, context, lines)
