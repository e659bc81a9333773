"""`jixiao chat` offers to start from last year's filing, continues at the first question that
is asked again, and at review lists the texts that still name the old year and updates them."""

from __future__ import annotations

import io
from pathlib import Path

from bot.settings import Settings
from bot.terminal import run_terminal
from storage.db import Database
from storage.repos import FormRepository
from tests.support.lastyear import DEPT, NEWCOMER, filed_in_2021


def _run(tmp_path: Path, department: str, typed: list[str]) -> tuple[str, Database]:
    url = f"sqlite:///{tmp_path / 'chat.sqlite3'}"
    database = Database(url)
    database.upgrade()
    if not any(tmp_path.glob("filed")):
        filed_in_2021(database)
        (tmp_path / "filed").touch()
    answers = iter(typed)
    out = io.StringIO()
    settings = Settings(JIXIAO_DATA_DIR=tmp_path, DATABASE_URL=url)  # type: ignore[call-arg]
    run_terminal(settings, department, 2023, None, read=lambda _: next(answers), out=out)
    return out.getvalue(), database


def test_terminal_starts_from_last_year_and_updates_the_old_year(tmp_path: Path) -> None:
    # menu: 1 table A, 2 new direction, 3 start from 2021; then review, update, pause
    shown, database = _run(tmp_path, DEPT, ["3", ":r", "y", ":q"])
    assert "你部门在2021年填报过" in shown
    assert "已从2021年的填报复制 2 张表" in shown
    assert "请输入「资金总额」" in shown
    assert "以下内容仍写着2021年" in shown and "已把2021年更新为2023年" in shown
    with database.transaction() as session:
        forms = FormRepository(session).list_for_round(2)
    table_a = next(f for f in forms if f.kind.value == "A")
    assert table_a.state.groups["key_tasks"][0].get("goal") == "2023年12月底前建成1万亩。"
    database.dispose()


def test_terminal_does_not_offer_it_to_a_department_that_never_filed(tmp_path: Path) -> None:
    shown, database = _run(tmp_path, NEWCOMER, ["q"])
    assert "填报过" not in shown and "年的填报开始" not in shown
    database.dispose()
