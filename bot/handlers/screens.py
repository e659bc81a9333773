"""How a form looks in chat: the current step, the result of an action, the review.

Shared by fill.py and review.py. Every screen is built from what is stored (a FormView read in
the same transaction that committed the answer), so what the user sees is what is saved.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, Update

from bot import messages
from bot.carryover import CarryOverService, LastYear, review_lines
from bot.handlers.common import BotContext, in_thread, say, send_html
from bot.handlers.returned import returned_lines
from bot.keyboards import (
    MENU_LABEL,
    FormOp,
    FormPress,
    JumpPress,
    MenuOp,
    MenuPress,
    button,
    markup,
    prompt_keyboard,
    rows_of,
)
from bot.messages import Notice, text
from bot.render import (
    Line,
    confirm_lines,
    html_messages,
    outcome_lines,
    prompt_lines,
    resume_line,
    review_messages,
)
from bot.service import ActResult, FormReview, FormView
from dialogs.actions import Button
from dialogs.catalogue import Problem
from dialogs.steps import asked_sections

MAX_FIX_BUTTONS = 4


async def show_step(
    update: Update,
    context: BotContext,
    view: FormView,
    lead: Sequence[Line | str] = (),
    fixes: Sequence[Button] = (),
) -> None:
    """The current step of a form (after `lead`: an echo, problems or a note)."""
    form = view.form
    if not form.status.editable:
        lines = [*lead, Line(f"本表{form.status.label}，不能再修改。如需修改，请联系审核人退回。")]
        keyboard = markup(
            [
                [
                    button("📋 预览", FormPress(FormOp.REVIEW, form.id, form.version)),
                    button(MENU_LABEL, MenuPress(MenuOp.MENU)),
                ]
            ]
        )
        await say(update, context, lines, keyboard)
        return
    keyboard = prompt_keyboard(form.id, form.version, view.prompt, fixes)
    await say(update, context, [*lead, *prompt_lines(view.prompt)], keyboard)


async def show_opened(update: Update, context: BotContext, view: FormView) -> None:
    """A form just opened or resumed: what is done, then the exact step to continue at."""
    done, total = view.sections_done
    lead = [resume_line(done, total, view.prompt)] if view.form.status.editable else []
    await show_step(update, context, view, [*returned_lines(view.form), *lead])


async def show_result(update: Update, context: BotContext, result: ActResult) -> None:
    """After an action: the echo, the problems (with their fix buttons), the next step."""
    outcome, view = result.outcome, result.view
    if result.stale:
        await show_step(update, context, view, [text(Notice.STALE_BUTTON)])
        return
    if outcome.needs_confirmation:
        await ask_to_confirm(update, context, view, outcome.problems)
        return
    await show_step(update, context, view, outcome_lines(outcome), outcome.fix_buttons)


async def ask_to_confirm(
    update: Update, context: BotContext, view: FormView, warnings: Sequence[Problem]
) -> None:
    form = view.form
    keyboard = markup(
        [
            [
                button("✅ 确认提交", FormPress(FormOp.CONFIRM, form.id, form.version)),
                button("✏ 返回修改", MenuPress(MenuOp.OPEN, form.id)),
            ]
        ]
    )
    await say(update, context, confirm_lines(warnings), keyboard)


def _short(label: str, limit: int = 24) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _fix_label(index: int, problem: Problem) -> str:
    field = problem.params.get("field") or problem.params.get("level2") or ""
    return _short(f"✏ 修改{field}" if field else f"✏ 修改第{index + 1}个问题")


async def send_review(update: Update, context: BotContext, shown: FormReview) -> None:
    """The review's parts as separate messages; under the last: submit (when no error stands),
    the fixes for the errors, and a way back to filling (for those who fill the form)."""
    review, view = shown.review, shown.view
    form = view.form
    last_year = await in_thread(CarryOverService(context.deps.service).last_year, form.id)
    rows: list[list[InlineKeyboardButton]] = []
    if shown.may_submit and form.status.editable:
        if last_year is not None and last_year.old_year_places:
            label = messages.OLD_YEAR_BUTTON.format(to_year=last_year.to_year)
            rows.append([button(label, FormPress(FormOp.UPDATE_YEAR, form.id, form.version))])
        if review.can_submit:
            rows.append([button("✅ 提交", FormPress(FormOp.SUBMIT, form.id, form.version))])
        fixes: list[InlineKeyboardButton] = []
        for index, problem in enumerate(review.errors):
            if problem.fix_step and len(fixes) < MAX_FIX_BUTTONS:
                try:
                    press = JumpPress(form.id, form.version, problem.fix_step)
                    fixes.append(button(_fix_label(index, problem), press))
                except ValueError:
                    continue
        rows += rows_of(fixes, 2)
        # 修改某一部分: jump to a section's first step; after it the engine returns to review.
        sections = [
            button(_short(f"✏ {section.label}"), JumpPress(form.id, form.version, section.key))
            for section in asked_sections(view.definition)
        ]
        rows += rows_of(sections, 2)
        rows.append(
            [
                button("▶ 继续填写", MenuPress(MenuOp.OPEN, form.id)),
                button(MENU_LABEL, MenuPress(MenuOp.MENU)),
            ]
        )
    comment = returned_lines(form)
    lead = html_messages(comment) if comment else []
    extra = html_messages(last_year_lines(last_year)) if last_year is not None else []
    await send_html(update, context, [*lead, *review_messages(review), *extra], markup(rows))


def last_year_lines(last_year: LastYear) -> list[Line | str]:
    """What review adds for a form copied from an earlier round."""
    return [Line(text, "b") if heading else text for text, heading in review_lines(last_year)]
