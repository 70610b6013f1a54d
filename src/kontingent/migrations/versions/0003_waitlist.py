"""waitlist: one SMS when offers appear for a centre and vaccine

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:00:00.000000

Adds one table; nothing existing changes. A partial unique index keeps one waiting entry per
phone, centre and vaccine (per campaign); a second partial index serves the notifier's scan of
what is still waiting.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

WAITING = "notified_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "waitlist",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("vaccine_code", sa.String(length=40), nullable=False),
        sa.Column("persons", sa.SmallInteger(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("notified_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("persons BETWEEN 1 AND 2", name=op.f("ck_waitlist_persons_range")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_waitlist_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_waitlist_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["vaccine_code"], ["vaccines.code"], name=op.f("fk_waitlist_vaccine_code_vaccines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist")),
    )
    with op.batch_alter_table("waitlist", schema=None) as batch_op:
        batch_op.create_index(
            "uq_waitlist_waiting",
            ["campaign_id", "phone", "centre_id", "vaccine_code"],
            unique=True,
            sqlite_where=sa.text(WAITING),
            postgresql_where=sa.text(WAITING),
        )
        batch_op.create_index(
            "ix_waitlist_pending",
            ["centre_id", "vaccine_code"],
            unique=False,
            sqlite_where=sa.text(WAITING),
            postgresql_where=sa.text(WAITING),
        )


def downgrade() -> None:
    with op.batch_alter_table("waitlist", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_waitlist_pending", sqlite_where=sa.text(WAITING), postgresql_where=sa.text(WAITING)
        )
        batch_op.drop_index(
            "uq_waitlist_waiting", sqlite_where=sa.text(WAITING), postgresql_where=sa.text(WAITING)
        )
    op.drop_table("waitlist")
