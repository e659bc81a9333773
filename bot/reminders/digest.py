"""The daily digest: each supervisor hears once a day where their departments stand.

A digest is due for a supervisor when a round is open, its policy names a `digest_hour`, the
local time has reached that hour today and is outside the quiet hours, and the supervisor has
not had today's digest of that round. The check runs every minute from the database, so a bot
that was down at the digest hour sends it when it is back, and a policy changed in chat takes
effect without rescheduling anything.

"Has had it" is a row of `digests_sent` (supervisor, round, local day), inserted and committed
before the send; its key makes the insert a claim, so two bot processes never both send it.
That makes the digest at most once a day: a crash between that commit and the send loses that
day's digest, which the next day's repairs; a digest twice would be noise in a supervisor's chat
every day. What the digest says is the /status report (bot/status/report.py) of the
supervisor's scope (`Actor.scope`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.reminders.schedule import in_quiet_hours
from bot.reminders.transport import ChatBlocked, DeliveryError, OutgoingMessage, Transport
from bot.roles import Actor
from bot.split import messages_of
from bot.status.report import round_report
from bot.texts import local_text, remaining_text, render
from storage.db import Database
from storage.records import Role, Round, User
from storage.repos import DigestLogRepository, RoundRepository, UserRepository

_LOGGER = logging.getLogger(__name__)
REVIEWER_ROLES = (Role.SUPERVISOR, Role.DISTRICT_SUPERVISOR)


@dataclass(frozen=True)
class Digest:
    user_id: int
    round_id: int
    messages: tuple[OutgoingMessage, ...]


def digest_due(round_: Round, now: datetime, zone: ZoneInfo) -> bool:
    hour = round_.policy.digest_hour
    if hour is None or in_quiet_hours(now, round_.policy, zone):
        return False
    return now.astimezone(zone).hour >= hour


class DigestSender:
    def __init__(self, database: Database, transport: Transport, zone: ZoneInfo, clock: Clock):
        self.database = database
        self.transport = transport
        self.zone = zone
        self.clock = clock

    async def run(self) -> int:
        """Send the digests due now; returns how many went out."""
        sent = 0
        for digest in await asyncio.to_thread(self.claim_due):
            try:
                for message in digest.messages:
                    await self.transport.send(message)
                sent += 1
            except ChatBlocked:
                await asyncio.to_thread(self._blocked, digest.user_id)
            except DeliveryError as error:
                _LOGGER.warning("digest to user %s not delivered: %r", digest.user_id, error)
        return sent

    def claim_due(self) -> list[Digest]:
        """Record and render the digests due now (one transaction; see the module docstring)."""
        now = self.clock.now()
        today = now.astimezone(self.zone).date()
        with self.database.transaction() as session:
            rounds = RoundRepository(session).list_open()
            rounds = [r for r in rounds if digest_due(r, now, self.zone)]
            if not rounds:
                return []
            claims = DigestLogRepository(session)
            users = UserRepository(session)
            readers = [u for role in REVIEWER_ROLES for u in users.list_by_role(role)]
            digests = []
            for round_ in rounds:
                full = round_report(session, round_, now)
                for reader in readers:
                    scope = self._scope(users, reader)
                    if reader.bot_blocked_at is not None or scope == frozenset():
                        continue
                    if not claims.claim(reader.id, round_.id, today, now=now):
                        continue
                    body = render(
                        "digest",
                        report=full.only(scope),
                        deadline=local_text(round_.deadline, self.zone),
                        remaining=remaining_text(round_.deadline, now),
                        today=f"{today.month}月{today.day}日",
                    )
                    parts = [OutgoingMessage(reader.telegram_id, t) for t in messages_of(body)]
                    digests.append(Digest(reader.id, round_.id, tuple(parts)))
            return digests

    @staticmethod
    def _scope(users: UserRepository, reader: User) -> frozenset[int] | None:
        return Actor(reader, users.overseen_department_ids(reader.id)).scope

    def _blocked(self, user_id: int) -> None:
        with self.database.transaction() as session:
            UserRepository(session).mark_blocked(user_id, now=self.clock.now())

