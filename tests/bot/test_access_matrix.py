"""The access-control matrix: every command and every kind of button, for each role, against the
real bot (build_application, with the reminders' commands) over the loopback fake Bot API.

Roles: a stranger, staff of department X, staff of department Y, the supervisor of X, a
district supervisor and an admin. Every button is sent as *forged* callback data (pressed under
any message the person has, whether or not the bot ever offered it), so a cell says what a
person can do with a button, not just with the buttons they were shown. A cell's expectation:

- `JOIN`: a stranger gets the how-to-join text and nothing else;
- `no(text)`: refused with that text; nothing in the database changes, no document is sent;
- `yes(text, …)`: allowed; the reply shows the text; the database may change only where the
  cell says so, a document is sent only where it says so.

In every cell: nothing of a department the role may not see (its name, its figures) appears in
any reply or document, and a pressed button is answered (no endless spinner). A cell marked
`defect=` states the intended behaviour and is expected to fail until the defect is fixed (then
it reports itself, like a strict xfail). `test_every_command_is_in_the_matrix` and
`test_every_kind_of_button_is_in_the_matrix` fail when one is added without a row here.

Also here: replayed and forged invite codes, and formula-looking answers reaching a workbook only
as text. Covered elsewhere, not repeated: webhook calls without the secret token get 403
(tests/bot/test_bot_startup.py::test_webhook_answers_403_without_the_secret_token); the token
never reaches the logs (test_bot_startup.py::test_token_never_reaches_the_logs); group chats are
sent to the private chat (test_bot_access.py::test_group_chat_points_to_the_private_chat).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import shutil
import typing
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from telegram.ext import CommandHandler

from bot import messages
from bot.handlers.reminders import REVIEWERS_ONLY, ROUND_WIDE_ONLY
from bot.keyboards import (
    Callback,
    ExportPress,
    FormOp,
    FormPress,
    InvitePress,
    MenuOp,
    MenuPress,
    ReviewOp,
    ReviewPress,
    decode,
)
from bot.messages import Notice
from bot.messages import text as said
from bot.service import FilingService
from dialogs.actions import Action, ActionKind
from dialogs.state import FormStatus
from storage.db import Database
from storage.models import Base
from storage.records import Role
from storage.repos import (
    DepartmentRepository,
    InviteRepository,
    RoundRepository,
    UserRepository,
)
from tests.support.bot import BotEnv, invite_code, template_database
from tests.support.fake_bot_api import BotMessage, TgUser
from tests.support.telegram_client import ChatDriver

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]

X, Y = "区委宣传部", "区财政局"
X_TOTAL, Y_TOTAL = "135.791", "654.321"  # figures only their own department's people may see
ROLES = ("stranger", "staff_x", "staff_y", "supervisor_x", "district", "admin")
SEES = {
    "stranger": frozenset(),
    "staff_x": frozenset({X}),
    "staff_y": frozenset({Y}),
    "supervisor_x": frozenset({X}),
    "district": frozenset({X, Y}),
    "admin": frozenset({X, Y}),
}
NAMES = {  # display names, as stored and as the fake's users are called (no rename on contact)
    "stranger": "陌生人",
    "staff_x": "甲",
    "staff_y": "乙",
    "supervisor_x": "丙",
    "district": "丁",
}
TELEGRAM_IDS = {"stranger": 30_001, "staff_x": 30_002, "staff_y": 30_003}
TELEGRAM_IDS |= {"supervisor_x": 30_004, "district": 30_005}
FORMULAS = (
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://example.org/x","点我")',
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1,1)",
)


# --- the world ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """Ids in the template database (the same in every copy)."""

    x: int
    y: int
    ax: int  # X's table A: staff X's current form, a draft with X_TOTAL typed
    ax_version: int
    ay: int  # Y's table A, likewise with Y_TOTAL
    cx: int  # a direction of X, submitted (for review)
    cx_version: int
    cy: int  # a direction of Y, submitted
    cy_version: int


def build_world(database: Database) -> World:
    service = FilingService(database)
    with database.transaction() as session:
        departments, users = DepartmentRepository(session), UserRepository(session)
        x, y = departments.create(X), departments.create(Y)
        deadline = datetime.now(UTC) + timedelta(days=60)  # no reminder due during the tests
        round_ = RoundRepository(session).create(2021, "2021", deadline, "2021年预算绩效目标")
        ids = {}
        for role, department, kind in (
            ("staff_x", x.id, Role.STAFF),
            ("staff_y", y.id, Role.STAFF),
            ("supervisor_x", None, Role.SUPERVISOR),
            ("district", None, Role.DISTRICT_SUPERVISOR),
        ):
            user = users.create(TELEGRAM_IDS[role], NAMES[role], kind, department)
            ids[role] = user.id
        users.oversee(ids["supervisor_x"], x.id)
    forms = {}
    for role, department, total in (("staff_x", x.id, X_TOTAL), ("staff_y", y.id, Y_TOTAL)):
        direction = service.new_direction(department, round_.id, ids[role]).form
        submitted = service.set_status(direction.id, FormStatus.SUBMITTED, ids[role])
        table = service.open_table_a(department, round_.id, ids[role]).form
        answered = service.act(table.id, Action(ActionKind.ANSWER, text=total), ids[role])
        forms[role] = (answered.view.form, submitted)
    (ax, cx), (ay, cy) = forms["staff_x"], forms["staff_y"]
    return World(x.id, y.id, ax.id, ax.version, ay.id, cx.id, cx.version, cy.id, cy.version)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    """The world built once into a migrated SQLite file; every test works on a copy."""
    path = tmp_path_factory.mktemp("matrix") / "world.sqlite3"
    shutil.copyfile(template_database(), path)
    database = Database(f"sqlite:///{path}")
    try:
        world = build_world(database)
    finally:
        database.dispose()
    return path, world


@dataclass
class Cast:
    env: BotEnv
    drivers: dict[str, ChatDriver]


@contextlib.asynccontextmanager
async def running_world(template: Path, directory: Path) -> AsyncIterator[Cast]:
    """The bot on a copy of the world, with a chat driver per role; everyone has written once
    (so the admin is known and every chat has a message to press buttons under)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "world.sqlite3"
    shutil.copyfile(template, path)
    database = Database(f"sqlite:///{path}")
    try:
        async with BotEnv.running(directory, database=database) as env:
            drivers = {"admin": env.admin}
            for role, name in NAMES.items():
                drivers[role] = env.driver(env.fake.user(name, id=TELEGRAM_IDS[role]))
            for role in ROLES:
                await drivers[role].say("/help")
            yield Cast(env, drivers)
    finally:
        database.dispose()


