"""closed days: days an admin closed one centre (issue 17)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 12:00:00.000000

- `closed_days`: one row per centre and day it is closed (unique), with the reason shown
  to staff and in the messages, who closed it and when. Offers skip the day and a booking
  of one of its slots is refused with 409 `centre_closed` (inventory/closures.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "closed_days",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["centres.id"],
            name=op.f("fk_closed_days_centre_id_centres"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closed_days")),
        sa.UniqueConstraint("centre_id", "day", name="uq_closed_days_centre_day"),
    )


def downgrade() -> None:
    op.drop_table("closed_days")
