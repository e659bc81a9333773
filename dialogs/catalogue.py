"""The one catalogue of problem codes, their severity and their Chinese messages.

Code everywhere raises or returns a `Problem(code, params)`; only `Problem.message` turns it into
words. Tests assert codes, never strings. A template's placeholders are checked at import time
(see `_check_catalogue`) so a missing parameter is a start-up error, not a user-visible KeyError.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"  # refused, nothing stored
    WARNING = "warning"  # stored, shown now and again at review


class Code(StrEnum):
    # --- any field -------------------------------------------------------------------------
    REQUIRED = "required"
    TOO_LONG = "too_long"
    CONTROL_CHARACTERS = "control_characters"
    EMOJI = "emoji"
    FORMULA_LIKE = "formula_like"
    CHOICE_INVALID = "choice_invalid"
    NOT_SKIPPABLE = "not_skippable"
    # --- amounts (万元) -----------------------------------------------------------------------
    AMOUNT_FORMAT = "amount_format"
    AMOUNT_NEGATIVE = "amount_negative"
    AMOUNT_TOO_PRECISE = "amount_too_precise"
    AMOUNT_NOT_POSITIVE = "amount_not_positive"
    AMOUNT_TOO_LARGE = "amount_too_large"
    # --- periods ------------------------------------------------------------------------------
    PERIOD_FORMAT = "period_format"
    PERIOD_MONTH = "period_month"
    PERIOD_REVERSED = "period_reversed"
    # --- repeating groups -----------------------------------------------------------------------
    GROUP_TOO_FEW = "group_too_few"
    GROUP_TOO_MANY = "group_too_many"
    # --- arithmetic and cross-table -------------------------------------------------------------
    SUM_MISMATCH = "sum_mismatch"
    PROJECT_EXPENSE_MISMATCH = "project_expense_mismatch"
    DIRECTION_DUPLICATE = "direction_duplicate"
    # --- indicators ----------------------------------------------------------------------------
    INDICATOR_EMPTY = "indicator_empty"
    INDICATOR_UNIT_MISSING = "indicator_unit_missing"
    INDICATOR_COST_ABOVE_AMOUNT = "indicator_cost_above_amount"
    INDICATOR_NO_OUTPUT = "indicator_no_output"
    INDICATOR_NO_BENEFIT = "indicator_no_benefit"
    INDICATOR_VAGUE = "indicator_vague"
    INDICATOR_NOT_MEASURABLE = "indicator_not_measurable"
    INDICATOR_TIMELINESS_NO_DATE = "indicator_timeliness_no_date"
    INDICATOR_SATISFACTION_NO_PERCENT = "indicator_satisfaction_no_percent"
    INDICATOR_DIRECTIONS_IDENTICAL = "indicator_directions_identical"
    INDICATOR_REPEATED = "indicator_repeated"
    INDICATOR_LEVEL2_EMPTY = "indicator_level2_empty"
    INDICATOR_UNCONFIRMED = "indicator_unconfirmed"
    WEIGHT_FORMAT = "weight_format"
    WEIGHT_SUM = "weight_sum"
    # --- form life cycle -------------------------------------------------------------------------
    FORM_LOCKED = "form_locked"
    SUBMIT_BLOCKED = "submit_blocked"
    STALE_VERSION = "stale_version"
    ACTION_NOT_ALLOWED = "action_not_allowed"
    ROW_NOT_FOUND = "row_not_found"
    # --- fidelity (issue 11) ---------------------------------------------------------------
    INDICATOR_VALUE_NOT_APPLICABLE = "indicator_value_not_applicable"
    INDICATOR_ROW_NOT_APPLICABLE = "indicator_row_not_applicable"
    # --- a round's layout (branch terminal) -------------------------------------------------------
    LAYOUT_UNKNOWN = "layout_unknown"
    LAYOUT_CONFLICT = "layout_conflict"
    # --- workbook import and pending inputs (branch imports) -----------------------------------
    IMPORT_NOT_WORKBOOK = "import_not_workbook"
    IMPORT_ENCRYPTED = "import_encrypted"
    IMPORT_OLD_FORMAT = "import_old_format"
    IMPORT_FILE_TOO_LARGE = "import_file_too_large"
    IMPORT_ARCHIVE_TOO_LARGE = "import_archive_too_large"
    IMPORT_TOO_MANY_SHEETS = "import_too_many_sheets"
    IMPORT_SHEET_TOO_LARGE = "import_sheet_too_large"
    IMPORT_TOO_COSTLY = "import_too_costly"
    IMPORT_FORM_LOCKED = "import_form_locked"
    IMPORT_PLAN_CHANGED = "import_plan_changed"
    IMPORT_EXPIRED = "import_expired"


@dataclass(frozen=True)
class Entry:
    severity: Severity
    template: str


E = Severity.ERROR
W = Severity.WARNING

CATALOGUE: Mapping[Code, Entry] = {
    Code.REQUIRED: Entry(E, "「{field}」不能为空。例：{example}"),
    Code.TOO_LONG: Entry(
        E, "「{field}」最多 {limit} 个字，现在有 {length} 个字，请精简后重新输入。"
    ),
    Code.CONTROL_CHARACTERS: Entry(
        E, "「{field}」含有不可见的控制字符，正式表格无法打印，请删去后重新输入。例：{example}"
    ),
    Code.EMOJI: Entry(E, "「{field}」含有表情符号，正式表格无法打印，请只用文字。例：{example}"),
    Code.FORMULA_LIKE: Entry(
        E, "「{field}」不能以“=”开头（会被表格软件当作公式），请改写。例：{example}"
    ),
    Code.CHOICE_INVALID: Entry(E, "「{field}」请从按钮中选择：{choices}"),
    Code.NOT_SKIPPABLE: Entry(E, "「{field}」是必填项，不能跳过。例：{example}"),
    Code.AMOUNT_FORMAT: Entry(
        E, "「{field}」不是有效的金额：“{text}”。请只输入数字，单位万元，可带“万元”。例：{example}"
    ),
    Code.AMOUNT_NEGATIVE: Entry(E, "「{field}」不能为负数。例：{example}"),
    Code.AMOUNT_TOO_PRECISE: Entry(
        E, "「{field}」最多 6 位小数（万元），“{text}”有 {decimals} 位。例：{example}"
    ),
    Code.AMOUNT_NOT_POSITIVE: Entry(E, "「{field}」必须大于 0。例：{example}"),
    Code.AMOUNT_TOO_LARGE: Entry(
        E, "「{field}」{text} 万元超出合理范围，请检查单位是否为万元。例：{example}"
    ),
    Code.PERIOD_FORMAT: Entry(
        E, "「{field}」无法识别“{text}”，请写成 起始年.月-结束年.月。例：{example}"
    ),
    Code.PERIOD_MONTH: Entry(
        E, "「{field}」中的月份“{month}”无效，月份应为 1 到 12。例：{example}"
    ),
    Code.PERIOD_REVERSED: Entry(E, "「{field}」起始 {start} 晚于结束 {end}。例：{example}"),
    Code.GROUP_TOO_FEW: Entry(E, "「{field}」至少需要 {limit} 条，现在有 {count} 条。"),
    Code.GROUP_TOO_MANY: Entry(E, "「{field}」最多 {limit} 条，已经有 {count} 条。"),
    Code.SUM_MISMATCH: Entry(
        E,
        "{total_label}与{group_label}合计不一致：\n"
        "   {expression} = {sum}\n"
        "   {total_label} {total}\n"
        "   相差 {difference} 万元\n"
        "请重新输入「{field}」，或返回修改{total_label}。",
    ),
    Code.PROJECT_EXPENSE_MISMATCH: Entry(
        E,
        "项目支出与专项资金支出方向合计不一致：\n"
        "   部门整体表 项目支出 {project_expense}\n"
        "   各支出方向项目金额合计 {directions_sum}（{count} 个方向）\n"
        "   相差 {difference} 万元",
    ),
    Code.DIRECTION_DUPLICATE: Entry(
        E, "本部门本年度已有支出方向“{text}”，同一年度的支出方向（子项）不能重名。例：{example}"
    ),
    Code.INDICATOR_EMPTY: Entry(
        E,
        "{level2}的「{field}」不能为空，也不能只写“{text}”这样的占位符；"
        "如本项不适用，请点“本项不适用”。例：{example}",
    ),
    Code.INDICATOR_UNIT_MISSING: Entry(
        E, "{level2}的指标值“{text}”有数字但没有计量单位，评审无法核对。例：{example}"
    ),
    Code.INDICATOR_COST_ABOVE_AMOUNT: Entry(
        E, "{level2}上限 {bound} 万元超过了{scope}的金额 {amount} 万元，请核对。例：{example}"
    ),
    Code.INDICATOR_NO_OUTPUT: Entry(E, "至少需要一条适用的「{level1}」，现在没有。例：{example}"),
    Code.INDICATOR_NO_BENEFIT: Entry(E, "至少需要一条适用的「{level1}」，现在没有。例：{example}"),
    Code.INDICATOR_VAGUE: Entry(
        W, "{level2}的指标值“{text}”无法在年底核对，只能按定性指标记录；写成数字更好。例：{example}"
    ),
    Code.INDICATOR_NOT_MEASURABLE: Entry(
        W, "{level2}的指标值“{text}”不是可量化的目标，评审时较弱；建议写成数字加单位。例：{example}"
    ),
    Code.INDICATOR_TIMELINESS_NO_DATE: Entry(
        W, "{level2}“{text}”没有具体日期、月份或期限，评审无法核对完成时间。例：{example}"
    ),
    Code.INDICATOR_SATISFACTION_NO_PERCENT: Entry(
        W, "{level2}“{text}”没有百分比目标。例：{example}"
    ),
    Code.INDICATOR_DIRECTIONS_IDENTICAL: Entry(
        W, "支出方向“{text}”与“{other}”的绩效指标完全相同，评审会退回，请按各自用途分别设置。"
    ),
    Code.INDICATOR_REPEATED: Entry(W, "三级指标“{text}”在本表中重复出现（{level2}）。"),
    # fidelity (issue 11): a form is complete before it is submitted, so this is an error.
    Code.INDICATOR_LEVEL2_EMPTY: Entry(
        E,
        "以下二级指标既没有三级指标，也没有选择“本项不适用”：{level2}。"
        "请逐项填写，或在该项选择“本项不适用”。",
    ),
    Code.INDICATOR_UNCONFIRMED: Entry(W, "{level2}的指标值“{text}”理解为“{reading}”，尚未确认。"),
    Code.WEIGHT_FORMAT: Entry(E, "「权重」应为 0 到 100 的数字，“{text}”无效。例：{example}"),
    Code.WEIGHT_SUM: Entry(E, "本表各指标权重合计为 {sum}，应为 100。"),
    Code.FORM_LOCKED: Entry(E, "本表已{status}，不能再修改。如需修改，请联系审核人退回。"),
    Code.SUBMIT_BLOCKED: Entry(E, "还有 {count} 个问题需要修改，暂不能提交。"),
    Code.STALE_VERSION: Entry(
        E, "「{field}」刚刚被{who}修改为“{text}”，你的修改未保存。请确认后重新输入。"
    ),
    Code.ACTION_NOT_ALLOWED: Entry(E, "当前步骤不能这样操作，请按提示继续。"),
    Code.ROW_NOT_FOUND: Entry(E, "找不到第 {row} 条，请重新选择。"),
    # fidelity (issue 11): 不适用 typed at a 指标值 step.
    Code.INDICATOR_VALUE_NOT_APPLICABLE: Entry(
        E,
        "指标值不能写“{text}”。如「{level2}」整项不适用，请点下方“本项不适用”"
        "（已填的三级指标会改为 /）；否则请输入目标值。例：{example}",
    ),
    Code.INDICATOR_ROW_NOT_APPLICABLE: Entry(
        E,
        "指标值不能写“{text}”。「{level2}」已有其他三级指标：如本条不需要，请回到本项列表删除本条；"
        "否则请输入目标值。例：{example}",
    ),
    # --- a round's layout (branch terminal) -------------------------------------------------------
    Code.LAYOUT_UNKNOWN: Entry(
        E, "没有“{text}”版表样，可选表样：{known}；{year}年填报轮次{round_layout}。例：{example}"
    ),
    Code.LAYOUT_CONFLICT: Entry(
        E,
        "{year}年填报轮次已是 {round_layout} 版表样，不能改用 {text} 版（可选表样：{known}）。"
        "例：{example}",
    ),
    # --- workbook import and pending inputs (branch imports) -----------------------------------
    Code.IMPORT_NOT_WORKBOOK: Entry(
        E,
        "这不是可读取的 Excel 工作簿（.xlsx）：{detail}。"
        "请在 Excel 或 WPS 中打开后“另存为 .xlsx”再发送，例：2021_绩效目标表.xlsx",
    ),
    Code.IMPORT_ENCRYPTED: Entry(
        E,
        "文件设有打开密码（已加密），无法读取。请在 Excel 或 WPS 中取消密码"
        "（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码）后另存为 .xlsx 再发送。",
    ),
    Code.IMPORT_OLD_FORMAT: Entry(
        E, "这是旧版 Excel 文件（.xls），无法读取。请另存为 .xlsx 再发送，例：2021_绩效目标表.xlsx"
    ),
    Code.IMPORT_FILE_TOO_LARGE: Entry(
        E, "文件有 {size}，超过 {limit} 的上限；绩效目标表通常只有几十 KB，请检查是否发错了文件。"
    ),
    Code.IMPORT_ARCHIVE_TOO_LARGE: Entry(
        E,
        "工作簿解压后的内容过大（{part}：{size}，上限 {limit}），不像绩效目标表，未读取。"
        "请删去图片和多余的工作表后再发送。",
    ),
    Code.IMPORT_TOO_MANY_SHEETS: Entry(
        E, "工作簿有 {count} 张工作表，最多读取 {limit} 张。请只保留绩效目标表所在的工作表。"
    ),
    Code.IMPORT_SHEET_TOO_LARGE: Entry(
        E,
        "工作表“{sheet}”的范围为 {extent}，超出绩效目标表的大小（最多 {rows} 行、{columns} 列，"
        "即 A1:{corner}）。请删除表格下方和右侧多余的行列（含空白但有格式的单元格）后另存再发送。",
    ),
    Code.IMPORT_TOO_COSTLY: Entry(
        E,
        "读取这个工作簿超出了时间或内存限额（{limit}），已停止，未做任何修改。"
        "请检查文件是否为绩效目标表，可先用 /export 导出模板后填写。",
    ),
    Code.IMPORT_FORM_LOCKED: Entry(
        E,
        "「{form}」当前为「{status}」，不能导入。如需修改，请联系{reviewers}退回后再导入；"
        "或从工作簿中删去这张工作表后重新发送。",
    ),
    Code.IMPORT_PLAN_CHANGED: Entry(
        E,
        "你查看导入内容之后，{forms}又有了变化，原来的导入计划未执行（未做任何修改）。"
        "以下是按当前内容重新核对的变化：",
    ),
    Code.IMPORT_EXPIRED: Entry(
        E, "这次导入的确认已过期（超过 {minutes} 分钟），未做任何修改。请重新发送工作簿。"
    ),
}


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class Problem:
    """One finding: an error refuses an answer, a warning is advice kept until review."""

    code: Code
    params: Mapping[str, str] = field(default_factory=dict)
    # The step key the user can jump to in order to fix it (a "修改…" button), if any.
    fix_step: str | None = None

    def __post_init__(self) -> None:
        missing = _placeholders(CATALOGUE[self.code].template) - set(self.params)
        if missing:
            raise ValueError(f"problem {self.code} lacks parameters {sorted(missing)}")

    @property
    def severity(self) -> Severity:
        return CATALOGUE[self.code].severity

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def message(self) -> str:
        return CATALOGUE[self.code].template.format(**self.params)


def _check_catalogue() -> None:
    missing = set(Code) - set(CATALOGUE)
    if missing:
        raise RuntimeError(f"catalogue lacks messages for {sorted(missing)}")


_check_catalogue()
