"""Who may do what: the one place for the bot's access checks, and the people queries behind them.

`Actor` holds the rules (pure); `Directory` reads and writes people, departments, rounds and
invites (synchronous, one transaction per call — handlers run it in a thread). Every handler that
acts on a department or a form asks an `Actor` first, and every button's ids are re-checked here
when pressed, so forged callback data meets the same rules as the buttons we sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bot.messages import REDEEM_REFUSALS, Notice, Refused
from dialogs.catalogue import Code, Problem
from dialogs.loader import load_layouts
from dialogs.parsing.text import has_invisible_characters
from storage.db import Database
from storage.records import (
    AlreadyExistsError,
    Department,
    Invite,
    RedeemFailure,
    Role,
    Round,
    StoredForm,
    User,
)
from storage.repos import (
    DepartmentRepository,
    FormRepository,
    InviteRepository,
    RoundRepository,
    UserRepository,
)

INVITE_DAYS = 7
INVITE_ROLES = (Role.SUPERVISOR, Role.DISTRICT_SUPERVISOR, Role.STAFF)


@dataclass(frozen=True)
class Actor:
    """A known user with what they oversee (supervisors only)."""

    user: User
    overseen: frozenset[int] = frozenset()

    @property
    def role(self) -> Role:
        return self.user.role

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def sees_all(self) -> bool:
        return self.role in (Role.ADMIN, Role.DISTRICT_SUPERVISOR)

    @property
    def sets_round_policy(self) -> bool:
        """The deadline and reminder policy apply to every department of a round, so only the
        roles that see every department change them."""
        return self.sees_all

    @property
    def fills(self) -> bool:
        """Staff of a department fill its forms; supervisors and admins only read them."""
        return self.role is Role.STAFF and self.user.department_id is not None

    @property
    def scope(self) -> frozenset[int] | None:
        """The departments this actor may see (None: every department). The one rule behind
        /status, the digest, exports, printed tables and review."""
        if self.sees_all:
            return None
        if self.role is Role.SUPERVISOR:
            return self.overseen
        department = self.user.department_id
        if self.role is Role.STAFF and department is not None:
            return frozenset({department})
        return frozenset()

    @property
    def reviews(self) -> bool:
        """Supervisors, district supervisors and admins review submitted forms (in their scope)."""
        return self.role is not Role.STAFF

    def may_review(self, department_id: int) -> bool:
        return self.reviews and self.may_view(department_id)

    def may_view(self, department_id: int) -> bool:
        scope = self.scope
        return scope is None or department_id in scope

    def may_fill(self, department_id: int) -> bool:
        return self.fills and self.user.department_id == department_id

    def may_invite(self, role: Role, department_id: int | None) -> bool:
        if role not in INVITE_ROLES:
            return False  # admins come from ADMIN_TELEGRAM_IDS only
        needs_department = role is not Role.DISTRICT_SUPERVISOR
        if needs_department != (department_id is not None):
            return False
        if self.is_admin:
            return True
        if role is not Role.STAFF or department_id is None:
            return False
        if self.role is Role.DISTRICT_SUPERVISOR:
            return True
        return self.role is Role.SUPERVISOR and department_id in self.overseen

    def invitable_roles(self) -> tuple[Role, ...]:
        if self.is_admin:
            return INVITE_ROLES
        if self.role in (Role.SUPERVISOR, Role.DISTRICT_SUPERVISOR):
            return (Role.STAFF,)
        return ()


def visible_departments(session: Session, actor: Actor) -> list[Department]:
    """The departments of `actor.scope`, in the repository's order."""
    scope = actor.scope
    return [d for d in DepartmentRepository(session).list_all() if scope is None or d.id in scope]


