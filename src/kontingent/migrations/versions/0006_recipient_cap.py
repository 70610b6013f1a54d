"""recipient cap: whom each queued message counts against, and an index to count them

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00.000000

Adds the nullable column `outbox.recipient_key` (the folded recipient of every message but a
PIN) and a partial index on (recipient_key, created_at) that serves the per-recipient cap's
count of one recipient's messages in the last period. PIN rows keep the column NULL and so
cost the index nothing. Rows queued before this migration have no key and do not count:
additive, so old and new web processes can run side by side during a rolling deploy.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

KEYED = "recipient_key IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipient_key", sa.String(length=254), nullable=True))
        batch_op.create_index(
            "ix_outbox_recipient_recent",
            ["recipient_key", "created_at"],
            unique=False,
            sqlite_where=sa.text(KEYED),
            postgresql_where=sa.text(KEYED),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_recipient_recent",
            sqlite_where=sa.text(KEYED),
            postgresql_where=sa.text(KEYED),
        )
        batch_op.drop_column("recipient_key")
