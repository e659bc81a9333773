"""Admin and supervisor commands: departments, filing rounds, invite codes.

Every button carries ids only and is checked again with `Actor` when pressed: a supervisor who
forges an admin button, or an id outside their departments, gets a refusal and nothing else.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from telegram import Update

from bot import messages
from bot.handlers.common import BotContext, command_args, drop_keyboard, in_thread, say
from bot.keyboards import MAX_CHOICES, InvitePress, RoundPress, button, decode, markup
from bot.messages import Notice, Refused
from bot.render import Line
from bot.roles import INVITE_DAYS
from dialogs.catalogue import Problem
from dialogs.layout_choice import LayoutChoiceError, default_layout
from storage.records import Invite, Role

_DATE = re.compile(r"(\d{4})\s*[-./年]?\s*(\d{1,2})\s*[-./月]?\s*(\d{1,2})\s*日?")
USAGE_NEWDEPT = "用法：/newdept 部门名称，例：/newdept 中共株洲市石峰区委员会宣传部"
USAGE_NEWROUND = "用法：/newround 年度 截止日期，例：/newround 2021 2021-03-31"


def parse_deadline(text: str) -> date | None:
    match = _DATE.fullmatch(text.strip())
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


async def admin_command(update: Update, context: BotContext) -> None:
    found = await in_thread(context.deps.directory.overview, context.me)
    if isinstance(found, Refused):
        await say(update, context, [found.message])
        return
    departments, rounds = found
    lines: list[Line | str] = [Line("🛠 管理", "b"), Line(f"部门（{len(departments)} 个）：", "b")]
    lines += [f"  {d.name}" for d in departments] or ["  （还没有部门，用 /newdept 新建）"]
    lines.append(Line("开放中的填报轮次：", "b"))
    zone = ZoneInfo(context.deps.settings.timezone)
    lines += [
        f"  {r.title}（表样 {r.layout} 版，截止 {r.deadline.astimezone(zone):%Y-%m-%d}）"
        for r in rounds
    ] or ["  （还没有，用 /newround 新建）"]
    lines.append(messages.HELP_ADMIN)
    await say(update, context, lines)


async def newdept_command(update: Update, context: BotContext) -> None:
    name = " ".join(command_args(context)).strip()
    department = await in_thread(context.deps.directory.create_department, context.me, name)
    if isinstance(department, Refused) and department.code is Notice.DEPARTMENT_NAME_LENGTH:
        await say(update, context, [department.message if name else USAGE_NEWDEPT])
        return
    if isinstance(department, Refused | Problem):
        await say(update, context, [department.message])
        return
    lines = [f"✓ 已新建部门：{department.name}", "用 /invite 邀请审核人或填报人员。"]
    await say(update, context, lines)


async def newround_command(update: Update, context: BotContext) -> None:
    layouts = await in_thread(context.deps.directory.round_layouts, context.me)
    if isinstance(layouts, Refused):
        await say(update, context, [layouts.message])
        return
    args = command_args(context)
    year = int(args[0]) if args and args[0].isdigit() and len(args[0]) == 4 else None
    deadline = parse_deadline(" ".join(args[1:])) if len(args) >= 2 else None
    if year is None or deadline is None or not 2000 <= year <= 2100:
        await say(update, context, [USAGE_NEWROUND])
        return
    default = default_layout(year, layouts)
    keyboard = markup(
        [[button(f"{key} 版表样", RoundPress(year, deadline, key)) for key in layouts]]
    )
    question = (
        f"{year}年填报轮次，截止 {deadline:%Y-%m-%d}。"
        f"请选择表样（{year}年默认 {default} 版）："
    )
    await say(update, context, [question], keyboard)


async def round_press(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, RoundPress)
    zone = ZoneInfo(context.deps.settings.timezone)
    deadline = datetime.combine(press.deadline, time(23, 59), tzinfo=zone)
    try:
        created = await in_thread(
            context.deps.directory.create_round, context.me, press.year, deadline, press.layout
        )
    except LayoutChoiceError as error:
        await drop_keyboard(query)
        await say(update, context, [error.problem.message])
        return
    if isinstance(created, Refused):
        await say(update, context, [created.message])
        return
    await drop_keyboard(query)
    await say(
        update,
        context,
        [
            f"✓ 填报轮次：{created.title}（表样 {created.layout} 版，"
            f"截止 {created.deadline.astimezone(zone):%Y-%m-%d}）"
        ],
    )


# --- invites ---------------------------------------------------------------------------------


async def invite_command(update: Update, context: BotContext) -> None:
    roles = await in_thread(context.deps.directory.roles_to_invite, context.me)
    if isinstance(roles, Refused):
        await say(update, context, [roles.message])
        return
    if roles == (Role.STAFF,):  # one kind to invite: straight to its departments
        await pick_department(update, context, Role.STAFF)
        return
    keyboard = markup(
        [[button(f"邀请{messages.ROLE_LABELS[role]}", InvitePress(role))] for role in roles]
    )
    await say(update, context, ["要邀请哪类人员？"], keyboard)


async def pick_department(update: Update, context: BotContext, role: Role) -> bool:
    """The departments to invite `role` to, as buttons; False after a refusal."""
    departments = await in_thread(context.deps.directory.invite_departments, context.me, role)
    if isinstance(departments, Refused):
        await say(update, context, [departments.message])
        return False
    rows = [
        [button(d.name, InvitePress(role, d.id, create=True))] for d in departments[:MAX_CHOICES]
    ]
    label = messages.ROLE_LABELS[role]
    await say(update, context, [f"为哪个部门生成{label}邀请码？"], markup(rows))
    return True


async def invite_press(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, InvitePress)
    if not press.create and press.role is not Role.DISTRICT_SUPERVISOR:
        # Pick the department first (refused there for a role the actor may not invite).
        if await pick_department(update, context, press.role):
            await drop_keyboard(query)
        return
    invite = await in_thread(
        context.deps.directory.create_invite, context.me, press.role, press.department_id
    )
    if isinstance(invite, Refused):
        await say(update, context, [invite.message])
        return
    await drop_keyboard(query)
    await send_invite(update, context, invite)


async def send_invite(update: Update, context: BotContext, invite: Invite) -> None:
    department = ""
    if invite.department_id is not None:
        found = await in_thread(context.deps.directory.department, invite.department_id)
        department = f"，部门：{found.name}" if found else ""
    link = f"https://t.me/{context.bot.username}?start={invite.code}"
    await say(
        update,
        context,
        [
            Line(f"✓ 邀请码（{messages.ROLE_LABELS[invite.role]}{department}）", "b"),
            Line(invite.code, "code"),
            f"邀请链接：{link}",
            f"也可以在与我的私聊中发送：/join {invite.code}",
            f"{INVITE_DAYS} 天内有效，仅可使用一次。请只发给受邀本人。",
        ],
    )
