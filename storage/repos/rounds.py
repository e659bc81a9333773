"""Filing rounds: a year's collection of tables with its deadline and reminder policy."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from dialogs.layout_choice import choose_layout
from storage.models import RoundRow
from storage.records import NotFoundError, ReminderPolicy, Round
from storage.repos._sql import now_or, rowcount


def _days_text(days: tuple[int, ...]) -> str:
    return ",".join(str(day) for day in days)


def _days(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def _time_text(moment: time) -> str:
    return moment.strftime("%H:%M")


def _round(row: RoundRow) -> Round:
    policy = ReminderPolicy(
        days_before=_days(row.days_before),
        remind_on_day=row.remind_on_day,
        overdue_every_days=row.overdue_every_days,
        overdue_max=row.overdue_max,
        quiet_start=time.fromisoformat(row.quiet_start),
        quiet_end=time.fromisoformat(row.quiet_end),
        digest_hour=row.digest_hour,
    )
    return Round(
        id=row.id,
        year=row.year,
        layout=row.layout,
        title=row.title,
        deadline=row.deadline,
        policy=policy,
        created_at=row.created_at,
        closed=row.closed,
    )


def _policy_columns(policy: ReminderPolicy) -> dict[str, object]:
    return {
        "days_before": _days_text(policy.days_before),
        "remind_on_day": policy.remind_on_day,
        "overdue_every_days": policy.overdue_every_days,
        "overdue_max": policy.overdue_max,
        "quiet_start": _time_text(policy.quiet_start),
        "quiet_end": _time_text(policy.quiet_end),
        "digest_hour": policy.digest_hour,
    }


class RoundRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self,
        year: int,
        layout: str,
        deadline: datetime,
        title: str,
        *,
        policy: ReminderPolicy | None = None,
        now: datetime | None = None,
    ) -> Round:
        row = RoundRow(
            year=year,
            layout=layout,
            title=title,
            deadline=deadline,
            created_at=now_or(now),
            closed=False,
            **_policy_columns(policy or ReminderPolicy()),
        )
        self.session.add(row)
        self.session.flush()
        return _round(row)

    def open_round(
        self,
        year: int,
        requested_layout: str | None,
        deadline: datetime,
        title: str,
        *,
        known_layouts: Iterable[str],
        example: str,
    ) -> Round:
        """The open round of `year`, created with its layout decided now if there is none.

        The one rule for every channel that creates rounds (dialogs.layout_choice): an unknown
        layout, or one that disagrees with the year's open round, raises LayoutChoiceError
        before anything is written; no layout means the year's default."""
        of_year = [r for r in self.list_open() if r.year == year]
        same = next((r for r in of_year if r.layout == requested_layout), None)
        if same is not None:
            return same
        existing = of_year[0].layout if of_year else None
        layout = choose_layout(
            year, requested_layout, existing, known_layouts, example=example
        )
        if of_year:
            return of_year[0]
        return self.create(year, layout, deadline, title)

    def get(self, round_id: int) -> Round | None:
        row = self.session.get(RoundRow, round_id, populate_existing=True)
        return None if row is None else _round(row)

    def list_open(self) -> list[Round]:
        rows = self.session.scalars(
            select(RoundRow)
            .where(RoundRow.closed.is_(False))
            .order_by(RoundRow.deadline, RoundRow.id)
            .execution_options(populate_existing=True)
        )
        return [_round(row) for row in rows]

    def _first_open(self, *where: ColumnElement[bool], order: Sequence[Any]) -> Round | None:
        row = self.session.scalar(
            select(RoundRow)
            .where(RoundRow.closed.is_(False), *where)
            .order_by(*order)
            .limit(1)
            .execution_options(populate_existing=True)
        )
        return None if row is None else _round(row)

    def latest_open(self) -> Round | None:
        """The open round of the latest year (the most recently created among equals)."""
        return self._first_open(order=[RoundRow.year.desc(), RoundRow.id.desc()])

    def open_of_year(self, year: int) -> Round | None:
        """The open round of `year` with the latest deadline (the most recently created among
        equals)."""
        order = [RoundRow.deadline.desc(), RoundRow.id.desc()]
        return self._first_open(RoundRow.year == year, order=order)

    def set_deadline(self, round_id: int, deadline: datetime) -> Round:
        self._update(round_id, deadline=deadline)
        return self._get(round_id)

    def set_policy(self, round_id: int, policy: ReminderPolicy) -> Round:
        self._update(round_id, **_policy_columns(policy))
        return self._get(round_id)

    def close(self, round_id: int) -> Round:
        self._update(round_id, closed=True)
        return self._get(round_id)

    def _update(self, round_id: int, **values: object) -> None:
        statement = update(RoundRow).where(RoundRow.id == round_id).values(values)
        result = self.session.execute(statement)
        if rowcount(result) != 1:
            raise NotFoundError("round", round_id)

    def _get(self, round_id: int) -> Round:
        found = self.get(round_id)
        if found is None:
            raise NotFoundError("round", round_id)
        return found
