"""Deadlines and reminders: planning them, claiming them, sending them (issue #5).

    schedule    pure: a round's reminder moments (kinds before_7d, on_day, overdue_1 …)
    planner     the database → reminder-log rows (idempotent)
    dispatcher  claim due rows, send one message per user, mark them (at-least-once; see there;
                the claims are ReminderLogRepository's conditional UPDATEs)
    compose     the text of a reminder or a review notice (approvals coalesced: COALESCE_WINDOW)
    transport   the Transport protocol and TelegramTransport (paced by bot/ratelimit.py, the
                application's one limiter, like any reply)
    digest      the daily digest to supervisors (the /status report, claimed in digests_sent)
    remind      what /remind did, read back from the log for an honest reply
    service     what /remind and /policy may do for an Actor (handlers: bot/handlers/reminders.py)
    jobs        install_reminders: the JobQueue ticks

Review (bot/review) and /status (bot/status) live beside the handlers; review notices are
rows of the reminder log, sent by the dispatcher. Wiring (bot/startup.py):
`install_reminders(application, database, settings)` before the application starts.
"""

from bot.reminders.jobs import RUNTIME_KEY, ReminderConfig, ReminderRuntime, install_reminders

__all__ = ["RUNTIME_KEY", "ReminderConfig", "ReminderRuntime", "install_reminders"]
