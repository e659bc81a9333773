"""SQLAlchemy models. The Alembic migrations in `storage/migrations` create exactly this schema.

Amounts are stored as text (`DecimalText`) so that every digit survives on every database;
timestamps are timezone-aware UTC on every database (`UTCDateTime`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from dialogs.state import FormStatus
from storage.records import PendingKind, ReminderStatus, Role

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# The type tags of `answers.type`.
ANSWER_TYPES = ("str", "decimal", "period", "skipped")
# Table B is computed from the C tables and never stored.
STORED_KINDS = ("A", "C")
REMINDER_STATUSES = tuple(status.value for status in ReminderStatus)
PENDING_KINDS = tuple(kind.value for kind in PendingKind)


def utcnow() -> datetime:
    return datetime.now(UTC)


class DecimalText(TypeDecorator[Decimal]):
    """A Decimal stored as its exact text (`str(value)`), never as a float."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"DecimalText takes Decimal values, not {type(value).__name__}")
        if not value.is_finite():
            raise ValueError(f"cannot store the non-finite decimal {value}")
        return str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, normalised to UTC; naive values are refused.

    PostgreSQL keeps it as `timestamptz`; SQLite keeps the naive UTC text, which also sorts and
    compares correctly because every stored value uses the same offset.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def python_type(self) -> type[datetime]:
        return datetime


def _enum(cls: type[StrEnum], name: str) -> Enum:
    """A portable enum: VARCHAR plus a CHECK constraint, storing the members' values."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    if TYPE_CHECKING:
        # DeclarativeBase types it as any FromClause; every model here is declared by
        # `__tablename__`, so it is mapped to a Table (and the repositories build Core
        # statements on it).
        __table__: ClassVar[Table]

    metadata = metadata
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        Decimal: DecimalText(),
        str: Text(),
    }


class DepartmentRow(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str] = mapped_column(server_default="")
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), index=True
    )
    bot_blocked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserColumns(Protocol):
    """A users row as the repositories read it: a UserRow, or a Core row of the table (the
    statements built once, storage.repos._sql.run), which has the same names."""

    @property
    def id(self) -> int: ...
    @property
    def telegram_id(self) -> int: ...
    @property
    def display_name(self) -> str: ...
    @property
    def role(self) -> Role: ...
    @property
    def department_id(self) -> int | None: ...
    @property
    def bot_blocked_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...


class SupervisorDepartmentRow(Base):
    """Which departments a supervisor oversees."""

    __tablename__ = "supervisor_departments"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class RoundRow(Base):
    __tablename__ = "filing_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int]
    layout: Mapped[str] = mapped_column(String(32))
    title: Mapped[str]
    deadline: Mapped[datetime]
    days_before: Mapped[str] = mapped_column(String(100))  # "7,3,1"
    remind_on_day: Mapped[bool]
    overdue_every_days: Mapped[int]
    overdue_max: Mapped[int]
    quiet_start: Mapped[str] = mapped_column(String(5))  # "21:00"
    quiet_end: Mapped[str] = mapped_column(String(5))  # "08:00"
    digest_hour: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed: Mapped[bool] = mapped_column(default=False, server_default=false())


class InviteRow(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE")
    )
    # None for invites made from the command line (the first admin's).
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FormRow(Base):
    __tablename__ = "forms"
    __table_args__ = (
        UniqueConstraint("department_id", "round_id", "kind", "instance_name"),
        CheckConstraint(_in("kind", STORED_KINDS), name="kind"),
        # A: exactly one per department and round (''); C: NULL until the direction is named.
        CheckConstraint(
            "(kind = 'A' AND instance_name = '') OR "
            "(kind = 'C' AND (instance_name IS NULL OR instance_name <> ''))",
            name="instance_name",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(
        ForeignKey("filing_rounds.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(1))
    instance_name: Mapped[str | None]
    status: Mapped[FormStatus] = mapped_column(_enum(FormStatus, "form_status"))
    cursor: Mapped[str] = mapped_column(server_default="")
    version: Mapped[int] = mapped_column(default=0)
    review_comment: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class FormColumns(Protocol):
    """A forms row as the repositories read it: a FormRow, or a Core row of the table (the
    statements built once, storage.repos._sql.run), which has the same names."""

    @property
    def id(self) -> int: ...
    @property
    def department_id(self) -> int: ...
    @property
    def round_id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def instance_name(self) -> str | None: ...
    @property
    def status(self) -> FormStatus: ...
    @property
    def cursor(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def review_comment(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def updated_by(self) -> int | None: ...


class AnswerRow(Base):
    __tablename__ = "answers"
    __table_args__ = (
        CheckConstraint(_in("type", ANSWER_TYPES), name="type"),
        CheckConstraint("(type = 'skipped') = (text IS NULL)", name="skipped_has_no_text"),
    )

    form_id: Mapped[int] = mapped_column(
        ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(10))
    text: Mapped[str | None]


class GroupRowRow(Base):
    """One row of a repeating group; position -1 marks a group that exists but has no rows."""

    __tablename__ = "group_rows"
    __table_args__ = (CheckConstraint("position >= -1", name="position"),)

    form_id: Mapped[int] = mapped_column(
        ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True
    )
    group_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    cells: Mapped[list[list[str]]] = mapped_column(JSON)


class IndicatorRowRow(Base):
    __tablename__ = "indicator_rows"
    __table_args__ = (CheckConstraint("position >= 0", name="position"),)

    form_id: Mapped[int] = mapped_column(
        ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    level2: Mapped[str] = mapped_column(String(100))
    name: Mapped[str]
    value: Mapped[str]
    # The Reading; nature is NULL when the row has no reading yet.
    nature: Mapped[str | None] = mapped_column(String(16))
    comparator: Mapped[str | None] = mapped_column(String(16))
    number: Mapped[Decimal | None]
    unit: Mapped[str | None]
    grade: Mapped[str | None] = mapped_column(String(16))
    sure: Mapped[bool | None]
    confirmed: Mapped[bool | None]
    remark: Mapped[str | None]
    explanation: Mapped[str | None]
    scoring: Mapped[str | None]
    weight: Mapped[Decimal | None]
    visited: Mapped[list[str]] = mapped_column(JSON)


class AuditRow(Base):
    """Append-only (triggers refuse UPDATE and DELETE). `form_id` has no foreign key so that
    the history of a deleted form stays."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # No ON DELETE action: that would UPDATE audit rows. Users are blocked, never deleted.
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    form_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(50))
    field_key: Mapped[str | None]
    old_value: Mapped[str | None]
    new_value: Mapped[str | None]