def snapshot(database: Database) -> dict[str, object]:
    """What an action may change, table by table (row counts), and every form's version and
    status."""
    with database.transaction() as session:
        counts = {
            table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
            # Conversation state, not data (where a user is, what they are asked to confirm),
            # and the inbox, which keeps every update whatever it is allowed to change.
            if table.name not in ("chat_sessions", "pending_inputs", "alembic_version", "inbox")
        }
        table = Base.metadata.tables["forms"]
        forms = session.execute(select(table.c.id, table.c.version, table.c.status)).all()
    return {"rows": counts, "forms": sorted(tuple(f) for f in forms)}


# --- the matrix ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    shows: tuple[str, ...] = ()  # each must appear in the reply
    exactly: str | None = None  # the whole reply
    document: str | None = None  # a document is sent whose name contains this
    changes: bool = False  # the database may change
    defect: str | None = None  # the intended behaviour is not there yet (see module docstring)


JOIN = Expect(exactly=messages.JOIN_EXPLANATION)


def no(text: str, *, defect: str | None = None) -> Expect:
    return Expect(shows=(text,), defect=defect)


def yes(*shows: str, document: str | None = None, changes: bool = False) -> Expect:
    return Expect(shows=shows, document=document, changes=changes)


def everyone(
    stranger: Expect = JOIN,
    *,
    staff: Expect | None = None,
    reviewers: Expect | None = None,
    **roles: Expect,
) -> dict[str, Expect]:
    """A row: `staff` for both staff roles, `reviewers` for supervisor, district and admin,
    then any role by name."""
    row = {"stranger": stranger}
    if staff is not None:
        row |= {"staff_x": staff, "staff_y": staff}
    if reviewers is not None:
        row |= {"supervisor_x": reviewers, "district": reviewers, "admin": reviewers}
    row |= roles
    missing = set(ROLES) - set(row)
    assert not missing, f"row without {missing}"
    return row


Send = Callable[[World], str]


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "text", "button" or "upload"
    send: Send
    expect: dict[str, Expect]
    isolated: bool = False  # each role on its own copy (allowed actions that change the rest)


NOT_ALLOWED, NOT_STAFF = said(Notice.NOT_ALLOWED), said(Notice.NOT_STAFF)
REVIEW_REFUSED = said(Notice.REVIEW_NOT_ALLOWED)
EXPORT_X = f"2021_{X}_绩效目标表.xlsx"
EXPORT_Y = f"2021_{Y}_绩效目标表.xlsx"
CHOOSE_EXPORT = "请选择要导出的部门"
SUBMIT_BLOCKED = "暂不能提交"
STALE_OR_DONE = "已过期"
PRINT_UNAVAILABLE = "暂时无法生成 PDF 和图片预览"


