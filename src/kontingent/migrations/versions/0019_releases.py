"""releases: contingent releases an operator scheduled, and what each made per centre

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 12:00:00.000000

- `releases`: one row per release (vaccine, days, release minute, status, who, totals). The
  partial index `ix_releases_due` holds the scheduled ones only: the scheduler's read.
- `release_centres`: per release and centre the contingent made there and its slots, seats
  and phone-reserved seats (the history per centre).
Additive: the contingents and slots a release makes are ordinary rows of their tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("vaccine_code", sa.String(40), sa.ForeignKey("vaccines.code",
                  name="fk_releases_vaccine_code_vaccines"), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("all_centres", sa.Boolean(), nullable=False),
        sa.Column("release_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("phone_share_percent", sa.SmallInteger(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("phone_seats", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite")),
        sa.Column("executed_at", sa.DateTime()),
        sa.Column("cancelled_at", sa.DateTime()),
        sa.Column("cancelled_by", sa.String(64)),
        sa.CheckConstraint("status IN ('scheduled', 'done', 'cancelled')",
                           name="ck_releases_status_known"),
        sa.CheckConstraint("first_day <= last_day", name="ck_releases_days_ordered"),
        sa.PrimaryKeyConstraint("id", name="pk_releases"),
    )  # fmt: skip
    op.create_index(
        "ix_releases_due", "releases", ["release_at"],
        sqlite_where=sa.text("status = 'scheduled'"),
        postgresql_where=sa.text("status = 'scheduled'"),
    )  # fmt: skip
    op.create_index("ix_releases_release_at", "releases", ["release_at"])
    op.create_table(
        "release_centres",
        sa.Column("release_id", sa.Integer(), sa.ForeignKey(
            "releases.id", ondelete="CASCADE", name="fk_release_centres_release_id_releases"),
            nullable=False),
        sa.Column("centre_id", sa.Integer(), sa.ForeignKey(
            "centres.id", name="fk_release_centres_centre_id_centres"), nullable=False),
        sa.Column("contingent_id", sa.Integer(), sa.ForeignKey(
            "contingents.id", name="fk_release_centres_contingent_id_contingents")),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("phone_seats", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("release_id", "centre_id", name="pk_release_centres"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("release_centres")
    op.drop_index("ix_releases_release_at", table_name="releases")
    op.drop_index("ix_releases_due", table_name="releases")
    op.drop_table("releases")
