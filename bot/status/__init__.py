"""Where a round stands: /status with its picture, and the progress the /fill menu shows.

    service   StatusService: the round for an Actor (their scope), a department's forms
    report    RoundReport: departments overdue first, with progress and indicator quality
    picture   the round as a picture above /status (drawn off the event loop, cached)

The handler is bot/handlers/status.py; the daily digest (bot/reminders/digest.py) sends the same
report on a schedule.
"""
