"""notifications: e-mail calendar attachments, message expiry, per-channel claims, reminders

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:00:00.000000

Adds nullable columns only (no table rewrite on SQLite or PostgreSQL):
- outbox.calendar: the iCalendar attachment of a booking confirmation e-mail;
- outbox.expires_at: a PIN SMS not delivered within its validity is parked, not sent late;
- appointments.reminded_at: the day-before reminder is queued once per appointment.
The pending index gains the channel (relays claim per channel) and the id (the claim's
tie-break), and parked messages get an index of their own so listing them stays cheap.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PENDING = "sent_at IS NULL AND parked_at IS NULL"
PARKED = "parked_at IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch_op.drop_index(
            "ix_outbox_pending",
            sqlite_where=sa.text(PENDING),
            postgresql_where=sa.text(PENDING),
        )
        batch_op.create_index(
            "ix_outbox_pending",
            ["channel", "priority", "available_at", "id"],
            unique=False,
            sqlite_where=sa.text(PENDING),
            postgresql_where=sa.text(PENDING),
        )
        batch_op.create_index(
            "ix_outbox_parked",
            ["parked_at"],
            unique=False,
            sqlite_where=sa.text(PARKED),
            postgresql_where=sa.text(PARKED),
        )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_parked",
            sqlite_where=sa.text(PARKED),
            postgresql_where=sa.text(PARKED),
        )
        batch_op.drop_index(
            "ix_outbox_pending",
            sqlite_where=sa.text(PENDING),
            postgresql_where=sa.text(PENDING),
        )
        batch_op.create_index(
            "ix_outbox_pending",
            ["priority", "available_at"],
            unique=False,
            sqlite_where=sa.text(PENDING),
            postgresql_where=sa.text(PENDING),
        )
        batch_op.drop_column("expires_at")
        batch_op.drop_column("calendar")
