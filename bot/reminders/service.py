"""What /remind and /policy may do for an Actor: the rules and the transactions, so that their
handlers (bot/handlers/reminders.py) only read commands and write replies.

    remind  reviewers remind the unfinished forms of their scope (`Actor.scope`)
    policy  anyone reads a round's deadline and reminder policy; only the roles that see every
            department change it (it applies to the whole round)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.messages import Notice, Refused
from bot.reminders.jobs import ReminderRuntime
from bot.reminders.planner import Planned
from bot.reminders.policy import parse_settings
from bot.roles import Actor
from storage.records import Round
from storage.repos import RoundRepository


@dataclass(frozen=True)
class Reminding:
    """A /remind planned: it goes out at `due_at` (now, or when the quiet hours end)."""

    round: Round
    due_at: datetime
    planned: Planned
    now: datetime


@dataclass(frozen=True)
class PolicyView:
    round: Round
    changed: bool
    may_change: bool
    now: datetime


class RoundsService:
    def __init__(self, runtime: ReminderRuntime) -> None:
        self.runtime = runtime

    def open_round(self, year: int | None) -> Round:
        """The latest open round, or the open round of `year`; raises Refused (a Notice)."""
        with self.runtime.database.reading() as session:
            rounds = RoundRepository(session)
            found = rounds.latest_open() if year is None else rounds.open_of_year(year)
        if found is None:
            raise Refused(Notice.NO_ROUND)
        return found

    def remind(self, actor: Actor, year: int | None) -> Reminding:
        if not actor.reviews:
            raise Refused(Notice.REVIEWERS_ONLY)
        round_ = self.open_round(year)
        now = self.runtime.clock.now()
        due_at, planned = self.runtime.planner.plan_manual(round_, actor.scope, now)
        return Reminding(round_, due_at, planned, now)

    def policy(self, actor: Actor, year: int | None, settings: str) -> PolicyView:
        """The round's policy, after applying `settings` when given (raises Refused, and
        PolicyError with a message for the user)."""
        round_ = self.open_round(year)
        may_change = actor.sets_round_policy
        if settings:
            if not may_change:
                raise Refused(Notice.ROUND_WIDE_ONLY)
            zone = self.runtime.zone
            policy, deadline = parse_settings(settings, round_.policy, round_.deadline, zone)
            with self.runtime.database.transaction() as session:
                rounds = RoundRepository(session)
                if deadline != round_.deadline:
                    rounds.set_deadline(round_.id, deadline)
                round_ = rounds.set_policy(round_.id, policy)
        return PolicyView(round_, bool(settings), may_change, self.runtime.clock.now())
