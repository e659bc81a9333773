"""Where a round stands for the one asking: `/status`.

The service takes the `Actor`; what they see is `Actor.scope` (the one visibility rule), and
whether they review (the round's picture and the review buttons) is `Actor.reviews`. Reads run
in one read-only transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.messages import Notice, Refused
from bot.roles import Actor
from bot.status.report import RoundReport, round_report
from storage.db import Database
from storage.records import Round
from storage.repos import RoundRepository


@dataclass(frozen=True)
class StatusView:
    report: RoundReport
    now: datetime
    by_quality: bool
    reviewer: bool  # the actor reviews: the round as a picture, and a button per form to review

    @property
    def round(self) -> Round:
        return self.report.round


class StatusService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    def round_status(self, actor: Actor, year: int | None, by_quality: bool) -> StatusView:
        """The latest open round (or the open round of `year`), department by department, for
        the departments the actor may see; raises Refused (a Notice)."""
        scope = actor.scope
        now = self.clock.now()
        with self.database.reading() as session:
            rounds = RoundRepository(session)
            round_ = rounds.latest_open() if year is None else rounds.open_of_year(year)
            if round_ is None:
                raise Refused(Notice.NO_ROUND)
            if scope == frozenset():
                raise Refused(Notice.NO_DEPARTMENTS_IN_SCOPE)
            report = round_report(session, round_, now, scope)
        if by_quality:
            report = report.by_quality()
        return StatusView(report, now, by_quality, actor.reviews)
