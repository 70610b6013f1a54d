"""qr: the door ticket an e-mail in the outbox shows as an inline QR code

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 07:00:00.000000

Adds `outbox.qr` (nullable): the signed ticket (`KT1:<code>:<MAC>`, checkin/model.py) that the
relay draws as a PNG into a confirmation e-mail when it sends it. Additive: old processes
leave it empty and their e-mails go out as before, without the image.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("qr", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("qr")
