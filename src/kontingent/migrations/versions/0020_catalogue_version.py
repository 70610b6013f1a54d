"""catalogue version: one counter every change of the catalogue raises (issue 17)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 17:30:00.000000

- `catalogue_version`: one row (`id` = 1, a CHECK) with `version`, raised by one in the same
  transaction as every change of centres, opening hours, closed and opened days, vaccines,
  cohorts, the booking window and postcodes. Every process reads it by primary key at most
  once a second and reads its catalogue anew when it moved (inventory/catalogue_version.py):
  a change reaches each process within a second even without Redis.
Additive: the row starts at 0; nothing else changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "catalogue_version",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_catalogue_version_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_version")),
    )
    op.bulk_insert(table, [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.drop_table("catalogue_version")
