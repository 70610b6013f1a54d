"""offers: the recommended second-dose interval and days an admin opened despite a holiday

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 19:00:00.000000

- `vaccines.interval_recommended_days`: the interval a second dose is offered at when the
  calendar allows (offers pick the free day nearest to it inside [min, max]); existing
  vaccines get their minimum, which is what offers used so far.
- `opened_days`: a public holiday of NRW closes every centre unless a row here opens that day
  for one centre or, with `centre_id` NULL, for all of them (the admin console writes it;
  until then `kontingent open-day`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "vaccines",
        sa.Column("interval_recommended_days", sa.SmallInteger(), nullable=True),
    )
    op.execute("UPDATE vaccines SET interval_recommended_days = interval_min_days")
    op.create_table(
        "opened_days",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("centre_id", sa.Integer(), sa.ForeignKey("centres.id"), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_opened_days_day", "opened_days", ["day"])


def downgrade() -> None:
    op.drop_index("ix_opened_days_day", table_name="opened_days")
    op.drop_table("opened_days")
    op.execute("ALTER TABLE vaccines DROP COLUMN interval_recommended_days")
