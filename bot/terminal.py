"""`jixiao chat`: the same engine and storage as the bot, in a terminal.

Everything that is not an answer starts with a colon, so typed text is always the answer: the
buttons of a screen are `:1`, `:2`… (the menu's too), `:b` goes back, `:s` skips, `:r` reviews,
`:t` shows table B, `:m` returns to the menu, `:q` (or Ctrl-C) pauses. At an amount or 权重 step
`1` is the number 1, never a button. Every accepted answer is committed before the next prompt,
so a later `jixiao chat` resumes at the same step.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TextIO

from bot import messages
from bot.carryover import CarryOverService, review_lines
from bot.messages import Notice, Refused
from bot.roles import Actor
from bot.service import AnswerRefused, FilingService, FormView
from bot.settings import Settings
from dialogs.actions import Action, ActionKind, Button, Prompt
from dialogs.layout_choice import LayoutChoiceError
from dialogs.loader import DefinitionError, get_layout, load_layouts
from exports.text import table_b_lines
from storage.db import Database, describe_location
from storage.records import Department, Role, Round, User
from storage.repos import DepartmentRepository, RoundRepository, UserRepository

TERMINAL_TELEGRAM_ID = 0  # the local terminal user; real Telegram ids are positive
COLON = ":"
SHORTCUTS = {
    ":b": Action(ActionKind.BACK),
    ":s": Action(ActionKind.SKIP),
    ":p": Action(ActionKind.SUBMIT),
}
HELP = (
    "直接输入答案后回车；选择按钮请输入冒号加编号（如 :1）；"
    ":b 上一步  :s 跳过  :r 预览  :t 表B  :p 提交  :m 菜单  :q 暂停退出"
)
LAYOUT_EXAMPLE = "jixiao chat --year {year} --layout {{layout}}"


def command_of(typed: str) -> str:
    """`typed` as a command key when it is one (`:1`, `:b`; a full-width colon counts too),
    else "" — then it is an answer, whatever it looks like."""
    text = typed.strip()
    if text.startswith("："):
        text = COLON + text[1:]
    return text.lower() if text.startswith(COLON) and len(text) > 1 else ""


def button_key(number: int) -> str:
    return f"{COLON}{number}"


def button_line(labels: list[str]) -> str:
    """How buttons look everywhere in the terminal: `[:1] 预览  [:2] 跳过`."""
    return "  ".join(f"[{button_key(n)}] {label}" for n, label in enumerate(labels, start=1))


def pressed(command: str, count: int) -> int | None:
    """The 0-based index of the button `command` (`:2` -> 1), if it names one of `count`."""
    digits = command[1:]
    if command.startswith(COLON) and digits.isdigit() and 1 <= int(digits) <= count:
        return int(digits) - 1
    return None


class Pause(Exception):
    """The user asked to stop; everything accepted so far is already saved."""


class Terminal:
    def __init__(
        self,
        service: FilingService,
        user: User,
        department: Department,
        round_: Round,
        read: Callable[[str], str] = input,
        out: TextIO = sys.stdout,
    ) -> None:
        self.service = service
        self.user = user
        # Every call goes through the service with this actor: the same checks as Telegram.
        self.actor = Actor(user)
        self.department = department
        self.round = round_
        self.read = read
        self.out = out
        self.carry = CarryOverService(service)

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    def ask(self, label: str) -> str:
        try:
            return self.read(label)
        except (EOFError, KeyboardInterrupt):
            raise Pause from None

    # --- menu ------------------------------------------------------------------------------

    def menu(self) -> FormView | None:
        menu = self.service.menu(self.actor, self.round.id)
        if isinstance(menu, Refused):
            self.say(menu.message)
            raise Pause
        layout = get_layout(self.round.layout)
        options: list[tuple[str, Callable[[], FormView | Refused | None]]] = []
        table_a = menu.table_a
        status = f"（{table_a.form.status.label}）" if table_a else "（未开始）"
        options.append(
            (
                f"{layout.table_a.name}{status}",
                partial(self.service.open_own_table_a, self.actor, self.round.id),
            )
        )
        for line in menu.directions:
            options.append(
                (
                    f"{layout.table_c.name}：{line.name}（{line.form.status.label}）",
                    partial(self.service.open_as, self.actor, line.form.id),
                )
            )
        options.append(
            (
                "新增支出方向（专项资金支出方向绩效目标表）",
                partial(
                    self.service.add_direction, self.actor, len(menu.directions), self.round.id
                ),
            )
        )
        options.append((f"查看表B {layout.summary.name}（由各支出方向汇总）", self._table_b))
        self.say(f"\n== {self.department.name} · {self.round.year}年（{layout.key} 版表样）==")
        earlier = None if menu.lines else self.carry.offer(self.department.id, self.round.id)
        if earlier is not None:
            self.say(messages.CARRY_OVER_HINT.format(year=earlier))
            options.append((messages.CARRY_OVER_BUTTON.format(year=earlier), self.start_carried))
        for number, (label, _) in enumerate(options, start=1):
            self.say(f"  [{button_key(number)}] {label}")
        self.say("  [:q] 退出")
        command = command_of(self.ask("请选择："))
        if command == ":q":
            raise Pause
        if command == ":t":
            self._table_b()
            return None
        index = pressed(command, len(options))
        if index is None:
            self.say(f"请输入菜单中的编号，例：{button_key(1)}")
            return None
        chosen = options[index][1]()
        if isinstance(chosen, Refused):
            self.say(chosen.message)
            return None
        return chosen

    def start_carried(self) -> FormView | Refused:
        carried = self.carry.start_as(self.actor, self.round.id)
        if isinstance(carried, Refused):
            return carried
        self.say(messages.CARRY_OVER_DONE.format(year=carried.from_year, count=carried.tables))
        if carried.not_copied:
            self.say(messages.CARRY_OVER_ASKED.format(labels="、".join(carried.not_copied)))
        self.say(messages.CARRY_OVER_YEAR_NOTE.format(year=carried.from_year))
        return self.service.open_as(self.actor, carried.first_form_id)

    def _table_b(self) -> None:
        """表B as the export will print it (computed from the C tables, never typed)."""
        filing = self.service.department_filing(self.department.id, self.round.id)
        self.say()
        for line in table_b_lines(filing):
            self.say(line)
        if not filing.directions:
            self.say("（还没有支出方向：新增支出方向后，表B 自动汇总。）")

    # --- one form --------------------------------------------------------------------------

    def show(self, prompt: Prompt) -> list[Button]:
        if prompt.progress is not None:
            p = prompt.progress
            self.say(
                f"\n{prompt.heading}  {p.bar()} 第{p.section_index}/{p.section_count}部分 "
                f"第{p.step_index}/{p.step_count}步"
            )
        else:
            self.say(f"\n{prompt.heading}")
        self.say(prompt.text)
        if prompt.hint:
            self.say(prompt.hint)
        buttons = [*prompt.buttons, *prompt.row_buttons]
        if buttons:
            self.say("  " + button_line([b.label for b in buttons]))
        return buttons

    def review(self, form_id: int) -> None:
        shown = self.service.review_as(self.actor, form_id)
        if isinstance(shown, Refused):
            self.say(shown.message)
            return
        self.say(shown.review.title)
        for line in shown.review.lines:
            self.say(line)
        self.say()
        last_year = self.carry.last_year(form_id)
        if last_year is None:
            return
        for text, _ in review_lines(last_year):
            self.say(text)
        if last_year.old_year_places:
            choice = self.ask(
                f"输入 y 把{last_year.from_year}年全部更新为{last_year.to_year}年，直接回车跳过："
            )
            if choice.strip().lower() in ("y", "yes", "是"):
                version = shown.view.form.version
                done = self.carry.update_years_as(self.actor, form_id, version)
                if isinstance(done, Refused):
                    self.say(done.message)
                elif done is None:
                    self.say(messages.text(Notice.OLD_YEAR_STALE))
                else:
                    years = {"from_year": done.from_year, "to_year": done.to_year}
                    self.say(messages.OLD_YEAR_UPDATED.format(**years))

    def fill(self, view: FormView) -> None:
        form_id = view.form.id
        done, total = view.sections_done
        self.say(f"已完成 {done}/{total} 部分。{HELP}")
        while True:
            buttons = self.show(view.prompt)
            raw = self.ask("> ")
            command = command_of(raw)
            if command == ":q":
                raise Pause
            if command == ":m":
                return
            if command == ":r":
                self.review(form_id)
                continue
            if command == ":t":
                self._table_b()
                continue
            action = self._action(command, raw, buttons)
            if action is None:
                self.say(f"没有“{raw.strip()}”这个选项。{HELP}")
                continue
            if action.kind is ActionKind.REVIEW:
                self.review(form_id)
                continue
            result = self.service.act_as(self.actor, form_id, action)
            if isinstance(result, AnswerRefused):
                self.say(result.refused.message)
                return
            outcome = result.outcome
            if outcome.echo:
                self.say(outcome.echo)
            for problem in outcome.problems:
                self.say(("✗ " if problem.is_error else "⚠ ") + problem.message)
            if outcome.needs_confirmation:
                answer = self.ask("以上提示确认后仍要提交吗？(y/n) ").strip().lower()
                if answer in ("y", "yes", "是"):
                    submitted = self.service.submit(self.actor, form_id, confirmed=True)
                    if isinstance(submitted, Refused):
                        self.say(submitted.message)
                        return
                    result = submitted
                    if result.outcome.echo:
                        self.say(result.outcome.echo)
            view = result.view
            if not view.form.status.editable:
                self.say(f"本表状态：{view.form.status.label}。")
                return

    @staticmethod
    def _action(command: str, raw: str, buttons: list[Button]) -> Action | None:
        """What the typed line means: a shortcut, a button, or (anything without a leading
        colon) the answer itself; None for an unknown colon command."""
        if not command:
            return Action(ActionKind.ANSWER, text=raw)
        if command in SHORTCUTS:
            return SHORTCUTS[command]
        index = pressed(command, len(buttons))
        return buttons[index].action if index is not None else None

    def run(self) -> None:
        while True:
            view = self.menu()
            if view is not None:
                self.fill(view)


def _year_of_open_round(database: Database) -> int | None:
    with database.transaction() as session:
        rounds = RoundRepository(session).list_open()
        return rounds[0].year if rounds else None


def _setup(
    database: Database,
    read: Callable[[str], str],
    department_name: str | None,
    year: int | None,
    layout: str | None,
) -> tuple[User, Department, Round]:
    """The terminal user, their department and the round; raises LayoutChoiceError before
    anything is written when `layout` is unknown or disagrees with the year's round."""
    while not department_name:
        department_name = read("部门名称：").strip()[:50]
    if year is None:
        year = _year_of_open_round(database)
    while year is None:
        text = read("年度（例：2024）：").strip()
        year = int(text) if text.isdigit() and 2000 <= int(text) <= 2100 else None
    with database.transaction() as session:
        deadline = datetime(year, 12, 31, 16, 0).astimezone()
        round_ = RoundRepository(session).open_round(
            year,
            layout,
            deadline,
            f"{year}年预算绩效目标填报",
            known_layouts=load_layouts(),
            example=LAYOUT_EXAMPLE.format(year=year),
        )
        departments = DepartmentRepository(session)
        department = departments.by_name(department_name) or departments.create(department_name)
        users = UserRepository(session)
        user = users.upsert(
            TERMINAL_TELEGRAM_ID, "终端用户", role=Role.STAFF, department_id=department.id
        )
        if user.department_id != department.id:
            user = users.set_department(user.id, department.id)
        return user, department, round_


def run_terminal(
    settings: Settings,
    department: str | None,
    year: int | None,
    layout: str | None,
    read: Callable[[str], str] = input,
    out: TextIO = sys.stdout,
) -> int:
    """Exit code 0 after a pause; 2 when the layout or the form definitions stop the start.
    A database that cannot be used raises DatabaseUnavailable (the CLI prints it)."""
    try:
        load_layouts()  # a broken form definition stops here, not at a user's later step
    except DefinitionError as error:
        print(f"表样定义错误 / form definition error: {error}", file=out)
        return 2
    database = Database(settings.effective_database_url)
    try:
        database.upgrade()
        print(f"数据库：{describe_location(database.url)}", file=out)
        user, dept, round_ = _setup(database, read, department, year, layout)
        Terminal(FilingService(database), user, dept, round_, read, out).run()
    except LayoutChoiceError as error:
        print(f"表样错误：{error.problem.message}", file=sys.stderr)
        return 2
    except (Pause, EOFError, KeyboardInterrupt):
        print("\n已暂停，所有已确认的答案都已保存。再次运行 jixiao chat 即可继续。", file=out)
    finally:
        database.dispose()
    return 0
