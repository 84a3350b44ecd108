"""The schema as the numbered SQL migrations 0001-0011 left it, on SQLite and PostgreSQL alike.

An SQLite file made by older code is brought to 0011 by those SQL files and stamped with this
revision; a new database (either kind) is created by it. tests/test_migrations.py checks that
both roads give SQLite the same schema.

Revision ID: r0011
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0011"
down_revision = None
branch_labels = None
depends_on = None

# Telegram ids and chat ids need 64 bits on PostgreSQL; on SQLite every INTEGER has them, and
# `INTEGER PRIMARY KEY` (exactly) is what makes a rowid alias.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TEXT = sa.Text()


def _key(name: str = "id", *, auto: bool = True) -> sa.Column:
    return sa.Column(name, ID, primary_key=True, autoincrement=auto)


def _text(name: str, *, null: bool = True, default: str | None = None) -> sa.Column:
    return sa.Column(
        name, TEXT, nullable=null, server_default=None if default is None else default
    )


def _int(name: str, *, null: bool = True, default: int | None = None) -> sa.Column:
    server_default = None if default is None else sa.text(str(default))
    return sa.Column(name, ID, nullable=null, server_default=server_default)


def _ref(name: str, target: str, *, null: bool = True, cascade: bool = False) -> sa.Column:
    key = sa.ForeignKey(target, ondelete="CASCADE" if cascade else None)
    return sa.Column(name, ID, key, nullable=null)


def _one_of(column: str, *values: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} IN ({', '.join(repr(v) for v in values)})")


def _matches(sqlite: str, postgresql: str) -> str:
    """A pattern check: SQLite's GLOB and PostgreSQL's regular expression say the same."""
    return postgresql if op.get_bind().dialect.name == "postgresql" else sqlite


def upgrade() -> None:
    op.create_table(
        "users",
        _key(auto=False),
        _text("language"),
        _text("role", null=False, default="guest"),
        _text("first_seen", null=False),
        _text("first_name"),
        _text("username"),
        sa.CheckConstraint("language IN ('uk', 'en')"),
        _one_of("role", "guest", "member", "coordinator"),
    )
    op.create_table(
        "dialog_states",
        sa.Column("key", TEXT, primary_key=True),
        _text("state"),
        _text("data", null=False, default="{}"),
        _text("updated_at", null=False),
    )
    edrpou = _matches("edrpou NOT GLOB '*[^0-9]*'", "edrpou ~ '^[0-9]+$'")
    op.create_table(
        "organisations",
        _key(),
        _text("name", null=False),
        _text("name_key", null=False),
        sa.Column("edrpou", TEXT, unique=True),
        _text("status", null=False, default="pending"),
        _text("contact"),
        _text("created_at", null=False),
        _text("contact_person"),
        _text("areas", null=False, default="[]"),
        _int("registered_by"),
        _text("deactivated_at"),
        sa.CheckConstraint(f"edrpou IS NULL OR (length(edrpou) = 8 AND {edrpou})"),
        _one_of("status", "pending", "verified", "rejected"),
    )
    op.create_index("organisations_name", "organisations", ["name_key"], unique=True)
    op.create_table(
        "activities",
        _key(),
        _text("plan_id", null=False),
        _text("indicator_id", null=False),
        _text("measure_code", null=False),
        _ref("organisation_id", "organisations.id", null=False),
        _int("reported_by"),
        _text("date", null=False),
        _int("quantity", null=False),
        _int("cso_participants"),
        _int("council_participants"),
        _text("title", null=False),
        _text("description", null=False, default=""),
        _text("evidence_url"),
        _text("status", null=False),
        _ref("duplicate_of", "activities.id"),
        _text("created_at", null=False),
        _text("updated_at", null=False),
        _text("evidence_kind"),
        _text("evidence_file_id"),
        _text("co_organisers", null=False, default=""),
        _text("review_comment"),
        _int("reviewed_by"),
        _text("reviewed_at"),
        sa.CheckConstraint("quantity > 0"),
        sa.CheckConstraint("cso_participants >= 0"),
        sa.CheckConstraint("council_participants >= 0"),
        _one_of("status", "draft", "submitted", "returned", "approved", "rejected"),
        sa.CheckConstraint(
            "evidence_kind IS NULL OR evidence_kind IN ('link', 'photo', 'document')"
        ),
    )
    op.create_index("activities_progress", "activities", ["plan_id", "status", "indicator_id"])
    op.create_index("activities_by_reporter", "activities", ["reported_by", "status"])
    counted = sa.text("duplicate_of IS NULL")
    op.create_index(
        "activities_counted",
        "activities",
        ["plan_id", "status", "indicator_id", "date", "quantity", "cso_participants",
         "council_participants", "organisation_id"],
        sqlite_where=counted,
        postgresql_where=counted,
    )  # fmt: skip
    op.create_table(
        "activity_credits",
        _ref("activity_id", "activities.id", null=False, cascade=True),
        _ref("organisation_id", "organisations.id", null=False),
        sa.PrimaryKeyConstraint("activity_id", "organisation_id"),
    )
    op.create_table(
        "audit_log",
        _key(),
        _text("at", null=False),
        _int("actor"),
        _text("entity", null=False),
        _int("entity_id", null=False),
        _text("action", null=False),
        _text("reason"),
    )
    op.create_table(
        "subscribers",
        _key("user_id", auto=False),
        _int("chat_id", null=False),
        _int("active", null=False, default=1),
        _text("consented_at", null=False),
        _text("unsubscribed_at"),
        _text("inactive_reason"),
        sa.CheckConstraint("active IN (0, 1)"),
    )
    op.create_index("subscribers_chat", "subscribers", ["chat_id"])
    op.create_index("subscribers_active", "subscribers", ["active", "chat_id"])
    month = _matches(
        "month GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]'", "month ~ '^[0-9]{4}-[0-1][0-9]$'"
    )
    op.create_table(
        "newsletters",
        _key(),
        sa.Column("month", TEXT, nullable=False, unique=True),
        _text("status", null=False, default="draft"),
        _text("intro", null=False, default=""),
        _text("parts", null=False, default="[]"),
        _text("created_at", null=False),
        _int("approved_by"),
        _text("started_at"),
        _text("finished_at"),
        _text("sender"),
        _text("sender_seen"),
        _ref("activity_id", "activities.id"),
        _text("waiting_told_at"),
        _text("draft_told_at"),
        sa.CheckConstraint(month),
        _one_of("status", "draft", "approved", "sending", "paused", "cancelled", "sent"),
    )
    op.create_table(
        "deliveries",
        _ref("newsletter_id", "newsletters.id", null=False),
        _int("chat_id", null=False),
        _text("state", null=False, default="pending"),
        _int("parts_sent", null=False, default=0),
        _int("attempts", null=False, default=0),
        _text("last_error"),
        _text("sent_at"),
        _text("next_attempt_at"),
        _int("waits", null=False, default=0),
        sa.PrimaryKeyConstraint("newsletter_id", "chat_id"),
        _one_of("state", "pending", "sent", "failed"),
        sqlite_with_rowid=False,
    )
    op.create_index("deliveries_state", "deliveries", ["newsletter_id", "state", "chat_id"])
    op.create_table(
        "newsletter_indicators",
        _ref("newsletter_id", "newsletters.id", null=False, cascade=True),
        _text("indicator_id", null=False),
        _int("year", null=False),
        sa.PrimaryKeyConstraint("newsletter_id", "indicator_id", "year"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "memberships",
        _int("user_id", null=False),
        _ref("organisation_id", "organisations.id", null=False),
        _text("status", null=False, default="pending"),
        _text("requested_at", null=False),
        _int("decided_by"),
        _text("decided_at"),
        sa.PrimaryKeyConstraint("user_id", "organisation_id"),
        _one_of("status", "pending", "approved", "rejected"),
    )
    op.create_index("memberships_pending", "memberships", ["status", "organisation_id"])
    op.create_table(
        "coordinators",
        _key("user_id", auto=False),
        _int("added_by"),
        _text("added_at", null=False),
    )
    op.create_table(
        "events",
        _key(),
        _text("title", null=False),
        _text("starts_at", null=False),
        _text("ends_at", null=False),
        _text("place", null=False),
        _text("organiser", null=False),
        _ref("organisation_id", "organisations.id"),
        _text("measures", null=False, default="[]"),
        _text("description", null=False, default=""),
        _int("capacity"),
        _text("status", null=False, default="pending"),
        _int("proposed_by"),
        _int("created_by", null=False),
        _text("created_at", null=False),
        _text("reminded_at"),
        _text("report_requested_at"),
        sa.CheckConstraint("capacity IS NULL OR capacity > 0"),
        _one_of("status", "pending", "approved", "rejected", "cancelled"),
        sa.CheckConstraint("ends_at > starts_at"),
    )
    op.create_index("events_upcoming", "events", ["status", "starts_at"])
    op.create_table(
        "event_attendance",
        _key(),
        _ref("event_id", "events.id", null=False, cascade=True),
        _int("user_id", null=False),
        _text("status", null=False),
        _text("created_at", null=False),
        sa.UniqueConstraint("event_id", "user_id"),
        _one_of("status", "going", "waiting"),
    )
    op.create_table(
        "projects",
        _key(),
        _text("title", null=False),
        _text("organisations", null=False),
        _text("measures", null=False, default="[]"),
        _text("description", null=False, default=""),
        _text("link"),
        _text("active_until", null=False),
        _int("added_by", null=False),
        _text("created_at", null=False),
    )
    op.create_index("projects_active", "projects", ["active_until"])
    op.create_table(
        "received_updates",
        _key("update_id", auto=False),
        _text("payload", null=False),
        _text("received_at", null=False),
        _text("handled_at"),
    )
    unfinished = sa.text("handled_at IS NULL")
    op.create_index(
        "received_updates_unfinished",
        "received_updates",
        ["update_id"],
        sqlite_where=unfinished,
        postgresql_where=unfinished,
    )
    op.create_table(
        "outbox",
        _key(),
        _int("chat_id", null=False),
        _text("kind", null=False, default=""),
        _text("text", null=False),
        _text("markup"),
        _text("state", null=False, default="pending"),
        _int("attempts", null=False, default=0),
        _text("next_attempt_at", null=False),
        _text("claimed_by"),
        _text("claimed_until"),
        _text("last_error"),
        _text("created_at", null=False),
        _text("sent_at"),
        _one_of("state", "pending", "sent", "failed"),
    )
    op.create_index("outbox_due", "outbox", ["state", "next_attempt_at", "id"])


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: restore a backup instead")
