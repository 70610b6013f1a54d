"""booking write path: room on slot pages for HOT updates, one redundant index fewer

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 04:20:00.000000

Measured on the booking statement (bench/README.md):
- `slots` gets fillfactor 85 on PostgreSQL. A booking updates `booked` of two slots; no index
  holds `booked`, so the update can stay on its page (a HOT update) and write no index entry,
  but only when the page has room. Seeded full pages sent every first update of a slot to
  another page with new entries in both slot indexes. Pages written from now on keep 15 %
  free; existing pages get it on the next rewrite (VACUUM FULL / CLUSTER), which this
  migration does not force on a live table.
- `ix_persons_booking_id` goes: `uq_persons_booking_position` (booking_id, position) starts
  with the same column and serves every lookup by booking (ordered by position, even), so
  the index cost an entry per person for nothing.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE slots SET (fillfactor = 85)")
    op.drop_index("ix_persons_booking_id", table_name="persons")


def downgrade() -> None:
    op.create_index("ix_persons_booking_id", "persons", ["booking_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE slots RESET (fillfactor)")
