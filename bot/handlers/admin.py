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
from bot.render import Line
from bot.roles import INVITE_DAYS, Actor, RefusedText
from dialogs.layout_choice import LayoutChoiceError, default_layout
from dialogs.loader import load_layouts
from storage.records import AlreadyExistsError, Invite, Role

_DATE = re.compile(r"(\d{4})\s*[-./年]?\s*(\d{1,2})\s*[-./月]?\s*(\d{1,2})\s*日?")
USAGE_NEWDEPT = "用法：/newdept 部门名称，例：/newdept 中共株洲市石峰区委员会宣传部"
USAGE_NEWROUND = "用法：/newround 年度 截止日期，例：/newround 2021 2021-03-31"


async def admin_only(update: Update, context: BotContext) -> Actor | None:
    actor = context.me
    if not actor.is_admin:
        await say(update, context, [messages.NOT_ALLOWED])
        return None
    return actor


def parse_deadline(text: str) -> date | None:
    match = _DATE.fullmatch(text.strip())
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


async def admin_command(update: Update, context: BotContext) -> None:
    actor = await admin_only(update, context)
    if actor is None:
        return
    directory = context.deps.directory
    departments = await in_thread(directory.departments, actor)
    rounds = await in_thread(directory.open_rounds)
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
    actor = await admin_only(update, context)
    if actor is None:
        return
    name = " ".join(command_args(context)).strip()
    if not name:
        await say(update, context, [USAGE_NEWDEPT])
        return
    try:
        department = await in_thread(context.deps.directory.create_department, actor, name)
    except AlreadyExistsError:
        await say(update, context, [f"部门“{name}”已存在。"])
        return
    except RefusedText as error:
        await say(update, context, [error.problem.message])
        return
    except ValueError:
        await say(update, context, ["部门名称应为 1 到 50 个字。"])
        return
    lines = [f"✓ 已新建部门：{department.name}", "用 /invite 邀请审核人或填报人员。"]
    await say(update, context, lines)


async def newround_command(update: Update, context: BotContext) -> None:
    if await admin_only(update, context) is None:
        return
    args = command_args(context)
    year = int(args[0]) if args and args[0].isdigit() and len(args[0]) == 4 else None
    deadline = parse_deadline(" ".join(args[1:])) if len(args) >= 2 else None
    if year is None or deadline is None or not 2000 <= year <= 2100:
        await say(update, context, [USAGE_NEWROUND])
        return
    layouts = sorted(load_layouts())
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
    actor = await admin_only(update, context)
    if actor is None or press.layout not in load_layouts():
        if actor is not None:
            await say(update, context, [messages.NOT_ALLOWED])
        return
    zone = ZoneInfo(context.deps.settings.timezone)
    deadline = datetime.combine(press.deadline, time(23, 59), tzinfo=zone)
    try:
        created = await in_thread(
            context.deps.directory.create_round, actor, press.year, deadline, press.layout
        )
    except LayoutChoiceError as error:
        await drop_keyboard(query)
        await say(update, context, [error.problem.message])
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
    actor = context.me
    roles = actor.invitable_roles()
    if not roles:
        await say(update, context, [messages.NOT_ALLOWED])
        return
    if roles == (Role.STAFF,):
        await pick_department(update, context, actor, Role.STAFF)
        return
    keyboard = markup(
        [[button(f"邀请{messages.ROLE_LABELS[role]}", InvitePress(role))] for role in roles]
    )
    await say(update, context, ["要邀请哪类人员？"], keyboard)


async def pick_department(update: Update, context: BotContext, actor: Actor, role: Role) -> None:
    departments = await in_thread(context.deps.directory.departments, actor)
    if not departments:
        await say(update, context, ["还没有部门。管理员可用 /newdept 新建。"])
        return
    rows = [
        [button(d.name, InvitePress(role, d.id, create=True))] for d in departments[:MAX_CHOICES]
    ]
    label = messages.ROLE_LABELS[role]
    await say(update, context, [f"为哪个部门生成{label}邀请码？"], markup(rows))


async def invite_press(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    assert isinstance(press, InvitePress)
    actor = context.me
    if press.role not in actor.invitable_roles():
        await say(update, context, [messages.NOT_ALLOWED])
        return
    await drop_keyboard(query)
    if not press.create and press.role is not Role.DISTRICT_SUPERVISOR:
        await pick_department(update, context, actor, press.role)
        return
    try:
        invite = await in_thread(
            context.deps.directory.create_invite, actor, press.role, press.department_id
        )
    except PermissionError:
        await say(update, context, [messages.NOT_ALLOWED])
        return
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
