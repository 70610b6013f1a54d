"""dash: an index for the dashboard's bookings per minute, and the population table

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 12:00:00.000000

- `ix_bookings_created_at`: the dashboard counts the bookings of the last hour by minute and
  channel; through this index that read touches the last hour's rows only, not every booking.
- `population`: inhabitants per district and age group, imported by `kontingent population
  import FILE.csv` (admin/population.py); the statistics give each cohort's share of it.
  Empty until imported: no figure is made up.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_bookings_created_at", "bookings", ["created_at"])
    op.create_table(
        "population",
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("age_from", sa.SmallInteger(), nullable=False),
        sa.Column("age_to", sa.SmallInteger(), nullable=True),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.CheckConstraint("age_from >= 0", name="ck_population_age_from_positive"),
        sa.CheckConstraint(
            "age_to IS NULL OR age_to >= age_from", name="ck_population_ages_ordered"
        ),
        sa.CheckConstraint("people >= 0", name="ck_population_people_positive"),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name="fk_population_district_id_districts"
        ),
        sa.PrimaryKeyConstraint("district_id", "age_from", name="pk_population"),
    )


def downgrade() -> None:
    op.drop_table("population")
    op.drop_index("ix_bookings_created_at", table_name="bookings")
