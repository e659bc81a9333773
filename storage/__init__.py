"""Persistence: the database is the source of truth for every accepted answer.

`Database()` connects to DATABASE_URL or the default SQLite file; `db.upgrade()` migrates it to
head; `with db.transaction() as session:` gives a session for the repositories, committed when
the block ends and rolled back when it raises.
"""

from storage.db import Database, database_url, make_engine, upgrade
from storage.records import (
    AlreadyExistsError,
    AuditEntry,
    Department,
    Invite,
    NotFoundError,
    RedeemFailure,
    ReminderEntry,
    ReminderPolicy,
    ReminderStatus,
    Role,
    Round,
    StaleVersionError,
    StorageError,
    StoredForm,
    User,
)
from storage.repos import (
    AuditChange,
    AuditRepository,
    DepartmentRepository,
    FormRepository,
    InviteRepository,
    ReminderLogRepository,
    RoundRepository,
    UserRepository,
)

__all__ = [
    "AlreadyExistsError",
    "AuditChange",
    "AuditEntry",
    "AuditRepository",
    "Database",
    "Department",
    "DepartmentRepository",
    "FormRepository",
    "Invite",
    "InviteRepository",
    "NotFoundError",
    "RedeemFailure",
    "ReminderEntry",
    "ReminderLogRepository",
    "ReminderPolicy",
    "ReminderStatus",
    "Role",
    "Round",
    "RoundRepository",
    "StaleVersionError",
    "StorageError",
    "StoredForm",
    "User",
    "UserRepository",
    "database_url",
    "make_engine",
    "upgrade",
]
