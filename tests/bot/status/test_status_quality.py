"""The supervisor's /status lists each department's indicator quality figure and, with
`/status 质量`, puts the departments with the weakest indicators first."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.status.report import round_report
from bot.texts import render
from dialogs.definition import TableKind
from dialogs.parsing.indicator import read_indicator
from storage.db import Database
from storage.repos import DepartmentRepository, FormRepository, RoundRepository
from tests.support.seed import table_a_state

NOW = datetime(2021, 3, 20, tzinfo=UTC)


def _store(database: Database) -> None:
    with database.transaction() as session:
        departments = DepartmentRepository(session)
        strong, weak = departments.create("强部门"), departments.create("弱部门")
        round_ = RoundRepository(session).create(
            2021, "2021", datetime(2021, 3, 31, tzinfo=UTC), "t"
        )
        forms = FormRepository(session)
        good = table_a_state()
        vague = tuple(
            replace(row, value="高质量完成", reading=read_indicator(row.name, "高质量完成"))
            if not row.not_applicable
            else row
            for row in good.indicators
        )
        for department, state in ((strong, good), (weak, replace(good, indicators=vague))):
            form = forms.create(department.id, round_.id, TableKind.A)
            forms.save(
                form.id, state, expected_version=form.version, actor_user_id=None, action="t"
            )


def test_status_shows_quality_and_sorts_by_it(db: Database) -> None:
    _store(db)
    with db.transaction() as session:
        round_ = RoundRepository(session).latest_open()
        assert round_ is not None
        report = round_report(session, round_, NOW)
    by_name = {d.name: d for d in report.departments}
    strong, weak = by_name["强部门"], by_name["弱部门"]
    assert strong.quality.total == weak.quality.total == 9
    assert strong.measurable_percent > weak.measurable_percent == 0
    assert weak.quality.warnings > strong.quality.warnings
    ordered = [d.name for d in report.by_quality().departments]
    assert ordered == ["弱部门", "强部门"]
    text = render(
        "status", report=report.by_quality(), deadline="x", remaining="y", by_quality=True
    )
    assert "按指标质量排序" in text
    assert text.index("弱部门") < text.index("强部门")
    assert "可量化 0 条（0%）" in text
