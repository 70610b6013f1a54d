"""message language: the language a booking, waitlist entry or PIN request was made in

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 19:30:00.000000

Adds `language` ("de" or "en", NOT NULL, default "de") to `bookings`, `waitlist` and
`verifications`, so that every SMS and e-mail (confirmations, reminders, cancellations,
waitlist SMS, PINs) goes out in the language the person used. Rows from before read as German,
the only language messages had then. Additive: old and new processes run side by side during
a rolling deploy (the old ones leave the default).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = ("bookings", "waitlist", "verifications")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("language", sa.String(length=2), server_default="de", nullable=False)
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("language")
