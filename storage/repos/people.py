"""Departments, users and the invites that bring users in."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from storage.models import DepartmentRow, InviteRow, SupervisorDepartmentRow, UserColumns, UserRow
from storage.records import (
    AlreadyExistsError,
    Department,
    Invite,
    NotFoundError,
    RedeemFailure,
    Role,
    User,
)
from storage.repos._sql import insert_ignoring_conflict, now_or, rowcount, run

_USERS = UserRow.__table__
_BY_TELEGRAM_ID = select(_USERS).where(_USERS.c.telegram_id == bindparam("telegram_id"))

DEPARTMENT_NAME_MAX = 50
INVITE_CODE_BYTES = 16  # token_urlsafe(16) is 22 characters of [A-Za-z0-9_-]


def _department(row: DepartmentRow) -> Department:
    return Department(id=row.id, name=row.name, created_at=row.created_at)


def _user(row: UserColumns) -> User:
    return User(
        id=row.id,
        telegram_id=row.telegram_id,
        display_name=row.display_name,
        role=row.role,
        department_id=row.department_id,
        bot_blocked_at=row.bot_blocked_at,
        created_at=row.created_at,
    )


def _invite(row: InviteRow) -> Invite:
    return Invite(
        id=row.id,
        code=row.code,
        role=row.role,
        department_id=row.department_id,
        created_by=row.created_by,
        expires_at=row.expires_at,
        used_by=row.used_by,
        used_at=row.used_at,
        created_at=row.created_at,
    )


class DepartmentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, name: str, *, now: datetime | None = None) -> Department:
        name = name.strip()
        if not name or len(name) > DEPARTMENT_NAME_MAX:
            raise ValueError(f"a department name has 1 to {DEPARTMENT_NAME_MAX} characters")
        inserted = insert_ignoring_conflict(
            self.session, DepartmentRow, {"name": name, "created_at": now_or(now)}, ["name"]
        )
        if not inserted:
            raise AlreadyExistsError(f"department {name!r} already exists")
        department = self.by_name(name)
        assert department is not None
        return department

    def get(self, department_id: int) -> Department | None:
        row = self.session.get(DepartmentRow, department_id)
        return None if row is None else _department(row)

    def by_name(self, name: str) -> Department | None:
        row = self.session.scalar(select(DepartmentRow).where(DepartmentRow.name == name.strip()))
        return None if row is None else _department(row)

    def list_all(self) -> list[Department]:
        rows = self.session.scalars(select(DepartmentRow).order_by(DepartmentRow.name))
        return [_department(row) for row in rows]


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _row(self, user_id: int) -> UserRow:
        row = self.session.get(UserRow, user_id, populate_existing=True)
        if row is None:
            raise NotFoundError("user", user_id)
        return row

    def get(self, user_id: int) -> User | None:
        row = self.session.get(UserRow, user_id, populate_existing=True)
        return None if row is None else _user(row)

    def by_telegram_id(self, telegram_id: int) -> User | None:
        # Every update's gate: a statement built once, Core rows (storage.repos._sql.run).
        row = run(self.session, _BY_TELEGRAM_ID, {"telegram_id": telegram_id}).first()
        return None if row is None else _user(row)

    def create(
        self,
        telegram_id: int,
        display_name: str,
        role: Role,
        department_id: int | None = None,
        *,
        now: datetime | None = None,
    ) -> User:
        """A new user; AlreadyExistsError when the Telegram account is known."""
        if not self._insert(telegram_id, display_name, role, department_id, now):
            raise AlreadyExistsError(f"telegram user {telegram_id} already exists")
        user = self.by_telegram_id(telegram_id)
        assert user is not None
        return user

    def upsert(
        self,
        telegram_id: int,
        display_name: str,
        *,
        role: Role = Role.STAFF,
        department_id: int | None = None,
        now: datetime | None = None,
    ) -> User:
        """The user of a Telegram account, created with `role` and `department_id` if new.

        For a known user only the display name is refreshed and a block mark is cleared (they
        are talking to the bot again); role and department change through set_role and
        set_department only.
        """
        if not self._insert(telegram_id, display_name, role, department_id, now):
            self.session.execute(
                update(UserRow)
                .where(UserRow.telegram_id == telegram_id)
                .values(display_name=display_name, bot_blocked_at=None)
            )
        user = self.by_telegram_id(telegram_id)
        assert user is not None
        return user

    def _insert(
        self,
        telegram_id: int,
        display_name: str,
        role: Role,
        department_id: int | None,
        now: datetime | None,
    ) -> bool:
        values = {
            "telegram_id": telegram_id,
            "display_name": display_name,
            "role": role.value,
            "department_id": department_id,
            "created_at": now_or(now),
        }
        return insert_ignoring_conflict(self.session, UserRow, values, ["telegram_id"])

    def set_role(self, user_id: int, role: Role) -> User:
        row = self._row(user_id)
        row.role = role
        self.session.flush()
        return _user(row)

    def set_department(self, user_id: int, department_id: int | None) -> User:
        row = self._row(user_id)
        row.department_id = department_id
        self.session.flush()
        return _user(row)

    def list_for_department(self, department_id: int) -> list[User]:
        rows = self.session.scalars(
            select(UserRow).where(UserRow.department_id == department_id).order_by(UserRow.id)
        )
        return [_user(row) for row in rows]

    def list_by_role(self, role: Role) -> list[User]:
        statement = select(UserRow).where(UserRow.role == role).order_by(UserRow.id)
        rows = self.session.scalars(statement)
        return [_user(row) for row in rows]

    def oversee(self, user_id: int, department_id: int) -> None:
        """Let a supervisor oversee a department (idempotent)."""
        insert_ignoring_conflict(
            self.session,
            SupervisorDepartmentRow,
            {"user_id": user_id, "department_id": department_id},
            ["user_id", "department_id"],
        )

    def stop_overseeing(self, user_id: int, department_id: int) -> None:
        self.session.execute(
            delete(SupervisorDepartmentRow).where(
                SupervisorDepartmentRow.user_id == user_id,
                SupervisorDepartmentRow.department_id == department_id,
            )
        )

    def overseen_department_ids(self, user_id: int) -> frozenset[int]:
        ids = self.session.scalars(
            select(SupervisorDepartmentRow.department_id).where(
                SupervisorDepartmentRow.user_id == user_id
            )
        )
        return frozenset(ids)

    def mark_blocked(self, user_id: int, *, now: datetime | None = None) -> None:
        """The user blocked the bot: stop messaging them until they write again."""
        self.session.execute(
            update(UserRow)
            .where(UserRow.id == user_id, UserRow.bot_blocked_at.is_(None))
            .values(bot_blocked_at=now_or(now))
        )


class InviteRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self,
        role: Role,
        department_id: int | None,
        created_by: int | None,
        expires_at: datetime,
        *,
        now: datetime | None = None,
    ) -> Invite:
        """A single-use invite with an unguessable code that fits a /start deep link."""
        row = InviteRow(
            code=secrets.token_urlsafe(INVITE_CODE_BYTES),
            role=role,
            department_id=department_id,
            created_by=created_by,
            expires_at=expires_at,
            created_at=now_or(now),
        )
        self.session.add(row)
        self.session.flush()
        return _invite(row)

    def by_code(self, code: str) -> Invite | None:
        row = self.session.scalar(
            select(InviteRow)
            .where(InviteRow.code == code)
            .execution_options(populate_existing=True)
        )
        return None if row is None else _invite(row)

    def redeem(
        self, code: str, user_id: int, *, now: datetime | None = None
    ) -> Invite | RedeemFailure:
        """Use an invite once. The conditional UPDATE makes two concurrent redeems of one code
        end with exactly one winner. The caller applies the invite's role and department to
        the user in the same transaction."""
        now = now_or(now)
        used = rowcount(
            self.session.execute(
                update(InviteRow)
                .where(
                    InviteRow.code == code,
                    InviteRow.used_by.is_(None),
                    InviteRow.used_at.is_(None),
                    InviteRow.expires_at > now,
                )
                .values(used_by=user_id, used_at=now)
            )
        )
        invite = self.by_code(code)
        if used == 1:
            assert invite is not None
            return invite
        if invite is None:
            return RedeemFailure.NOT_FOUND
        if invite.used_at is not None:
            return RedeemFailure.ALREADY_USED
        return RedeemFailure.EXPIRED

    def list_open(self, *, now: datetime | None = None) -> list[Invite]:
        rows = self.session.scalars(
            select(InviteRow)
            .where(InviteRow.used_at.is_(None), InviteRow.expires_at > now_or(now))
            .order_by(InviteRow.id)
        )
        return [_invite(row) for row in rows]
