"""digests sent: a table of its own instead of `digest_sent` rows in the audit log

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

The digests already recorded in the audit log are copied into the new table, so that the
upgrade does not send today's digest a second time. They are copied, not moved: the audit log
is append-only (its triggers refuse DELETE), and what it says about the past stays true. The
downgrade copies the other way the digests recorded since, for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIGEST_ACTION = "digest_sent"  # the audit action of the digests before this revision

_audit = sa.table(
    "audit_log",
    sa.column("id", sa.Integer()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor_user_id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("field_key", sa.Text()),
    sa.column("new_value", sa.Text()),
)
_digests = sa.table(
    "digests_sent",
    sa.column("user_id", sa.Integer()),
    sa.column("round_id", sa.Integer()),
    sa.column("day", sa.Date()),
    sa.column("sent_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table(
        "digests_sent",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["filing_rounds.id"],
            name=op.f("fk_digests_sent_round_id_filing_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_digests_sent_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "round_id", "day", name=op.f("pk_digests_sent")),
    )
    _copy_from_audit_log()


def downgrade() -> None:
    _copy_to_audit_log()
    op.drop_table("digests_sent")


def _parse(field_key: str | None, new_value: str | None) -> tuple[int, int, date] | None:
    """(user, round, day) of an audit row `<round>:<yyyy-mm-dd>` / `<user>`, None if garbled."""
    try:
        round_text, day_text = (field_key or "").split(":", 1)
        return int(new_value or ""), int(round_text), date.fromisoformat(day_text)
    except ValueError:
        return None


def _copy_from_audit_log() -> None:
    connection = op.get_bind()
    users = set(connection.scalars(sa.text("SELECT id FROM users")))
    rounds = set(connection.scalars(sa.text("SELECT id FROM filing_rounds")))
    found = connection.execute(
        sa.select(_audit.c.at, _audit.c.field_key, _audit.c.new_value)
        .where(_audit.c.action == DIGEST_ACTION)
        .order_by(_audit.c.id)
    )
    rows: dict[tuple[int, int, date], datetime] = {}
    for at, field_key, new_value in found:
        key = _parse(field_key, new_value)
        if key is not None and key[0] in users and key[1] in rounds:
            rows.setdefault(key, at)  # the first record of a digest is when it was sent
    if rows:
        op.bulk_insert(
            _digests,
            [
                {"user_id": user, "round_id": round_id, "day": day, "sent_at": at}
                for (user, round_id, day), at in rows.items()
            ],
        )


def _copy_to_audit_log() -> None:
    connection = op.get_bind()
    recorded = {
        _parse(field_key, new_value)
        for field_key, new_value in connection.execute(
            sa.select(_audit.c.field_key, _audit.c.new_value).where(
                _audit.c.action == DIGEST_ACTION
            )
        )
    }
    found = connection.execute(
        sa.select(_digests.c.user_id, _digests.c.round_id, _digests.c.day, _digests.c.sent_at)
    )
    missing = [
        {
            "at": sent_at,
            "actor_user_id": None,
            "action": DIGEST_ACTION,
            "field_key": f"{round_id}:{day.isoformat()}",
            "new_value": str(user),
        }
        for user, round_id, day, sent_at in found
        if (user, round_id, day) not in recorded
    ]
    if missing:
        op.bulk_insert(_audit, missing)
