"""A guard beside the access matrix: no handler decides access or opens a transaction itself.

Handlers turn an update into a service call that takes the `Actor` (FilingService, Directory,
ImportService, CarryOverService) and turn its result or its typed refusal into messages; the
rules live in the services, so the terminal and any later channel meet the same ones. The real
proof is tests/bot/test_access_matrix.py (every command and button, every role, through the
Application); this scan only stops the old pattern from creeping back.
"""

from __future__ import annotations

import re
from pathlib import Path

import bot.handlers

HANDLERS = Path(bot.handlers.__file__).parent
FORBIDDEN = {
    r"\bmay_fill\(": "an access check (Actor.may_fill) belongs in the service",
    r"\bmay_view\(": "an access check (Actor.may_view) belongs in the service",
    r"\bmay_invite\(": "an access check (Actor.may_invite) belongs in the service",
    r"\.invitable_roles\(\)": "an access check (Actor.invitable_roles) belongs in the service",
    r"\bis_admin\b": "an access check (Actor.is_admin) belongs in the service",
    r"\.fills\b": "an access check (Actor.fills) belongs in the service",
    r"(?<![Dd]irectory)\.scope\b": "the visibility rule (Actor.scope) belongs in the service",
    r"\.(writing|reading|transaction)\(": "a transaction belongs in the service",
    r"\bSession\b|Repository\(": "database access belongs in the service",
}


def test_no_handler_checks_access_or_opens_a_transaction() -> None:
    found = []
    for path in sorted(HANDLERS.glob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            found += [
                f"{path.name}:{number}: {why}: {line.strip()}"
                for pattern, why in FORBIDDEN.items()
                if re.search(pattern, code)
            ]
    assert not found, "\n".join(found)


def test_the_guard_sees_what_it_forbids() -> None:
    """The patterns match the code they are meant to stop (a guard that cannot fail is none)."""
    samples = [
        "if not actor.may_fill(form.department_id):",
        "context.me.may_view(department.id)",
        "if actor.is_admin:",
        "if context.me.fills or not departments:",
        "scope = actor.scope",
        "with database.transaction() as session:",
        "with self.database.reading() as session:",
        "PendingInputRepository(session).discard(user_id)",
    ]
    for sample in samples:
        assert any(re.search(pattern, sample) for pattern in FORBIDDEN), sample
