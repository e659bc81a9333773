"""The round at a glance, as plain data: departments by stage and the departments with the
weakest indicator quality, overdue ones marked. The chat picture (exports.round_png) and the
workbook's native chart (exports.round_chart) both draw this one value.

A round of hundreds of departments stays readable because the stages are counted (five bars
whatever the size) and only the worst few departments are named; the rest are counted.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from dialogs.checks.indicators import QualityFigure
from dialogs.definition import TableKind
from dialogs.filing import DepartmentFiling
from dialogs.quality import department_quality
from dialogs.state import FormStatus

WORST_SHOWN = 8  # departments named in the quality part; more would not read on a phone


class Stage(Enum):
    """Where a department stands, in the order of the round (the order of the bars)."""

    NOT_STARTED = "未开始"
    IN_PROGRESS = "填报中"
    SUBMITTED = "已提交"
    RETURNED = "已退回"
    APPROVED = "已审核"

    @property
    def label(self) -> str:
        return self.value

    @property
    def done(self) -> bool:
        """Nothing left for the department's staff (what the deadline asks for)."""
        return self in (Stage.SUBMITTED, Stage.APPROVED)


def department_stage(kinds_and_statuses: Collection[tuple[TableKind, FormStatus]]) -> Stage:
    """A department's stage from its forms. A returned form outranks everything (staff must act
    on the reviewer's comment); a draft or a missing table A means still filling; a department
    is 已审核 only when every form, table A included, is approved."""
    if not kinds_and_statuses:
        return Stage.NOT_STARTED
    statuses = {status for _, status in kinds_and_statuses}
    has_table_a = any(kind is TableKind.A for kind, _ in kinds_and_statuses)
    if FormStatus.RETURNED in statuses:
        return Stage.RETURNED
    if FormStatus.DRAFT in statuses or not has_table_a:
        return Stage.IN_PROGRESS
    if FormStatus.SUBMITTED in statuses:
        return Stage.SUBMITTED
    return Stage.APPROVED


@dataclass(frozen=True)
class DepartmentStanding:
    """One department as the picture needs it."""

    name: str
    stage: Stage
    quality: QualityFigure
    overdue: bool

    @property
    def applicable(self) -> int:
        return self.quality.total - self.quality.not_applicable

    @property
    def measurable_percent(self) -> int:
        """Share of applicable indicators a reviewer can check (定量 with a unit), as in
        `/status 质量`."""
        return 100 * self.quality.measurable // self.applicable if self.applicable else 0


@dataclass(frozen=True)
class StageCount:
    stage: Stage
    departments: int
    overdue: int

    @property
    def on_time(self) -> int:
        return self.departments - self.overdue


@dataclass(frozen=True)
class WeakDepartment:
    name: str
    measurable_percent: int
    indicators: int  # applicable indicators
    warnings: int  # open advice on the indicators
    overdue: bool


@dataclass(frozen=True)
class RoundPicture:
    """Everything drawn, and nothing else: two equal pictures are the same image (the chat
    caches the PNG by this value)."""

    title: str
    as_of: str  # the date the picture shows ("截至 …"), in the round's time zone
    stages: tuple[StageCount, ...]  # every stage, in Stage order
    weakest: tuple[WeakDepartment, ...]  # worst first
    rated: int  # departments with at least one applicable indicator
    departments: int
    overdue: int

    @property
    def done(self) -> int:
        return sum(count.departments for count in self.stages if count.stage.done)

    @property
    def not_listed(self) -> int:
        """Departments with indicators that the quality part does not name."""
        return self.rated - len(self.weakest)

    @property
    def unrated(self) -> int:
        """Departments without any applicable indicator yet (left out of the quality part)."""
        return self.departments - self.rated

    def count(self, stage: Stage) -> StageCount:
        return next(c for c in self.stages if c.stage is stage)


def _weakness(standing: DepartmentStanding) -> tuple[int, int, str]:
    return (standing.measurable_percent, -standing.quality.warnings, standing.name)


def round_picture(
    title: str,
    standings: Iterable[DepartmentStanding],
    *,
    as_of: str = "",
    worst: int = WORST_SHOWN,
) -> RoundPicture:
    """Count the stages and pick the `worst` departments by indicator quality (fewest
    checkable indicators first, then most advice, then name), among those with indicators."""
    departments = list(standings)
    stages = tuple(
        StageCount(
            stage,
            sum(1 for d in departments if d.stage is stage),
            sum(1 for d in departments if d.stage is stage and d.overdue),
        )
        for stage in Stage
    )
    rated = sorted((d for d in departments if d.applicable > 0), key=_weakness)
    weakest = tuple(
        WeakDepartment(
            name=d.name,
            measurable_percent=d.measurable_percent,
            indicators=d.applicable,
            warnings=d.quality.warnings,
            overdue=d.overdue,
        )
        for d in rated[: max(worst, 0)]
    )
    return RoundPicture(
        title=title,
        as_of=as_of,
        stages=stages,
        weakest=weakest,
        rated=len(rated),
        departments=len(departments),
        overdue=sum(1 for d in departments if d.overdue),
    )


def filing_standing(
    filing: DepartmentFiling, *, deadline_passed: bool, quality: QualityFigure | None = None
) -> DepartmentStanding:
    forms = [(TableKind.C, form.status) for form in filing.directions]
    if filing.table_a is not None:
        forms.append((TableKind.A, filing.table_a.status))
    stage = department_stage(forms)
    return DepartmentStanding(
        name=filing.department,
        stage=stage,
        quality=quality if quality is not None else department_quality(filing),
        overdue=deadline_passed and not stage.done,
    )


def filings_picture(
    filings: Sequence[DepartmentFiling],
    *,
    title: str = "",
    deadline_passed: bool = False,
    as_of: str = "",
    qualities: Sequence[QualityFigure] | None = None,
) -> RoundPicture:
    """The picture of a round's filings (the round workbook's chart); the title defaults to
    the round's year. `qualities`: the filings' quality figures if already computed (checking
    every indicator is most of the cost)."""
    if not title and filings:
        title = f"{filings[0].year}年度"
    known = qualities if qualities is not None else [None] * len(filings)
    standings = [
        filing_standing(f, deadline_passed=deadline_passed, quality=q)
        for f, q in zip(filings, known, strict=True)
    ]
    return round_picture(title, standings, as_of=as_of)
