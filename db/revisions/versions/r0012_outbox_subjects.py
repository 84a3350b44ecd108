"""A message with buttons about something that can be decided names it, and keeps Telegram's id.

When one coordinator decides a report, a registration, a join request or a proposed event, the
buttons of the copies the other coordinators got are taken away: `subject` (e.g. 'report:12')
finds them, `message_id` is Telegram's id of each once sent.

Revision ID: r0012
Revises: r0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0012"
down_revision = "r0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as table:
        table.add_column(sa.Column("subject", sa.Text(), nullable=True))
        table.add_column(
            sa.Column(
                "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
    op.create_index("outbox_subject", "outbox", ["subject"])


def downgrade() -> None:
    op.drop_index("outbox_subject", table_name="outbox")
    with op.batch_alter_table("outbox") as table:
        table.drop_column("message_id")
        table.drop_column("subject")
