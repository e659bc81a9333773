"""Fixed Chinese texts of the bot's channels (plain text: render.py escapes them), and the bot's
catalogue of notices: the codes of what the bot says outside the engine (refusals, import and
admin problems) with their Chinese messages, the bot's counterpart of dialogs/catalogue.py.

Services return a `Refused(Notice…)`, handlers send `refusal.message`; tests assert the code.
Texts that depend on data (a department, a form) are built in the handlers from these pieces.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from enum import StrEnum

from storage.records import RedeemFailure, Role

ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: "管理员",
    Role.DISTRICT_SUPERVISOR: "区级审核人",
    Role.SUPERVISOR: "审核人",
    Role.STAFF: "填报人员",
}

JOIN_EXPLANATION = (
    "你好！这是预算绩效目标表填报助手，仅供受邀的单位人员使用。\n"
    "如需使用，请向本单位的审核人或管理员索取邀请码，然后点击邀请链接，"
    "或在这里发送：/join 邀请码"
)

HELP_STAFF = (
    "📖 使用说明\n"
    "/fill 选择要填写的表格：部门整体支出绩效目标表，或某个专项资金支出方向（可新增）\n"
    "每一步直接输入答案，或点下方按钮；答案确认后立即保存。\n"
    "/review 预览当前表格（含错误和提示）\n"
    "/submit 提交当前表格\n"
    "/cancel 暂停，之后发送 /fill 从原处继续\n"
    "/status 查看本部门各表的填报进度\n"
    "/export 导出本部门的绩效目标表（Excel 工作簿和 PDF）\n"
    "/preview 以图片查看表A、表B、各表C打印出来的样子\n"
    "/tableb 查看表B 专项资金预算绩效目标汇总表（由各支出方向自动汇总）"
)
HELP_SUPERVISOR = (
    "📖 使用说明（审核人）\n"
    "/status 查看所管部门的填报进度\n"
    "/export 导出某个部门的绩效目标表（Excel 和 PDF）\n"
    "/preview 以图片查看某个部门各表的打印效果\n"
    "/tableb 部门名称 查看该部门的表B（由各支出方向自动汇总）\n"
    "/invite 为所管部门生成填报人员邀请码"
)
HELP_ADMIN = (
    "📖 使用说明（管理员）\n"
    "/newdept 部门名称 — 新建部门\n"
    "/newround 年度 截止日期 — 新建填报轮次，例：/newround 2021 2021-03-31\n"
    "/invite — 为审核人、区级审核人或填报人员生成邀请码\n"
    "/admin — 查看部门和填报轮次\n"
    "/status、/export — 查看进度、导出表格"
)

GROUP_REDIRECT = "为保护填报信息，请在与我的私聊中使用：{link}"
ERROR_TEXT = "出错了，你的已保存答案不受影响，请重试或发送 /fill 继续。"
PAUSED = "⏸ 已暂停。所有已确认的答案都已保存，发送 /fill 即可从原处继续。"

# --- printed tables: PDF and pictures (LibreOffice) ---
PREVIEW_CHOOSE_DEPARTMENT = "请选择要预览的部门："
PREVIEW_CHOOSE_TABLE = "{department} · 请选择要预览的表格（按打印效果显示为图片）："
PRINT_UNAVAILABLE = (
    "暂时无法生成 PDF 和图片预览：服务器{reason}。"
    "Excel 工作簿不受影响，可用 /export 获取。"
)
PRINT_FAILED = "生成 PDF 或图片预览失败（{reason}），请稍后重试。Excel 工作簿可用 /export 获取。"
NO_PDF_NOTE = "\n（服务器未安装 LibreOffice，暂不提供 PDF 版）"
PDF_CAPTION = "{year}年绩效目标表（PDF，按打印版式）"
ROUND_PDF_CAPTION = "{year}年全部部门绩效目标表（PDF）"
ROUND_PDF_PROGRESS = "正在生成 PDF（{count} 个部门，可能需要一两分钟）…"

# --- starting from last year's filing ---
CARRY_OVER_BUTTON = "📋 从{year}年的填报开始（复制后修改）"
CARRY_OVER_HINT = (
    "你部门在{year}年填报过。可以从{year}年的填报开始：职责、工作计划、支出方向和绩效指标"
    "复制为草稿，金额重新填写。"
)
CARRY_OVER_DONE = "✓ 已从{year}年的填报复制 {count} 张表（均为草稿，可逐项修改）。"
CARRY_OVER_ASKED = "需要重新填写或补充：{labels}。"
CARRY_OVER_YEAR_NOTE = "复制的文字里仍写着{year}年的地方，预览（/review）时会列出，可一键更新。"
OLD_YEAR_TITLE = "⚠ 以下内容仍写着{from_year}年（复制自上年）："
OLD_YEAR_BUTTON = "🔄 全部更新为{to_year}年"
OLD_YEAR_UPDATED = "✓ 已把{from_year}年更新为{to_year}年。"
CHANGES_TITLE = "与{from_year}年相比的变化："
NO_CHANGES = "与{from_year}年相比：尚未修改。"
# --- safety branch: one message per failed update, and floods ---
DATABASE_DOWN = (
    "⚠️ 数据库暂时无法访问，这条消息没有处理。"
    "已确认（✓）的答案都已保存，不会丢失。请稍后重发，或发送 /fill 从原处继续。"
)
DATABASE_DOWN_QUEUED = (
    "⚠️ 数据库暂时无法访问。你的消息已收到，恢复后会按顺序自动处理，无需重发；"
    "已确认（✓）的答案都已保存，不会丢失。"
)
FLOOD_NOTICE = (
    "⏳ 你发送得太快了，正在按顺序处理前面的消息，之后发来的消息已忽略。"
    "请等收到回复后再继续；已确认的答案都已保存。"
)


# --- the catalogue of notices -------------------------------------------------------------------


class Notice(StrEnum):
    # --- who may do what -------------------------------------------------------------------
    NOT_ALLOWED = "not_allowed"
    NOT_STAFF = "not_staff"
    NO_DEPARTMENT = "no_department"
    NO_DEPARTMENTS_IN_SCOPE = "no_departments_in_scope"
    ADMIN_CANNOT_JOIN = "admin_cannot_join"
    INVITE_NOT_FOUND = "invite_not_found"
    INVITE_ALREADY_USED = "invite_already_used"
    INVITE_EXPIRED = "invite_expired"
    # --- filing ----------------------------------------------------------------------------
    NO_ROUND = "no_round"
    NO_CURRENT_FORM = "no_current_form"
    STALE_BUTTON = "stale_button"
    MENU_CHANGED = "menu_changed"
    CARRY_OVER_REFUSED = "carry_over_refused"
    OLD_YEAR_STALE = "old_year_stale"
    PREVIEW_GONE = "preview_gone"
    TEXT_NOT_EXPECTED = "text_not_expected"
    SEND_TEXT_ONLY = "send_text_only"
    UNKNOWN_BUTTON = "unknown_button"
    # --- importing a workbook ----------------------------------------------------------------
    IMPORT_NOT_XLSX = "import_not_xlsx"
    IMPORT_NOTHING_PENDING = "import_nothing_pending"
    IMPORT_CANCELLED = "import_cancelled"
    IMPORT_NO_CHANGES = "import_no_changes"
    # --- admin -------------------------------------------------------------------------------
    DEPARTMENT_EXISTS = "department_exists"
    DEPARTMENT_NAME_LENGTH = "department_name_length"
    NO_DEPARTMENTS_YET = "no_departments_yet"
    REVIEWERS_ONLY = "reviewers_only"
    ROUND_WIDE_ONLY = "round_wide_only"
    # --- /policy settings ----------------------------------------------------------------------
    POLICY_UNREADABLE = "policy_unreadable"
    POLICY_NOTHING_TO_CHANGE = "policy_nothing_to_change"
    POLICY_INVALID = "policy_invalid"
    POLICY_DAYS_BEFORE = "policy_days_before"
    POLICY_ON_DAY = "policy_on_day"
    POLICY_OVERDUE = "policy_overdue"
    POLICY_QUIET = "policy_quiet"
    POLICY_QUIET_CLOCK = "policy_quiet_clock"
    POLICY_DIGEST = "policy_digest"
    POLICY_DEADLINE_FORMAT = "policy_deadline_format"
    POLICY_DEADLINE_INVALID = "policy_deadline_invalid"
    # --- review (bot/review) -------------------------------------------------------------------
    REVIEW_NOT_FOUND = "review_not_found"
    REVIEW_NOT_ALLOWED = "review_not_allowed"
    REVIEW_NOT_SUBMITTED = "review_not_submitted"
    REVIEW_CHANGED = "review_changed"
    REVIEW_EMPTY_COMMENT = "review_empty_comment"
    REVIEW_COMMENT_REFUSED = "review_comment_refused"  # a character a workbook cannot hold
    REVIEW_COMMENT_EXPIRED = "review_comment_expired"


NOTICES: Mapping[Notice, str] = {
    Notice.NOT_ALLOWED: "你没有权限进行这个操作。",
    Notice.NOT_STAFF: "填报由各部门的填报人员完成。你可以用 /status 查看进度、/export 导出表格。",
    Notice.NO_DEPARTMENT: "你的账号还没有绑定部门，请联系管理员。",
    Notice.NO_DEPARTMENTS_IN_SCOPE: "你的范围内还没有部门。",
    Notice.ADMIN_CANNOT_JOIN: "你是管理员，无需使用邀请码。",
    Notice.INVITE_NOT_FOUND: "邀请码无效，请核对后重试，或向审核人索取新的邀请码。",
    Notice.INVITE_ALREADY_USED: (
        "这个邀请码已经被使用过了，每个邀请码只能使用一次。请索取新的邀请码。"
    ),
    Notice.INVITE_EXPIRED: "这个邀请码已过期，请向审核人或管理员索取新的邀请码。",
    Notice.NO_ROUND: "目前没有开放的填报轮次，请联系管理员。",
    Notice.NO_CURRENT_FORM: "还没有正在填写的表格。发送 /fill 选择要填写的表格。",
    Notice.STALE_BUTTON: "这个按钮已过期（表格已有新的变化），以下是当前步骤：",
    Notice.MENU_CHANGED: "表格列表已更新，请重新选择。",
    Notice.CARRY_OVER_REFUSED: "本轮已经开始填写，不能再从上年的填报复制。",
    Notice.OLD_YEAR_STALE: "表格已有新的变化，未做修改。请重新预览后再试。",
    Notice.PREVIEW_GONE: "这张表已不存在（支出方向可能已被删除），请重新发送 /preview。",
    Notice.TEXT_NOT_EXPECTED: "这一步请点按钮选择。",
    Notice.SEND_TEXT_ONLY: "请发送文字答案，或点按钮。",
    Notice.UNKNOWN_BUTTON: "这个按钮已失效。发送 /fill 继续填报，或 /help 查看说明。",
    Notice.IMPORT_NOT_XLSX: "请发送 .xlsx 格式的绩效目标表（可先用 /export 导出模板）。",
    Notice.IMPORT_NOTHING_PENDING: "没有待确认的导入（可能已处理或已过期），请重新发送文件。",
    Notice.IMPORT_CANCELLED: "已取消导入，未做任何修改。",
    Notice.IMPORT_NO_CHANGES: "没有需要导入的变化。",
    Notice.DEPARTMENT_EXISTS: "部门“{name}”已存在。",
    Notice.DEPARTMENT_NAME_LENGTH: "部门名称应为 1 到 50 个字。",
    Notice.NO_DEPARTMENTS_YET: "还没有部门。管理员可用 /newdept 新建。",
    Notice.REVIEWERS_ONLY: "这个命令供审核人和管理员使用。",
    Notice.ROUND_WIDE_ONLY: (
        "截止时间和提醒设置对本轮所有部门生效，只有管理员和区级审核人可以修改。"
        "你可以发送 /policy 查看当前设置。"
    ),
    Notice.POLICY_UNREADABLE: "看不懂「{text}」。格式示例：{example}",
    Notice.POLICY_NOTHING_TO_CHANGE: "没有要修改的设置。格式示例：{example}",
    Notice.POLICY_INVALID: "设置无效：{detail}",
    Notice.POLICY_DAYS_BEFORE: "提前天数应为 1–{max_days} 的整数，用逗号分开，例：提前=7,3,1",
    Notice.POLICY_ON_DAY: "当天提醒请填 开 或 关，例：当天=开",
    Notice.POLICY_OVERDUE: "逾期提醒请写间隔天数和次数，例：逾期=每3天,3次（或 逾期=关）",
    Notice.POLICY_QUIET: "免打扰时段请写开始和结束时间，例：免打扰=21:00-08:00（或 免打扰=无）",
    Notice.POLICY_QUIET_CLOCK: "免打扰时间应在 00:00–23:59 之间",
    Notice.POLICY_DIGEST: "每日简报请写整点（0–23），例：日报=9（或 日报=关）",
    Notice.POLICY_DEADLINE_FORMAT: "截止时间格式：截止=2021-03-31 17:00",
    Notice.POLICY_DEADLINE_INVALID: "截止时间不是有效的日期或时间",
    Notice.REVIEW_NOT_FOUND: "找不到这张表格。",
    Notice.REVIEW_NOT_ALLOWED: "你没有审核这张表格的权限。",
    Notice.REVIEW_NOT_SUBMITTED: "这张表格当前为「{status}」，只有已提交的表格可以审核。",
    Notice.REVIEW_CHANGED: (
        "这张表格在你查看之后有了变化（当前为「{status}」），请重新查看后再审核。"
    ),
    Notice.REVIEW_EMPTY_COMMENT: "退回时请写明修改意见。",
    # The engine's message for the characters (dialogs Code.CONTROL_CHARACTERS), as the filing
    # steps say it.
    Notice.REVIEW_COMMENT_REFUSED: "{problem}",
    Notice.REVIEW_COMMENT_EXPIRED: (
        "等待退回意见已超时（超过 {minutes} 分钟），未退回。请重新点击「退回修改」后再发送意见。"
    ),
}


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Refused(Exception):
    """What a service will not do for an actor, or cannot do now: `code` names it (tests assert
    it), `message` says it. Services return it as a typed result, or raise it where returning
    is awkward (deep in a parser, or a service whose result has no room for it)."""

    def __init__(self, code: Notice, params: Mapping[str, str] | None = None) -> None:
        self.code = code
        self.params: Mapping[str, str] = dict(params or {})
        missing = _placeholders(NOTICES[code]) - set(self.params)
        if missing:
            raise ValueError(f"notice {code} lacks parameters {sorted(missing)}")
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return NOTICES[self.code].format(**self.params)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Refused) and (self.code, self.params) == (other.code, other.params)

    def __hash__(self) -> int:
        return hash(self.code)


def text(code: Notice, **params: str) -> str:
    """The Chinese message of a notice (what a handler sends when it refuses on its own)."""
    return Refused(code, params).message


def _check_notices() -> None:
    missing = set(Notice) - set(NOTICES)
    if missing:
        raise RuntimeError(f"the notices lack messages for {sorted(missing)}")


_check_notices()

REDEEM_REFUSALS: Mapping[RedeemFailure, Notice] = {
    RedeemFailure.NOT_FOUND: Notice.INVITE_NOT_FOUND,
    RedeemFailure.ALREADY_USED: Notice.INVITE_ALREADY_USED,
    RedeemFailure.EXPIRED: Notice.INVITE_EXPIRED,
}
