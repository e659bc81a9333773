"""Small typed repositories; each takes the caller's Session and returns frozen records."""

from storage.repos.audit import AuditChange, AuditRepository
from storage.repos.chat import ChatSession, ChatSessionRepository
from storage.repos.digests import DigestLogRepository
from storage.repos.forms import FormRepository
from storage.repos.inbox import InboxEntry, InboxRepository
from storage.repos.pending import (
    Expired,
    ImportWait,
    PendingInputRepository,
    PlannedForm,
    ReturnCommentWait,
)
from storage.repos.people import DepartmentRepository, InviteRepository, UserRepository
from storage.repos.reminders import ReminderLogRepository
from storage.repos.rounds import RoundRepository

__all__ = [
    "AuditChange",
    "AuditRepository",
    "ChatSession",
    "ChatSessionRepository",
    "DepartmentRepository",
    "DigestLogRepository",
    "Expired",
    "FormRepository",
    "ImportWait",
    "InboxEntry",
    "InboxRepository",
    "InviteRepository",
    "PendingInputRepository",
    "PlannedForm",
    "ReminderLogRepository",
    "ReturnCommentWait",
    "RoundRepository",
    "UserRepository",
]