class ReminderRow(Base):
    __tablename__ = "reminder_log"
    __table_args__ = (
        UniqueConstraint("user_id", "form_id", "due_at", "kind"),
        CheckConstraint(_in("status", REMINDER_STATUSES), name="status"),
        Index("ix_reminder_log_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(ForeignKey("filing_rounds.id", ondelete="CASCADE"))
    due_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(
        String(16), default=ReminderStatus.PENDING.value, server_default="pending"
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestRow(Base):
    """One daily digest of a round to one supervisor: the row is the claim, written before the
    send, so a digest goes out at most once a day whatever the number of bot processes."""

    __tablename__ = "digests_sent"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    round_id: Mapped[int] = mapped_column(
        ForeignKey("filing_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)  # the local day of the digest
    sent_at: Mapped[datetime]


class ChatSessionRow(Base):
    """Which form a user is filling and the version they last saw (for resume and for telling
    them when a colleague changed the form in between)."""

    __tablename__ = "chat_sessions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    form_id: Mapped[int | None] = mapped_column(ForeignKey("forms.id", ondelete="SET NULL"))
    seen_version: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboxRow(Base):
    """An update from Telegram, stored before Telegram is told it arrived (branch inbox).

    `claimed_by` is the worker (one per bot process) handling it; `done_at` is set in the same
    transaction as the answer the update caused, so an update is applied once whatever crashes;
    `replied_at` once its handling returned (its reply sent)."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_replied_at", "replied_at"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the update as Telegram sent it
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[int | None] = mapped_column(BigInteger)
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    done_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
class PendingInputRow(Base):
    """What a user is in the middle of between two updates: a return comment being typed, an
    import waiting for confirmation. One per user and kind; refused after `expires_at`."""

    __tablename__ = "pending_inputs"
    __table_args__ = (CheckConstraint(_in("kind", PENDING_KINDS), name="kind"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Which entry this is: taking it deletes by token, so two processes cannot both take it.
    token: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)  # the uploaded workbook
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


__all__ = [
    "ANSWER_TYPES",
    "PENDING_KINDS",
    "REMINDER_STATUSES",
    "STORED_KINDS",
    "AnswerRow",
    "AuditRow",
    "Base",
    "ChatSessionRow",
    "DecimalText",
    "DepartmentRow",
    "FormRow",
    "GroupRowRow",
    "InboxRow",
    "IndicatorRowRow",
    "InviteRow",
    "PendingInputRow",
    "ReminderRow",
    "RoundRow",
    "SupervisorDepartmentRow",
    "UTCDateTime",
    "UserRow",
    "metadata",
    "utcnow",
]
