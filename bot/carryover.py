"""Start from last year: a department's earlier filing copied as the drafts of a new round.

Offered only while the department has no form in the new round, and only on request. Each copied
form is saved with the audit action `carry_over` (one row per copied answer, as any save) and one
`carried_from` row naming the source form and its year, which is how review later finds what
to compare with and which year the copied texts still name. Channels (Telegram, the terminal)
call this service; it knows nothing of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot import messages
from bot.messages import Notice, Refused
from bot.roles import Actor
from bot.service import FilingService
from dialogs.carryover import carry_over, changes_since, with_year, year_mentions
from dialogs.loader import get_layout
from storage.records import NotFoundError, StaleVersionError, StoredForm
from storage.repos import (
    AuditRepository,
    ChatSessionRepository,
    FormRepository,
    RoundRepository,
)

CARRY_ACTION = "carry_over"
SOURCE_ACTION = "carried_from"
YEAR_ACTION = "update_year"


@dataclass(frozen=True)
class Carried:
    from_year: int
    tables: int  # forms copied: table A and each direction
    not_copied: tuple[str, ...]  # official labels asked again or new in this layout
    first_form_id: int  # where filling continues (table A when there was one)


@dataclass(frozen=True)
class LastYear:
    """What review says about a carried-over form."""

    from_year: int
    to_year: int
    old_year_places: tuple[str, ...]  # texts that still name from_year
    changes: tuple[str, ...]  # against the form it was copied from


def review_lines(last_year: LastYear) -> list[tuple[str, bool]]:
    """What review adds for a copied form, as (text, is_heading) lines for any channel."""
    lines: list[tuple[str, bool]] = []
    if last_year.old_year_places:
        lines.append((messages.OLD_YEAR_TITLE.format(from_year=last_year.from_year), True))
        lines += [(f"· {place}", False) for place in last_year.old_year_places]
    if last_year.changes:
        lines.append((messages.CHANGES_TITLE.format(from_year=last_year.from_year), True))
        lines += [(f"· {change}", False) for change in last_year.changes]
    else:
        lines.append((messages.NO_CHANGES.format(from_year=last_year.from_year), False))
    return lines


class CarryOverService:
    def __init__(self, service: FilingService) -> None:
        self.service = service
        self.database = service.database

    def offer(self, department_id: int, round_id: int) -> int | None:
        """The year the department may start from, while it has no form in this round."""
        with self.database.transaction() as session:
            round_ = RoundRepository(session).get(round_id)
            forms = FormRepository(session)
            if round_ is None or forms.list_for_department(department_id, round_id):
                return None
            earlier = forms.latest_earlier_round(department_id, round_.year)
            source = RoundRepository(session).get(earlier) if earlier is not None else None
            return None if source is None else source.year

    def start_as(self, actor: Actor, round_id: int | None = None) -> Carried | Refused:
        """`start` for the actor's own department in the open round, checked in the same
        transaction; CARRY_OVER_REFUSED when there is nothing to copy or the round has begun."""
        with self.database.transaction() as session:
            found = FilingService.filling_scope(session, actor, round_id)
            if isinstance(found, Refused):
                return found
            round_, department = found
            carried = self._start(session, department.id, round_.id, actor.user.id)
            return Refused(Notice.CARRY_OVER_REFUSED) if carried is None else carried

    def start(self, department_id: int, round_id: int, actor_user_id: int) -> Carried | None:
        """Copy the latest earlier filing into this round (None: nothing to copy, or the
        department has started this round already — never mixed into existing forms)."""
        with self.database.transaction() as session:
            return self._start(session, department_id, round_id, actor_user_id)

    def _start(
        self, session: Session, department_id: int, round_id: int, actor_user_id: int
    ) -> Carried | None:
        rounds, forms, audit = (
            RoundRepository(session),
            FormRepository(session),
            AuditRepository(session),
        )
        round_ = rounds.get(round_id)
        if round_ is None or forms.list_for_department(department_id, round_id):
            return None
        earlier_id = forms.latest_earlier_round(department_id, round_.year)
        earlier = rounds.get(earlier_id) if earlier_id is not None else None
        if earlier is None:
            return None
        source_layout, target_layout = get_layout(earlier.layout), get_layout(round_.layout)
        not_copied: list[str] = []
        first: tuple[int, int] | None = None
        sources = forms.list_for_department(department_id, earlier.id)
        for old in sources:
            target = target_layout.table(old.kind)
            carried = carry_over(source_layout.table(old.kind), old.state, target)
            not_copied += [label for label in carried.not_copied if label not in not_copied]
            form = forms.create(department_id, round_id, old.kind, actor_user_id=actor_user_id)
            version = forms.save(
                form.id,
                carried.state,
                expected_version=form.version,
                actor_user_id=actor_user_id,
                action=CARRY_ACTION,
                instance_key=target.instance_field,
            )
            audit.append(
                SOURCE_ACTION,
                actor_user_id=actor_user_id,
                form_id=form.id,
                field_key="source_form",
                old_value=str(old.id),
                new_value=str(earlier.year),
            )
            if first is None:  # table A comes first (forms are listed by kind)
                first = (form.id, version)
        if first is None:
            return None
        ChatSessionRepository(session).set(actor_user_id, first[0], first[1])
        return Carried(earlier.year, len(sources), tuple(not_copied), first[0])

    def _source(self, form: StoredForm) -> tuple[int, StoredForm | None] | None:
        """(source year, source form if it still exists) of a carried-over form."""
        with self.database.transaction() as session:
            entry = AuditRepository(session).first_of(form.id, SOURCE_ACTION)
            if entry is None or entry.new_value is None or entry.old_value is None:
                return None
            return int(entry.new_value), FormRepository(session).get(int(entry.old_value))

    def last_year(self, form_id: int) -> LastYear | None:
        """For review: the old year's mentions and the changes against the source form."""
        view = self.service.view(form_id)
        found = self._source(view.form)
        if found is None:
            return None
        from_year, source = found
        changes: tuple[str, ...] = ()
        if source is not None:
            with self.database.transaction() as session:
                source_round = RoundRepository(session).get(source.round_id)
            if source_round is not None:
                source_definition = get_layout(source_round.layout).table(source.kind)
                changes = changes_since(
                    source_definition, source.state, view.definition, view.form.state
                )
        places = year_mentions(view.definition, view.form.state, from_year)
        return LastYear(from_year, view.context.year, places, changes)

    def update_years_as(
        self, actor: Actor, form_id: int, expected_version: int
    ) -> LastYear | Refused | None:
        """`update_years` for a channel, only for a form of the actor's own department: what
        review said before the update (its years) when done, None when nothing was written."""
        if not actor.fills:
            return Refused(Notice.NOT_ALLOWED)
        try:
            form = self.service.view(form_id).form
        except NotFoundError:
            return Refused(Notice.NOT_ALLOWED)
        # A form never moves to another department, so its loaded department decides.
        if not actor.may_fill(form.department_id):
            return Refused(Notice.NOT_ALLOWED)
        before = self.last_year(form_id)
        done = self.update_years(form_id, actor.user.id, expected_version)
        return before if done and before is not None else None

    def update_years(self, form_id: int, actor_user_id: int, expected_version: int) -> bool:
        """The one-press update: every `from_year`年 of the form made the round's year. False
        when the form changed meanwhile or can no longer be edited (nothing written)."""
        view = self.service.view(form_id)
        found = self._source(view.form)
        form = view.form
        if found is None or form.version != expected_version or not form.status.editable:
            return False
        updated = with_year(form.state, found[0], view.context.year)
        with self.database.transaction() as session:
            try:
                version = FormRepository(session).save(
                    form.id,
                    updated,
                    expected_version=expected_version,
                    actor_user_id=actor_user_id,
                    action=YEAR_ACTION,
                    instance_key=view.definition.instance_field,
                )
            except StaleVersionError:
                return False
            ChatSessionRepository(session).set(actor_user_id, form.id, version)
        return True
