"""waiting room records: the admission a booking used, and the operator's room settings

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:00:00.000000

Both used to live in Redis only, and a Redis restart without persistence lost them: an armed
room fell back to the environment's settings (off), and an admission already used could
book again. From here on:
- `bookings.admission` holds the ticket of the admission a booking was made with, written in
  the booking's own transaction; a partial unique index lets each admission book once. A
  booking that failed or was refused wrote nothing, so its admission stays usable.
- `waiting_room_settings` holds the one row `kontingent waiting-room set` writes before it
  tells Redis; a process that finds Redis empty puts it back from here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

USED = "admission IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("admission", sa.String(length=64), nullable=True))
    op.create_index(
        "uq_bookings_admission",
        "bookings",
        ["admission"],
        unique=True,
        sqlite_where=sa.text(USED),
        postgresql_where=sa.text(USED),
    )
    op.create_table(
        "waiting_room_settings",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("opens_at", sa.DateTime(), nullable=True),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("ttl_s", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_waiting_room_settings_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waiting_room_settings")),
    )


def downgrade() -> None:
    op.drop_table("waiting_room_settings")
    op.drop_index("uq_bookings_admission", table_name="bookings")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("admission")
