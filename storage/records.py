"""What the repositories hand to callers: enums, frozen records and errors (no ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

from dialogs.definition import TableKind
from dialogs.state import FormState, FormStatus


class Role(StrEnum):
    ADMIN = "admin"
    DISTRICT_SUPERVISOR = "district_supervisor"
    SUPERVISOR = "supervisor"
    STAFF = "staff"


class ReminderStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"


class RedeemFailure(StrEnum):
    """Why an invite code was not accepted."""

    NOT_FOUND = "not_found"
    ALREADY_USED = "already_used"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Department:
    id: int
    name: str
    created_at: datetime


@dataclass(frozen=True)
class User:
    id: int
    telegram_id: int
    display_name: str
    role: Role
    department_id: int | None
    bot_blocked_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class ReminderPolicy:
    """When a round's reminders go out; stored as columns of `filing_rounds`."""

    days_before: tuple[int, ...] = (7, 3, 1)
    remind_on_day: bool = True
    overdue_every_days: int = 3
    overdue_max: int = 3
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    digest_hour: int | None = None

    def __post_init__(self) -> None:
        if any(day < 0 for day in self.days_before):
            raise ValueError("days_before must not be negative")
        if self.overdue_every_days < 1 or self.overdue_max < 0:
            raise ValueError("overdue_every_days must be >= 1 and overdue_max >= 0")
        if self.digest_hour is not None and not 0 <= self.digest_hour <= 23:
            raise ValueError("digest_hour must be within 0..23")
        for moment in (self.quiet_start, self.quiet_end):
            if moment.second or moment.microsecond or moment.tzinfo is not None:
                raise ValueError("quiet hours are naive HH:MM times")


@dataclass(frozen=True)
class Round:
    """A filing round (one year's collection of tables, with a deadline)."""

    id: int
    year: int
    layout: str
    title: str
    deadline: datetime
    policy: ReminderPolicy
    created_at: datetime
    closed: bool


@dataclass(frozen=True)
class Invite:
    id: int
    code: str
    role: Role
    department_id: int | None
    created_by: int | None
    expires_at: datetime
    used_by: int | None
    used_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class StoredForm:
    """One stored form with its state; `state.status` and `state.version` mirror the columns."""

    id: int
    department_id: int
    round_id: int
    kind: TableKind
    # None for table A and for a table C whose direction is not named yet.
    instance_name: str | None
    status: FormStatus
    version: int
    review_comment: str | None
    created_at: datetime
    updated_at: datetime
    updated_by: int | None
    state: FormState


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor_user_id: int | None
    form_id: int | None
    action: str
    field_key: str | None
    old_value: str | None
    new_value: str | None


@dataclass(frozen=True)
class ReminderEntry:
    id: int
    user_id: int
    form_id: int
    round_id: int
    due_at: datetime
    kind: str
    status: ReminderStatus
    attempts: int
    claimed_at: datetime | None
    claimed_by: str | None
    sent_at: datetime | None
    last_error: str | None


class StorageError(Exception):
    """Base class of the errors the repositories raise on purpose."""


class NotFoundError(StorageError, LookupError):
    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} {key!r} does not exist")
        self.what = what
        self.key = key


class AlreadyExistsError(StorageError):
    """A unique key (department name, form key, telegram id) is taken."""


class StaleVersionError(StorageError):
    """The form changed since the caller loaded it; `current` is what is stored now."""

    def __init__(self, current: StoredForm, expected_version: int) -> None:
        super().__init__(
            f"form {current.id} is at version {current.version}, not {expected_version}"
        )
        self.current = current
        self.expected_version = expected_version


# --- pending inputs (branch imports) -----------------------------------------------------------


class PendingKind(StrEnum):
    """What a user is in the middle of between two updates (kept in the database, with expiry,
    so a restart or a second bot process continues it)."""

    RETURN_COMMENT = "return_comment"  # a supervisor is typing a return comment
    IMPORT = "import"  # a planned workbook import waits for confirmation
