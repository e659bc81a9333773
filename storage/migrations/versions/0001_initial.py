"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Types are spelled out (no imports from storage.models) so that this file keeps describing the
first schema whatever the models become. DecimalText is TEXT; UTCDateTime is
DateTime(timezone=True).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("admin", "district_supervisor", "supervisor", "staff")
FORM_STATUSES = ("draft", "submitted", "returned", "approved")


def _timestamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _form_id() -> sa.Column[object]:
    return sa.Column("form_id", sa.Integer(), nullable=False)


def _form_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["form_id"], ["forms.id"], name=op.f(f"fk_{table}_form_id_forms"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("name", name=op.f("uq_departments_name")),
    )
    op.create_table(
        "filing_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("layout", sa.String(length=32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        _timestamp("deadline"),
        sa.Column("days_before", sa.String(length=100), nullable=False),
        sa.Column("remind_on_day", sa.Boolean(), nullable=False),
        sa.Column("overdue_every_days", sa.Integer(), nullable=False),
        sa.Column("overdue_max", sa.Integer(), nullable=False),
        sa.Column("quiet_start", sa.String(length=5), nullable=False),
        sa.Column("quiet_end", sa.String(length=5), nullable=False),
        sa.Column("digest_hour", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        sa.Column("closed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_rounds")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("display_name", sa.Text(), server_default="", nullable=False),
        sa.Column("role", _enum("role", ROLES), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        _timestamp("bot_blocked_at", nullable=True),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_users_department_id_departments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_users_telegram_id")),
    )
    op.create_index(op.f("ix_users_department_id"), "users", ["department_id"])
    op.create_table(
        "supervisor_departments",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_supervisor_departments_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_supervisor_departments_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "department_id", name=op.f("pk_supervisor_departments")),
    )
    op.create_index(
        op.f("ix_supervisor_departments_department_id"),
        "supervisor_departments",
        ["department_id"],
    )
    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("role", _enum("role", ROLES), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _timestamp("expires_at"),
        sa.Column("used_by", sa.Integer(), nullable=True),
        _timestamp("used_at", nullable=True),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_invites_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_invites_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["used_by"], ["users.id"], name=op.f("fk_invites_used_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invites")),
        sa.UniqueConstraint("code", name=op.f("uq_invites_code")),
    )
    op.create_table(
        "forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("instance_name", sa.Text(), nullable=True),
        sa.Column("status", _enum("form_status", FORM_STATUSES), nullable=False),
        sa.Column("cursor", sa.Text(), server_default="", nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("review_comment", sa.Text(), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(kind = 'A' AND instance_name = '') OR "
            "(kind = 'C' AND (instance_name IS NULL OR instance_name <> ''))",
            name=op.f("ck_forms_instance_name"),
        ),
        sa.CheckConstraint("kind IN ('A', 'C')", name=op.f("ck_forms_kind")),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_forms_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["filing_rounds.id"],
            name=op.f("fk_forms_round_id_filing_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_forms_updated_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forms")),
        sa.UniqueConstraint(
            "department_id",
            "round_id",
            "kind",
            "instance_name",
            name=op.f("uq_forms_department_id_round_id_kind_instance_name"),
        ),
    )
    op.create_index(op.f("ix_forms_round_id"), "forms", ["round_id"])
    op.create_table(
        "answers",
        _form_id(),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(type = 'skipped') = (text IS NULL)", name=op.f("ck_answers_skipped_has_no_text")
        ),
        sa.CheckConstraint(
            "type IN ('str', 'decimal', 'period', 'skipped')", name=op.f("ck_answers_type")
        ),
        _form_fk("answers"),
        sa.PrimaryKeyConstraint("form_id", "key", name=op.f("pk_answers")),
    )
    op.create_table(
        "group_rows",
        _form_id(),
        sa.Column("group_key", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.CheckConstraint("position >= -1", name=op.f("ck_group_rows_position")),
        _form_fk("group_rows"),
        sa.PrimaryKeyConstraint("form_id", "group_key", "position", name=op.f("pk_group_rows")),
    )
    op.create_table(
        "indicator_rows",
        _form_id(),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("level2", sa.String(length=100), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("nature", sa.String(length=16), nullable=True),
        sa.Column("comparator", sa.String(length=16), nullable=True),
        sa.Column("number", sa.Text(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("grade", sa.String(length=16), nullable=True),
        sa.Column("sure", sa.Boolean(), nullable=True),
        sa.Column("confirmed", sa.Boolean(), nullable=True),
        sa.Column("remark", sa.Text(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("scoring", sa.Text(), nullable=True),
        sa.Column("weight", sa.Text(), nullable=True),
        sa.Column("visited", sa.JSON(), nullable=False),
        sa.CheckConstraint("position >= 0", name=op.f("ck_indicator_rows_position")),
        _form_fk("indicator_rows"),
        sa.PrimaryKeyConstraint("form_id", "position", name=op.f("pk_indicator_rows")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _timestamp("at"),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("form_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("field_key", sa.Text(), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_audit_log_actor_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_form_id"), "audit_log", ["form_id"])
    _create_append_only_triggers()
    op.create_table(
        "reminder_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _form_id(),
        sa.Column("round_id", sa.Integer(), nullable=False),
        _timestamp("due_at"),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        _timestamp("claimed_at", nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        _timestamp("sent_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _timestamp("created_at"),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'blocked')",
            name=op.f("ck_reminder_log_status"),
        ),
        _form_fk("reminder_log"),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["filing_rounds.id"],
            name=op.f("fk_reminder_log_round_id_filing_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reminder_log_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_log")),
        sa.UniqueConstraint(
            "user_id",
            "form_id",
            "due_at",
            "kind",
            name=op.f("uq_reminder_log_user_id_form_id_due_at_kind"),
        ),
    )
    op.create_index("ix_reminder_log_status_due_at", "reminder_log", ["status", "due_at"])


def _create_append_only_triggers() -> None:
    """audit_log refuses UPDATE and DELETE."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


def downgrade() -> None:
    op.drop_index("ix_reminder_log_status_due_at", table_name="reminder_log")
    op.drop_table("reminder_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_index(op.f("ix_audit_log_form_id"), table_name="audit_log")
    op.drop_table("audit_log")  # SQLite drops the table's triggers with it
    op.drop_table("indicator_rows")
    op.drop_table("group_rows")
    op.drop_table("answers")
    op.drop_index(op.f("ix_forms_round_id"), table_name="forms")
    op.drop_table("forms")
    op.drop_table("invites")
    op.drop_index(op.f("ix_supervisor_departments_department_id"), table_name="supervisor_departments")
    op.drop_table("supervisor_departments")
    op.drop_index(op.f("ix_users_department_id"), table_name="users")
    op.drop_table("users")
    op.drop_table("filing_rounds")
    op.drop_table("departments")
