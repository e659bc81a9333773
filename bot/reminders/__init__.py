"""Deadlines, reminders, the daily digest and review (issue #5).

    schedule    pure: a round's reminder moments (kinds before_7d, on_day, overdue_1 …)
    planner     the database → reminder-log rows (idempotent)
    dispatcher  claim due rows, send one message per user, mark them (at-least-once; see there)
    transport   the Transport protocol and TelegramTransport (paced by bot/ratelimit.py, the
                application's one limiter, like any reply)
    digest      the daily digest to supervisors
    review_flow approve / return with a comment, notices through the log (approvals are
                coalesced: see compose.COALESCE_WINDOW and claims.absorb)
    remind      what /remind did, read back from the log for an honest reply
    jobs        install_reminders: the JobQueue ticks        commands  /status /remind /policy

Wiring (bot/startup.py): `install_reminders(application, database, settings)` then
`register(application)`, both before the application starts.
"""

from bot.reminders.commands import register
from bot.reminders.jobs import RUNTIME_KEY, ReminderConfig, ReminderRuntime, install_reminders

__all__ = ["RUNTIME_KEY", "ReminderConfig", "ReminderRuntime", "install_reminders", "register"]
