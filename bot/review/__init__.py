"""Review: a supervisor approves a submitted form, or returns it with a comment.

    service   ReviewService: the card, approve, return (the comment awaited in the database);
              it checks the Actor's right and opens the transactions; the notices to staff
              are rows of the reminder log (bot/reminders), approvals coalesced

The buttons and the comment are handled in bot/handlers/approval.py.
"""