class RefusedText(ValueError):
    """A name or comment the user typed holds a character a workbook cannot hold; `problem`
    says which field and shows a valid example."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def check_typed_text(text: str, field: str, example: str) -> None:
    """Raises RefusedText for the characters the filing steps refuse (CONTROL_CHARACTERS)."""
    if has_invisible_characters(text):
        raise RefusedText(Problem(Code.CONTROL_CHARACTERS, {"field": field, "example": example}))


@dataclass(frozen=True)
class Scope:
    """The open round and the departments of it an actor may see."""

    round: Round
    departments: tuple[Department, ...]


class _Rollback(Exception):
    def __init__(self, failure: RedeemFailure) -> None:
        super().__init__(failure.value)
        self.failure = failure


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Directory:
    """People, departments, rounds and invites for the bot (see the module docstring)."""

    def __init__(self, database: Database, admin_ids: Iterable[int] = ()) -> None:
        self.database = database
        self.admin_ids = frozenset(admin_ids)

    # --- who is talking ---------------------------------------------------------------------

    def identify(self, telegram_id: int, display_name: str) -> Actor | None:
        """The actor of a Telegram account, or None for a stranger (who gets no row).

        Runs for every update, so the usual case (a known user, nothing to refresh) is one
        read-only transaction: on SQLite it takes no write lock and never queues behind answers.
        """
        with self.database.reading() as session:
            users = UserRepository(session)
            found = users.by_telegram_id(telegram_id)
            if found is None and telegram_id not in self.admin_ids:
                return None
            if found is not None and self._up_to_date(found, telegram_id, display_name):
                return Actor(found, self._overseen(users, found))
        return self._identify_writing(telegram_id, display_name)

    def _up_to_date(self, user: User, telegram_id: int, display_name: str) -> bool:
        is_admin = telegram_id in self.admin_ids
        return (
            (user.role is Role.ADMIN) == is_admin
            and user.display_name == display_name
            and user.bot_blocked_at is None
        )

    @staticmethod
    def _overseen(users: UserRepository, user: User) -> frozenset[int]:
        """Only a supervisor's scope is their overseen departments (see Actor.may_view)."""
        return (
            users.overseen_department_ids(user.id) if user.role is Role.SUPERVISOR else frozenset()
        )

    def _identify_writing(self, telegram_id: int, display_name: str) -> Actor | None:
        with self.database.transaction() as session:
            users = UserRepository(session)
            if telegram_id in self.admin_ids:
                user = users.upsert(telegram_id, display_name, role=Role.ADMIN)
                if user.role is not Role.ADMIN:
                    user = users.set_role(user.id, Role.ADMIN)
                return Actor(user)
            found = users.by_telegram_id(telegram_id)
            if found is None:
                return None
            if found.role is Role.ADMIN:
                # Removed from ADMIN_TELEGRAM_IDS: the settings are the only source of admins.
                found = users.set_role(found.id, Role.STAFF)
            if found.display_name != display_name or found.bot_blocked_at is not None:
                found = users.upsert(telegram_id, display_name)
            return Actor(found, users.overseen_department_ids(found.id))

    def redeem(self, telegram_id: int, display_name: str, code: str) -> Actor | Refused:
        """Use an invite and apply its role and department in the same transaction; a failed
        code leaves no trace (a stranger stays unknown). Admins come from the settings only."""
        if telegram_id in self.admin_ids:
            return Refused(Notice.ADMIN_CANNOT_JOIN)
        try:
            with self.database.transaction() as session:
                users = UserRepository(session)
                user = users.upsert(telegram_id, display_name)
                invite = InviteRepository(session).redeem(code, user.id)
                if isinstance(invite, RedeemFailure):
                    raise _Rollback(invite)
                user = self._apply(users, user, invite)
                return Actor(user, users.overseen_department_ids(user.id))
        except _Rollback as rollback:
            return Refused(REDEEM_REFUSALS[rollback.failure])

    @staticmethod
    def _apply(users: UserRepository, user: User, invite: Invite) -> User:
        if invite.role is Role.STAFF:
            user = users.set_role(user.id, Role.STAFF)
            return users.set_department(user.id, invite.department_id)
        if invite.role is Role.SUPERVISOR and invite.department_id is not None:
            users.oversee(user.id, invite.department_id)
            if user.role is Role.DISTRICT_SUPERVISOR:
                return user  # already sees every department
        return users.set_role(user.id, invite.role)

    def mark_blocked(self, telegram_id: int) -> None:
        with self.database.transaction() as session:
            users = UserRepository(session)
            user = users.by_telegram_id(telegram_id)
            if user is not None:
                users.mark_blocked(user.id)

    def supervisors(self) -> list[User]:
        with self.database.transaction() as session:
            users = UserRepository(session)
            return users.list_by_role(Role.SUPERVISOR) + users.list_by_role(
                Role.DISTRICT_SUPERVISOR
            )

    # --- departments, rounds, invites -----------------------------------------------------------

    def departments(self, actor: Actor) -> list[Department]:
        with self.database.reading() as session:
            return visible_departments(session, actor)

    def department(self, department_id: int) -> Department | None:
        with self.database.transaction() as session:
            return DepartmentRepository(session).get(department_id)

    def create_department(self, actor: Actor, name: str) -> Department | Refused | Problem:
        """A new department (admins only); a refusal for a taken or badly sized name, a
        problem for characters a workbook cannot hold."""
        if not actor.is_admin:
            return Refused(Notice.NOT_ALLOWED)
        try:
            check_typed_text(name, "部门名称", "区财政局")
            with self.database.transaction() as session:
                return DepartmentRepository(session).create(name)
        except RefusedText as refused:
            return refused.problem
        except AlreadyExistsError:
            return Refused(Notice.DEPARTMENT_EXISTS, {"name": name})
        except ValueError:
            return Refused(Notice.DEPARTMENT_NAME_LENGTH)

    def scope(
        self, actor: Actor, department_id: int | None = None, *, whole_round: bool = False
    ) -> Scope | Refused:
        """The open round and the departments the actor may see (`Actor.scope`): all of them,
        only `department_id` (NOT_ALLOWED unless visible), or, with `whole_round`, all of them
        for a reviewer (the round's consolidated workbook is not for staff)."""
        if whole_round and actor.fills:
            return Refused(Notice.NOT_ALLOWED)
        with self.database.reading() as session:
            departments = visible_departments(session, actor)
            if department_id is not None:
                # A named department first: a forged id learns nothing, not even the round.
                departments = [d for d in departments if d.id == department_id]
                if not departments:
                    return Refused(Notice.NOT_ALLOWED)
            round_ = RoundRepository(session).latest_open()
        if round_ is None:
            return Refused(Notice.NO_ROUND)
        if not departments:
            empty = Notice.NOT_ALLOWED if whole_round else Notice.NO_DEPARTMENTS_IN_SCOPE
            return Refused(empty)
        return Scope(round_, tuple(departments))

    def overview(self, actor: Actor) -> tuple[list[Department], list[Round]] | Refused:
        """/admin: every department and the open rounds (admins only)."""
        if not actor.is_admin:
            return Refused(Notice.NOT_ALLOWED)
        with self.database.reading() as session:
            return visible_departments(session, actor), RoundRepository(session).list_open()

    def round_layouts(self, actor: Actor) -> list[str] | Refused:
        """The layouts a new round may use, for those who open rounds (admins)."""
        return sorted(load_layouts()) if actor.is_admin else Refused(Notice.NOT_ALLOWED)

    def open_rounds(self) -> list[Round]:
        with self.database.transaction() as session:
            return RoundRepository(session).list_open()

    def create_round(
        self, actor: Actor, year: int, deadline: datetime, layout: str
    ) -> Round | Refused:
        """A new round, or the open one of that year and layout (a repeated press is no-op).

        Raises LayoutChoiceError for an unknown layout or one that disagrees with the year's
        open round (see RoundRepository.open_round)."""
        if not actor.is_admin:
            return Refused(Notice.NOT_ALLOWED)
        example = f"/newround {year} {deadline:%Y-%m-%d}，再选择 {{layout}} 版表样"
        with self.database.transaction() as session:
            return RoundRepository(session).open_round(
                year,
                layout,
                deadline,
                f"{year}年预算绩效目标填报",
                known_layouts=load_layouts(),
                example=example,
            )

    def roles_to_invite(self, actor: Actor) -> tuple[Role, ...] | Refused:
        """The roles the actor may invite (NOT_ALLOWED: none)."""
        return actor.invitable_roles() or Refused(Notice.NOT_ALLOWED)

    def invite_departments(self, actor: Actor, role: Role) -> list[Department] | Refused:
        """The departments the actor may invite `role` to."""
        if role not in actor.invitable_roles():
            return Refused(Notice.NOT_ALLOWED)
        with self.database.reading() as session:
            departments = [
                d for d in visible_departments(session, actor) if actor.may_invite(role, d.id)
            ]
        return departments or Refused(Notice.NO_DEPARTMENTS_YET)

    def create_invite(
        self, actor: Actor, role: Role, department_id: int | None
    ) -> Invite | Refused:
        if not actor.may_invite(role, department_id):
            return Refused(Notice.NOT_ALLOWED)
        with self.database.transaction() as session:
            departments = DepartmentRepository(session)
            if department_id is not None and departments.get(department_id) is None:
                return Refused(Notice.NOT_ALLOWED)
            expires = _utcnow() + timedelta(days=INVITE_DAYS)
            return InviteRepository(session).create(role, department_id, actor.user.id, expires)

    # --- forms ----------------------------------------------------------------------------------

    def form(self, form_id: int) -> StoredForm | None:
        with self.database.transaction() as session:
            return FormRepository(session).get(form_id)
