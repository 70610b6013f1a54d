"""personal data purge: a booking can outlive the personal data of its persons

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 07:00:00.000000

`kontingent purge-personal-data` (retention/) deletes the persons' names, birth dates,
addresses, phones and e-mail addresses of bookings whose appointments are over, and keeps the
anonymous rest (bookings and appointments with their dates, centre, vaccine and channel).
`bookings.purged_at` says when that happened (and makes a second run skip the booking);
`persons.birth_date` may now be empty, as a purged person has none. Additive: a process of the
release before never purges, and reads no purged booking (no birth date matches an empty one).
Downgrade refuses while purged rows exist, since their birth dates cannot come back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purged_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.alter_column("birth_date", existing_type=sa.Date(), nullable=True)


def downgrade() -> None:
    purged = op.get_bind().execute(sa.text("SELECT count(*) FROM persons WHERE birth_date IS NULL"))
    if purged.scalar_one():
        raise RuntimeError("persons without a birth date (purged) exist: cannot downgrade")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.alter_column("birth_date", existing_type=sa.Date(), nullable=False)
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("purged_at")
