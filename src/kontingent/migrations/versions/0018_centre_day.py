"""centre day: what a centre records per appointment (check-in, vaccination, no-show)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 12:00:00.000000

- `appointments.checked_in_at`, `vaccinated_at`, `no_show_at`: when the door or the lane
  recorded it (UTC); `batch`: the vaccine's batch number (Chargennummer) given; `recorded_by`:
  the staff user who recorded the last of these; `vaccinated_by`: who recorded the vaccination.
- `ck_appointments_status_known`: an appointment is `booked`, `checked_in`, `vaccinated`,
  `no_show` or `cancelled` (the last when its booking or its second dose was let go).
- `ck_appointments_batch_shape`: a batch is 3 to 20 characters (the service checks letters,
  digits and `-`; the database keeps the length whatever code writes).
- `outbox.language`: the language a message is written in, so the relay writes an e-mail's
  Content-Language and its QR image's alt text in it (they were always German).
Additive: rows of old processes keep the new columns empty (outbox rows: "de", as before).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

STATUSES = "status IN ('booked', 'checked_in', 'vaccinated', 'no_show', 'cancelled')"
BATCH = "batch IS NULL OR length(batch) BETWEEN 3 AND 20"


def upgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checked_in_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("vaccinated_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("no_show_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("batch", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("vaccinated_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("recorded_by", sa.Integer(), nullable=True))
        batch_op.create_check_constraint("status_known", STATUSES)
        batch_op.create_check_constraint("batch_shape", BATCH)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=2), server_default="de", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_constraint("batch_shape", type_="check")
        batch_op.drop_constraint("status_known", type_="check")
        for column in (
            "recorded_by",
            "vaccinated_by",
            "batch",
            "no_show_at",
            "vaccinated_at",
            "checked_in_at",
        ):
            batch_op.drop_column(column)
