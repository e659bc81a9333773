"""The round picture as data: departments by stage, the weakest indicator quality, overdue."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.checks.indicators import QualityFigure
from dialogs.definition import TableKind
from dialogs.state import FormStatus
from exports.round_picture import (
    WORST_SHOWN,
    DepartmentStanding,
    Stage,
    department_stage,
    filings_picture,
    round_picture,
)
from tests.support.round_filings import department

A, C = TableKind.A, TableKind.C
DRAFT, SUBMITTED, RETURNED, APPROVED = (
    FormStatus.DRAFT,
    FormStatus.SUBMITTED,
    FormStatus.RETURNED,
    FormStatus.APPROVED,
)


@pytest.mark.parametrize(
    ("forms", "stage"),
    [
        ([], Stage.NOT_STARTED),
        ([(A, DRAFT)], Stage.IN_PROGRESS),
        ([(C, SUBMITTED)], Stage.IN_PROGRESS),  # table A missing: not finished
        ([(A, SUBMITTED), (C, DRAFT)], Stage.IN_PROGRESS),
        ([(A, SUBMITTED), (C, SUBMITTED)], Stage.SUBMITTED),
        ([(A, APPROVED), (C, SUBMITTED)], Stage.SUBMITTED),
        ([(A, APPROVED), (C, RETURNED)], Stage.RETURNED),
        ([(A, RETURNED), (C, DRAFT)], Stage.RETURNED),  # the reviewer's comment comes first
        ([(A, APPROVED)], Stage.APPROVED),
        ([(A, APPROVED), (C, APPROVED), (C, APPROVED)], Stage.APPROVED),
    ],
)
def test_department_stage(forms: list[tuple[TableKind, FormStatus]], stage: Stage) -> None:
    assert department_stage(forms) is stage


def _standing(
    name: str,
    stage: Stage,
    measurable: int,
    total: int,
    *,
    overdue: bool = False,
    warnings: int = 0,
) -> DepartmentStanding:
    quality = QualityFigure(total, measurable, total - measurable, 0, warnings)
    return DepartmentStanding(name, stage, quality, overdue)


def test_stage_counts_overdue_and_weakest_first() -> None:
    standings = [
        _standing("西河乡人民政府", Stage.NOT_STARTED, 0, 0, overdue=True),
        _standing("东湖街道办事处", Stage.IN_PROGRESS, 1, 4, overdue=True),
        _standing("城北水务站", Stage.IN_PROGRESS, 3, 4),
        _standing("南山林业站", Stage.RETURNED, 0, 5, overdue=True, warnings=2),
        _standing("北岭文化站", Stage.RETURNED, 0, 5, overdue=True, warnings=4),
        _standing("中心粮库", Stage.SUBMITTED, 6, 6),
        _standing("老年大学", Stage.APPROVED, 2, 3),
    ]
    picture = round_picture("2027年度填报", standings, as_of="2027-04-01")
    counts = {c.stage: (c.departments, c.overdue) for c in picture.stages}
    assert counts == {
        Stage.NOT_STARTED: (1, 1),
        Stage.IN_PROGRESS: (2, 1),
        Stage.SUBMITTED: (1, 0),
        Stage.RETURNED: (2, 2),
        Stage.APPROVED: (1, 0),
    }
    assert [c.stage for c in picture.stages] == list(Stage)
    assert (picture.departments, picture.done, picture.overdue) == (7, 2, 4)
    # 0% first, more advice before less at the same share; no indicators: not rated at all.
    assert [(w.name, w.measurable_percent, w.overdue) for w in picture.weakest] == [
        ("北岭文化站", 0, True),
        ("南山林业站", 0, True),
        ("东湖街道办事处", 25, True),
        ("老年大学", 66, False),
        ("城北水务站", 75, False),
        ("中心粮库", 100, False),
    ]
    assert (picture.rated, picture.unrated, picture.not_listed) == (6, 1, 0)


def test_not_applicable_indicators_do_not_count_as_weak() -> None:
    # 2 of 3 applicable measurable, however many rows are 不适用.
    quality = QualityFigure(total=7, measurable=2, qualitative=1, not_applicable=4)
    only_na = QualityFigure(total=3, measurable=0, qualitative=0, not_applicable=3)
    picture = round_picture(
        "t",
        [
            DepartmentStanding("甲", Stage.IN_PROGRESS, quality, False),
            DepartmentStanding("乙", Stage.IN_PROGRESS, only_na, False),
        ],
    )
    assert [(w.name, w.measurable_percent, w.indicators) for w in picture.weakest] == [
        ("甲", 66, 3)
    ]
    assert picture.unrated == 1


def test_five_hundred_departments_aggregate_then_name_the_worst() -> None:
    stages = list(Stage)
    standings = [
        _standing(f"第{n:03d}号单位", stages[n % 5], n % 11, 10, overdue=n % 5 < 2)
        for n in range(500)
    ]
    picture = round_picture("2027年度填报", standings)
    assert sum(c.departments for c in picture.stages) == 500
    assert all(c.departments == 100 for c in picture.stages)
    assert len(picture.weakest) == WORST_SHOWN
    assert picture.not_listed == 500 - WORST_SHOWN
    shares = [w.measurable_percent for w in picture.weakest]
    assert shares == sorted(shares) and shares[0] == 0
    # Ties at the same share are named by name.
    names = [w.name for w in picture.weakest]
    assert names == sorted(names)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(list(Stage)),
            st.integers(0, 12),
            st.integers(0, 12),
            st.booleans(),
        ),
        max_size=40,
    ),
    st.integers(0, 12),
)
def test_counts_add_up(rows: list[tuple[Stage, int, int, bool]], worst: int) -> None:
    standings = [
        _standing(f"单位{n}", stage, min(m, t), t, overdue=late and not stage.done)
        for n, (stage, m, t, late) in enumerate(rows)
    ]
    picture = round_picture("t", standings, worst=worst)
    assert sum(c.departments for c in picture.stages) == picture.departments == len(rows)
    assert sum(c.overdue for c in picture.stages) == picture.overdue
    assert all(0 <= c.overdue <= c.departments for c in picture.stages)
    assert len(picture.weakest) == min(worst, picture.rated)
    keys = [(w.measurable_percent, -w.warnings, w.name) for w in picture.weakest]
    assert keys == sorted(keys)
    assert picture.rated + picture.unrated == picture.departments


@pytest.mark.parametrize("layout", ["2021", "2023"])
@pytest.mark.parametrize("deadline_passed", [False, True])
def test_picture_of_filings(layout: str, deadline_passed: bool) -> None:
    year = 2021 if layout == "2021" else 2026
    filings = [
        department("青山镇财政所", layout=layout, year=year),
        department(
            "河口区档案馆", layout=layout, year=year, table_a=DRAFT, measurable=1, qualitative=3
        ),
        department(
            "湖滨区图书馆",
            layout=layout,
            year=year,
            table_a=SUBMITTED,
            directions=[SUBMITTED, APPROVED],
            measurable=4,
            qualitative=1,
        ),
        department(
            "松林乡卫生院",
            layout=layout,
            year=year,
            table_a=APPROVED,
            directions=[RETURNED],
            measurable=2,
            qualitative=2,
        ),
        department("江心岛管委会", layout=layout, year=year, table_a=APPROVED, measurable=3),
    ]
    picture = filings_picture(filings, deadline_passed=deadline_passed)
    assert picture.title == f"{year}年度"
    counts = {c.stage: c.departments for c in picture.stages}
    assert counts == {
        Stage.NOT_STARTED: 1,
        Stage.IN_PROGRESS: 1,
        Stage.SUBMITTED: 1,
        Stage.RETURNED: 1,
        Stage.APPROVED: 1,
    }
    late = {"河口区档案馆", "松林乡卫生院", "青山镇财政所"} if deadline_passed else set()
    assert picture.overdue == len(late)
    assert [(w.name, w.measurable_percent, w.indicators) for w in picture.weakest] == [
        ("河口区档案馆", 25, 4),
        ("松林乡卫生院", 50, 4),
        ("湖滨区图书馆", 80, 5),
        ("江心岛管委会", 100, 3),
    ]
    assert {w.name for w in picture.weakest if w.overdue} == late - {"青山镇财政所"}
    assert picture.unrated == 1  # 青山镇财政所 has not started