def text(value: str) -> Send:
    return lambda _world: value


CASES: list[Case] = [
    # --- commands --------------------------------------------------------------------------
    Case("/start", "text", text("/start"), everyone(staff=yes("你好"), reviewers=yes("你好"))),
    Case(
        "/help",
        "text",
        text("/help"),
        everyone(
            staff=yes(messages.HELP_STAFF),
            reviewers=yes(messages.HELP_SUPERVISOR),
            admin=yes(messages.HELP_ADMIN),
        ),
    ),
    Case(
        "/join without a code",
        "text",
        text("/join"),
        everyone(staff=yes("用法：/join 邀请码"), reviewers=yes("用法：/join 邀请码")),
    ),
    Case(
        "/join with a wrong code",
        "text",
        text("/join WRONG-CODE-1"),
        everyone(
            Expect(exactly=said(Notice.INVITE_NOT_FOUND)),
            staff=no(said(Notice.INVITE_NOT_FOUND)),
            reviewers=no(said(Notice.INVITE_NOT_FOUND)),
            admin=no(said(Notice.ADMIN_CANNOT_JOIN)),
        ),
    ),
    Case(
        "/fill",
        "text",
        text("/fill"),
        everyone(staff=yes("已完成", "继续"), reviewers=no(NOT_STAFF)),
    ),
    Case("/review", "text", text("/review"), everyone(staff=yes("预览"), reviewers=no(NOT_STAFF))),
    Case(
        "/submit",
        "text",
        text("/submit"),
        everyone(staff=yes(SUBMIT_BLOCKED), reviewers=no(NOT_STAFF)),
    ),
    Case(
        "/cancel",
        "text",
        text("/cancel"),
        everyone(staff=yes(messages.PAUSED), reviewers=yes(messages.PAUSED)),
    ),
    Case(
        "/status",
        "text",
        text("/status"),
        everyone(
            staff_x=yes(X),
            staff_y=yes(Y),
            supervisor_x=yes(X),
            district=yes(X, Y),
            admin=yes(X, Y),
        ),
    ),
    Case(
        "/preview",
        "text",
        text("/preview"),
        everyone(staff=yes(PRINT_UNAVAILABLE), reviewers=yes(PRINT_UNAVAILABLE)),
    ),
    Case(
        "/export",
        "text",
        text("/export"),
        everyone(
            staff_x=yes(document=EXPORT_X),
            staff_y=yes(document=EXPORT_Y),
            supervisor_x=yes(document=EXPORT_X),
            district=yes(CHOOSE_EXPORT, X, Y),
            admin=yes(CHOOSE_EXPORT, X, Y),
        ),
    ),
    Case(
        "/tableb",
        "text",
        text("/tableb"),
        everyone(
            staff_x=yes("表B", X),
            staff_y=yes("表B", Y),
            supervisor_x=yes("表B", X),
            district=yes("用法：/tableb"),
            admin=yes("用法：/tableb"),
        ),
    ),
    Case(
        "/tableb another department",
        "text",
        text(f"/tableb {Y}"),
        everyone(
            staff_x=no("用法：/tableb"),
            staff_y=yes("表B", Y),
            supervisor_x=no("用法：/tableb"),
            district=yes("表B", Y),
            admin=yes("表B", Y),
        ),
    ),
    Case(
        "/admin",
        "text",
        text("/admin"),
        everyone(staff=no(NOT_ALLOWED), reviewers=no(NOT_ALLOWED), admin=yes("🛠 管理", X, Y)),
    ),
    Case(
        "/invite",
        "text",
        text("/invite"),
        everyone(
            staff=no(NOT_ALLOWED),
            supervisor_x=yes("为哪个部门生成填报人员邀请码", X),
            district=yes("为哪个部门生成填报人员邀请码", X, Y),
            admin=yes("要邀请哪类人员"),
        ),
    ),
    Case(
        "/newdept",
        "text",
        text("/newdept 新建的部门"),
        everyone(
            staff=no(NOT_ALLOWED),
            reviewers=no(NOT_ALLOWED),
            admin=yes("已新建部门", changes=True),
        ),
    ),
    Case(
        "/newdept without a name",
        "text",
        text("/newdept"),
        everyone(staff=no(NOT_ALLOWED), reviewers=no(NOT_ALLOWED), admin=yes("用法：/newdept")),
    ),
    Case(
        "/newround",
        "text",
        text("/newround 2022 2022-03-31"),
        everyone(staff=no(NOT_ALLOWED), reviewers=no(NOT_ALLOWED), admin=yes("请选择表样")),
    ),
    Case(
        "/remind",
        "text",
        text("/remind"),
        everyone(staff=no(REVIEWERS_ONLY), reviewers=yes("提醒", changes=True)),
    ),
    Case(
        "/policy (show)",
        "text",
        text("/policy"),
        everyone(staff=yes("提醒设置"), reviewers=yes("提醒设置")),
    ),
    Case(
        "/policy (change)",
        "text",
        text("/policy 当天=关"),
        # Round-wide: only the roles that see every department change it.
        everyone(
            staff=no(ROUND_WIDE_ONLY),
            supervisor_x=no(ROUND_WIDE_ONLY),
            district=yes("提醒设置已更新", changes=True),
            admin=yes("提醒设置已更新", changes=True),
        ),
    ),
    Case(
        "an unknown command",
        "text",
        text("/unknown"),
        everyone(staff=yes("使用说明"), reviewers=yes("使用说明")),
    ),
    Case(
        "a typed answer",
        "text",
        text("12.5"),
        everyone(staff=yes("一般公共预算拨款", changes=True), reviewers=no(NOT_STAFF)),
    ),
    Case(
        "a file sent (import)",
        "upload",
        text("notes.txt"),
        everyone(staff=yes(".xlsx"), reviewers=no(NOT_STAFF)),
    ),
    # --- buttons of a form (X's), forged by everyone ------------------------------------------
    Case(
        "s: a step button of X's form",
        "button",
        lambda w: f"s:{w.ax}:{w.ax_version}:0",
        everyone(
            staff_x=yes("资金总额", changes=True),
            staff_y=no(NOT_ALLOWED),
            reviewers=no(NOT_ALLOWED),
        ),
    ),
    Case(
        "s: a step button of X's form at an old version",
        "button",
        lambda w: f"s:{w.ax}:{w.ax_version - 1}:0",
        everyone(staff_x=yes(STALE_OR_DONE), staff_y=no(NOT_ALLOWED), reviewers=no(NOT_ALLOWED)),
    ),
    Case(
        "j: a jump in X's form",
        "button",
        lambda w: f"j:{w.ax}:{w.ax_version}:f:total",
        everyone(
            staff_x=yes("资金总额", changes=True),
            staff_y=no(NOT_ALLOWED),
            reviewers=no(NOT_ALLOWED),
        ),
    ),
    Case(
        "r: the review of X's form",
        "button",
        lambda w: f"r:{w.ax}:{w.ax_version}",
        everyone(
            staff_x=yes("预览", X_TOTAL),
            staff_y=no(NOT_ALLOWED),
            reviewers=yes("预览", X_TOTAL),
        ),
    ),
    Case(
        "u: submit X's form",
        "button",
        lambda w: f"u:{w.ax}:{w.ax_version}",
        everyone(staff_x=yes(SUBMIT_BLOCKED), staff_y=no(NOT_ALLOWED), reviewers=no(NOT_ALLOWED)),
    ),
    Case(
        "c: submit X's form despite warnings",
        "button",
        lambda w: f"c:{w.ax}:{w.ax_version}",
        everyone(staff_x=yes(SUBMIT_BLOCKED), staff_y=no(NOT_ALLOWED), reviewers=no(NOT_ALLOWED)),
    ),
    Case(
        "y: update the old year of X's form (not copied from last year: refused)",
        "button",
        lambda w: f"y:{w.ax}:{w.ax_version}",
        everyone(
            staff_x=yes(said(Notice.OLD_YEAR_STALE)),
            staff_y=no(NOT_ALLOWED),
            reviewers=no(NOT_ALLOWED),
        ),
    ),
    Case(
        "m:y start from last year (the department has started: refused)",
        "button",
        text("m:y"),
        everyone(staff=yes(said(Notice.CARRY_OVER_REFUSED)), reviewers=no(NOT_STAFF)),
    ),
    Case(
        "m:a table A of one's own department",
        "button",
        text("m:a"),
        everyone(staff=yes("已完成", changes=True), reviewers=no(NOT_STAFF)),
    ),
    Case(
        "m:c open X's form",
        "button",
        lambda w: f"m:c:{w.ax}",
        everyone(
            staff_x=yes("已完成", "继续"),
            staff_y=no(NOT_ALLOWED),
            reviewers=no(NOT_STAFF),
        ),
    ),
    Case(
        "m:n a new direction, from an old menu",
        "button",
        text("m:n:7"),
        everyone(staff=yes("表格列表已更新"), reviewers=no(NOT_STAFF)),
    ),
    Case(
        "m:p pause",
        "button",
        text("m:p"),
        everyone(staff=yes(messages.PAUSED), reviewers=yes(messages.PAUSED)),
    ),
    Case(
        "m:m the table menu",
        "button",
        text("m:m"),
        everyone(
            staff_x=yes("请选择要填写的表格", X),
            staff_y=yes("请选择要填写的表格", Y),
            reviewers=no(NOT_STAFF),
        ),
    ),
    # --- export, invites, rounds, imports ------------------------------------------------------
    Case(
        "e: export X",
        "button",
        lambda w: f"e:{w.x}",
        everyone(
            staff_x=yes(document=EXPORT_X),
            staff_y=no(NOT_ALLOWED),
            reviewers=yes(document=EXPORT_X),
        ),
    ),
    Case(
        "v: preview X's tables (no LibreOffice in these tests)",
        "button",
        lambda w: f"v:{w.x}:0",
        everyone(
            staff_x=yes(PRINT_UNAVAILABLE),
            staff_y=no(NOT_ALLOWED),
            reviewers=yes(PRINT_UNAVAILABLE),
        ),
    ),
    Case(
        "e:0 export the round",
        "button",
        text("e:0"),
        everyone(staff=no(NOT_ALLOWED), reviewers=yes(document="汇总")),
    ),
    Case(
        "i:t pick a department for a staff invite",
        "button",
        text("i:t"),
        everyone(
            staff=no(NOT_ALLOWED),
            supervisor_x=yes(X),
            district=yes(X, Y),
            admin=yes(X, Y),
        ),
    ),
    Case(
        "i:t: a staff invite for X",
        "button",
        lambda w: f"i:t:{w.x}",
        everyone(staff=no(NOT_ALLOWED), reviewers=yes("邀请码", X, changes=True)),
    ),
    Case(
        "i:t: a staff invite for Y",
        "button",
        lambda w: f"i:t:{w.y}",
        everyone(
            staff=no(NOT_ALLOWED),
            supervisor_x=no(NOT_ALLOWED),
            district=yes("邀请码", Y, changes=True),
            admin=yes("邀请码", Y, changes=True),
        ),
    ),
    Case(
        "i:s pick a department for a supervisor invite",
        "button",
        text("i:s"),
        everyone(staff=no(NOT_ALLOWED), reviewers=no(NOT_ALLOWED), admin=yes(X, Y)),
    ),
    Case(
        "i:s: a supervisor invite for X",
        "button",
        lambda w: f"i:s:{w.x}",
        everyone(
            staff=no(NOT_ALLOWED),
            reviewers=no(NOT_ALLOWED),
            admin=yes("邀请码", changes=True),
        ),
    ),
    Case(
        "i:d:0 a district supervisor invite",
        "button",
        text("i:d:0"),
        everyone(
            staff=no(NOT_ALLOWED),
            reviewers=no(NOT_ALLOWED),
            admin=yes("邀请码", changes=True),
        ),
    ),
    Case(
        "n: create a round",
        "button",
        text("n:2022:20220331:2021"),
        everyone(
            staff=no(NOT_ALLOWED),
            reviewers=no(NOT_ALLOWED),
            admin=yes("填报轮次", changes=True),
        ),
    ),
    Case(
        "x:1 apply an import nobody sent",
        "button",
        text("x:1"),
        everyone(staff=no("没有待确认的导入"), reviewers=no("没有待确认的导入")),
    ),
    Case(
        "x:0 cancel an import",
        "button",
        text("x:0"),
        everyone(staff=no("没有待确认的导入"), reviewers=no("没有待确认的导入")),
    ),
    # --- review (bot/review) -----------------------------------------------------------------
    Case(
        "rv:s: the review card of X's submitted direction",
        "button",
        lambda w: f"rv:s:{w.cx}",
        everyone(staff=no(REVIEW_REFUSED), reviewers=yes("通过")),
    ),
    Case(
        "rv:s: the review card of Y's submitted direction",
        "button",
        lambda w: f"rv:s:{w.cy}",
        everyone(
            staff=no(REVIEW_REFUSED),
            supervisor_x=no(REVIEW_REFUSED),
            district=yes("通过"),
            admin=yes("通过"),
        ),
    ),
    Case(
        "rv:a: approve X's submitted direction",
        "button",
        lambda w: f"rv:a:{w.cx}:{w.cx_version}",
        everyone(staff=no(REVIEW_REFUSED), reviewers=yes("已审核通过", changes=True)),
        isolated=True,
    ),
    Case(
        "rv:a: approve Y's submitted direction",
        "button",
        lambda w: f"rv:a:{w.cy}:{w.cy_version}",
        everyone(
            staff=no(REVIEW_REFUSED),
            supervisor_x=no(REVIEW_REFUSED),
            district=yes("已审核通过", changes=True),
            admin=yes("已审核通过", changes=True),
        ),
        isolated=True,
    ),
    Case(
        "rv:r: return X's submitted direction",
        "button",
        lambda w: f"rv:r:{w.cx}:{w.cx_version}",
        everyone(
            staff=no(REVIEW_REFUSED),
            reviewers=yes("请直接发送退回意见"),
        ),
    ),
    Case(
        "rv:r: return Y's submitted direction",
        "button",
        lambda w: f"rv:r:{w.cy}:{w.cy_version}",
        everyone(
            staff=no(REVIEW_REFUSED),
            supervisor_x=no(REVIEW_REFUSED),
            district=yes("请直接发送退回意见"),
            admin=yes("请直接发送退回意见"),
        ),
    ),
    Case(
        "rv:x cancel a return",
        "button",
        text("rv:x"),
        everyone(staff=yes("已取消退回"), reviewers=yes("已取消退回")),
    ),
    # --- forged data that names nothing real -------------------------------------------------
    Case(
        "undecodable data",
        "button",
        text("zz:1:2"),
        everyone(staff=no("这个按钮已失效"), reviewers=no("这个按钮已失效")),
    ),
    Case(
        "a form that does not exist",
        "button",
        text("s:999999:0:0"),
        everyone(staff=no(NOT_ALLOWED), reviewers=no(NOT_ALLOWED)),
    ),
    Case(
        "a jump in a form that does not exist",
        "button",
        text("j:999999:0:f:total"),
        everyone(staff=no(NOT_ALLOWED), reviewers=no(NOT_ALLOWED)),
    ),
    Case(
        "the review of a form that does not exist",
        "button",
        text("r:999999:0"),
        everyone(staff=no(NOT_ALLOWED), reviewers=no(NOT_ALLOWED)),
    ),
    Case(
        "a preview of a department that does not exist",
        "button",
        text("v:999999:0"),
        everyone(staff=no(NOT_ALLOWED), reviewers=no(NOT_ALLOWED)),
    ),
    Case(
        "a department that does not exist",
        "button",
        text("e:999999"),
        everyone(staff=no(NOT_ALLOWED), reviewers=no(NOT_ALLOWED)),
    ),
    Case(
        "a review card of a form that does not exist",
        "button",
        text("rv:s:999999"),
        everyone(
            staff=no(said(Notice.REVIEW_NOT_FOUND)),
            reviewers=no(said(Notice.REVIEW_NOT_FOUND)),
        ),
    ),
]


# --- running a cell ------------------------------------------------------------------------------


@dataclass
class Seen:
    texts: str
    documents: list[BotMessage] = field(default_factory=list)
    answered: bool = True
    photos: list[BotMessage] = field(default_factory=list)  # the round picture of /status


async def act(driver: ChatDriver, case: Case, world: World) -> Seen:
    data = case.send(world)
    if case.kind == "text":
        replies = await driver.say(data, expect_reply=False)
    elif case.kind == "upload":
        replies = await driver.upload(data, b"not a workbook", expect_reply=False)
    else:
        target = driver.last_message
        assert target is not None
        driver.check_answered = False  # checked below, as part of the cell
        replies = await driver.press(data, message=target, check=False)
    documents = [m for m in replies if m.document is not None and not m.photo]
    # What the person sees: the texts and the labels of the buttons under them.
    shown = [part for m in replies for part in (m.visible_text or "", *m.button_labels)]
    seen = Seen("\n".join(shown), documents, photos=[m for m in replies if m.photo])
    if case.kind == "button":
        seen.answered = driver.last_answer is not None
    return seen


def workbook_text(message: BotMessage) -> str:
    assert message.document is not None
    book = load_workbook(io.BytesIO(message.document.data), read_only=True)
    values = [
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    book.close()
    return "\n".join([message.document.filename or "", *values])


def problems(expect: Expect, seen: Seen, changed: bool) -> list[str]:
    """Where the cell's expectation is not met."""
    found = []
    if expect.exactly is not None and seen.texts != expect.exactly:
        found.append(f"expected exactly {expect.exactly!r}")
    found += [f"no {wanted!r}" for wanted in expect.shows if wanted not in seen.texts]
    if expect.document is None and seen.documents:
        found.append("a document was sent")
    if expect.document is not None and not any(
        expect.document in (m.document.filename or "") for m in seen.documents if m.document
    ):
        found.append(f"no document {expect.document!r}")
    if changed and not expect.changes:
        found.append("the database changed")
    return found


def breaches(role: str, seen: Seen) -> list[str]:
    """What must never happen, in any cell (known defects included): another department's
    data shown, a button left spinning."""
    found = [] if seen.answered else ["the button was not answered (spinner)"]
    if seen.photos and role not in ("supervisor_x", "district", "admin"):
        found.append("the round picture was sent")  # reviewers only (from a scoped report)
    shown = seen.texts + "\n".join(workbook_text(m) for m in seen.documents)
    for department, secrets in {X: (X, X_TOTAL), Y: (Y, Y_TOTAL)}.items():
        if department not in SEES[role]:
            found += [f"shows {secret!r} of {department}" for secret in secrets if secret in shown]
    return found


async def run_cell(cast: Cast, case: Case, role: str, world: World) -> list[str]:
    database = cast.env.database
    before = await asyncio.to_thread(snapshot, database)
    seen = await act(cast.drivers[role], case, world)
    after = await asyncio.to_thread(snapshot, database)
    expect = case.expect[role]
    found = problems(expect, seen, before != after)
    if expect.defect is not None:
        # A known defect: the expectation must still fail (else the mark is out of date).
        found = [f"FIXED, remove defect= from this cell ({expect.defect})"] if not found else []
    found += breaches(role, seen)
    return [f"{role}: {'; '.join(found)}\n    reply: {seen.texts[:300]!r}"] if found else []


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_access(case: Case, template: tuple[Path, World], tmp_path: Path) -> None:
    path, world = template
    failures: list[str] = []
    # The roles act one after the other on one copy of the world, unless the row's allowed
    # action changes what the next role would meet (a review decided): then one copy each.
    if case.isolated:
        for role in ROLES:
            async with running_world(path, tmp_path / role) as cast:
                failures += await run_cell(cast, case, role, world)
    else:
        async with running_world(path, tmp_path / "all") as cast:
            for role in ROLES:
                failures += await run_cell(cast, case, role, world)
    assert not failures, f"{case.name}:\n" + "\n".join(failures)


def button_kind(data: str) -> object:
    """What a row's callback data stands for, at the level of detail the handlers branch on."""
    press = decode(data)
    if isinstance(press, FormPress | MenuPress | ReviewPress):
        return press.op
    if isinstance(press, InvitePress):
        return (InvitePress, press.role, press.create)
    if isinstance(press, ExportPress):
        return (ExportPress, press.department_id == 0)
    return type(press) if press is not None else None


def test_every_kind_of_button_is_in_the_matrix(template: tuple[Path, World]) -> None:
    """A kind of button added without a row here fails this test."""
    _, world = template
    covered = {button_kind(case.send(world)) for case in CASES if case.kind == "button"}
    wanted: set[object] = {*FormOp, *MenuOp, *ReviewOp}
    wanted |= {(InvitePress, Role.STAFF, False), (InvitePress, Role.STAFF, True)}
    wanted |= {(InvitePress, Role.SUPERVISOR, False), (InvitePress, Role.SUPERVISOR, True)}
    wanted |= {(InvitePress, Role.DISTRICT_SUPERVISOR, True)}
    wanted |= {(ExportPress, False), (ExportPress, True)}
    grouped = (FormPress, MenuPress, InvitePress, ExportPress, ReviewPress)
    wanted |= {kind for kind in typing.get_args(Callback) if kind not in grouped}
    assert wanted <= covered, f"kinds of buttons without a row: {wanted - covered}"


async def test_every_command_is_in_the_matrix(template: tuple[Path, World], tmp_path: Path) -> None:
    """A command added without a row here fails this test."""
    _, world = template
    async with BotEnv.running(tmp_path) as env:
        registered = {
            command
            for group in env.app.handlers.values()
            for handler in group
            if isinstance(handler, CommandHandler)
            for command in handler.commands
        }
    sent = [case.send(world) for case in CASES if case.kind == "text"]
    covered = {line.split()[0].removeprefix("/") for line in sent if line.startswith("/")}
    assert registered <= covered, f"commands without a row: {sorted(registered - covered)}"


# --- invite codes --------------------------------------------------------------------------------


async def test_replayed_forged_and_expired_invite_codes_are_refused(tmp_path: Path) -> None:
    async with BotEnv.running(tmp_path) as env:
        admin = env.admin
        await admin.say(f"/newdept {X}")
        await admin.say("/invite")
        await admin.tap("邀请填报人员", exact=True)
        await admin.tap(X, exact=True)
        code = invite_code(admin.last_text)
        first = env.person("甲")
        assert "已加入" in "\n".join(m.visible_text or "" for m in await first.say(f"/join {code}"))
        before = await asyncio.to_thread(snapshot, env.database)
        used = said(Notice.INVITE_ALREADY_USED)
        for who, attempt in (
            (env.person("乙"), f"/join {code}"),  # someone else replays the code
            (env.person("丙"), f"/start {code}"),  # … through the invite link
            (first, f"/join {code}"),  # the same person again
        ):
            replies = await who.say(attempt)
            assert [m.visible_text for m in replies] == [used], attempt
        for forged in (code[:-1], code + "x", code.upper() if code.upper() != code else "X" + code):
            replies = await env.person("丁").say(f"/join {forged}")
            assert [m.visible_text for m in replies] == [said(Notice.INVITE_NOT_FOUND)]
        assert await asyncio.to_thread(snapshot, env.database) == before

        def expired_invite() -> str:
            with env.database.transaction() as session:
                department = DepartmentRepository(session).by_name(X)
                admin_user = UserRepository(session).by_telegram_id(env.admin_user.id)
                assert department is not None and admin_user is not None
                past = datetime.now(UTC) - timedelta(days=1)
                invite = InviteRepository(session).create(
                    Role.STAFF, department.id, admin_user.id, past
                )
                return invite.code

        stale = await asyncio.to_thread(expired_invite)
        replies = await env.person("戊").say(f"/join {stale}")
        assert [m.visible_text for m in replies] == [said(Notice.INVITE_EXPIRED)]
        strangers = [d for d in env.drivers if d.user.first_name in ("乙", "丙", "丁", "戊")]
        for stranger in strangers:  # still strangers: nothing behind the gate
            replies = await stranger.say("/fill")
            assert [m.visible_text for m in replies] == [messages.JOIN_EXPLANATION]


# --- formulas in exported cells ------------------------------------------------------------------


def cells_with(book_bytes: bytes, needles: tuple[str, ...]) -> dict[str, list[tuple[str, str]]]:
    """For each needle, the (data type, value) of every cell whose value contains it."""
    book = load_workbook(io.BytesIO(book_bytes))
    found: dict[str, list[tuple[str, str]]] = {needle: [] for needle in needles}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                for needle in needles:
                    if isinstance(cell.value, str) and needle in cell.value:
                        found[needle].append((cell.data_type, cell.value))
    return found


def formula_elements(book_bytes: bytes) -> list[str]:
    """The <f> (formula) elements of every sheet, straight from the file's XML."""
    with zipfile.ZipFile(io.BytesIO(book_bytes)) as archive:
        return [
            chunk
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
            for chunk in archive.read(name).decode("utf-8").split("<f")[1:]
        ]


async def test_formula_looking_text_reaches_a_workbook_only_as_text(
    template: tuple[Path, World], tmp_path: Path
) -> None:
    """Typed answers, a person's Telegram name and a department's name that look like formulas
    (DDE and HYPERLINK payloads, leading = + - @): the engine refuses a leading "=" in an
    answer outright; everything that is stored reaches the workbooks as text cells, never as a
    formula."""
    path, _ = template
    async with running_world(path, tmp_path) as cast:
        env = cast.env
        # 甲 renames themselves in Telegram: the bot takes the new name at their next message.
        renamed = TgUser(TELEGRAM_IDS["staff_x"], first_name=FORMULAS[0])
        staff = ChatDriver(env.fake, renamed, app=env.app, timeout=10.0)
        await env.admin.say(f"/newdept {FORMULAS[1][:50]}")
        # Through the budget (the amounts must add up), then text wherever text is allowed.
        for answer in (X_TOTAL, None, None, "100", "35.791"):
            if answer is None:
                await staff.tap("跳过", exact=True)
            else:
                await staff.say(answer)
        typed = [*FORMULAS, "（一）说明=cmd|' /C calc'!A0"]
        accepted = []
        for answer in typed:  # 部门职责概述, then the cells of key-task rows
            reply = "\n".join(m.visible_text or "" for m in await staff.say(answer))
            if "✓" in reply:
                accepted.append(answer)
            else:  # refused, saying why, and nothing stored
                assert "公式" in reply, reply
            if staff.buttons() and any("再加一条" in b for b in staff.buttons()):
                await staff.tap("再加一条")
        assert accepted, "every formula-looking answer was refused: nothing reached a workbook"
        await staff.say("/export")
        own = staff.last_document
        admin = env.admin
        await admin.press("e:0", message=admin.last_message, check=False)
        everything = admin.last_document
        assert own is not None and own.document is not None
        assert everything is not None and everything.document is not None
        markers = ("cmd|", "HYPERLINK", "SUM(")
        for book in (own.document.data, everything.document.data):
            found = cells_with(book, markers)
            assert any(found.values()), "no formula-looking text in the workbook"
            for needle, cells in found.items():
                for data_type, value in cells:
                    assert data_type == "s", (needle, data_type, value)
            leaked = [f for f in formula_elements(book) if any(m in f for m in markers)]
            assert not leaked, leaked
        # The name and the department reached the consolidated workbook as text starting "=".
        starting = [
            value
            for cells in cells_with(everything.document.data, markers).values()
            for _, value in cells
            if value.startswith("=")
        ]
        assert starting, "the formula-looking name and department are not in the workbook"
