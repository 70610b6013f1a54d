"""postcodes: one row per postcode and district, with the places it covers there

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:00:00.000000

A postcode may span two districts (tools/build_postcodes.py finds them), so the primary key
becomes (postcode, district_id), and `places` names the municipalities for the portal to ask
"which place do you live in?". Rows already there keep their district with no places named.
The table is small (a few thousand rows at most): its rows are read, the table is made anew
with the constraint names of kontingent.schema, and the rows go back, the same on SQLite and
PostgreSQL. The downgrade keeps one district per postcode (the lowest id).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _rebuild(rows: list[dict[str, Any]], *, with_places: bool) -> None:
    with op.batch_alter_table("postcodes") as batch:
        batch.drop_index(batch.f("ix_postcodes_district_id"))
    op.drop_table("postcodes")
    columns: list[Any] = [
        sa.Column("postcode", sa.String(length=5), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
    ]
    if with_places:
        columns.append(
            sa.Column("places", sa.String(length=400), nullable=False, server_default="")
        )
    key = ["postcode", "district_id"] if with_places else ["postcode"]
    table = op.create_table(
        "postcodes",
        *columns,
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_postcodes_district_id_districts")
        ),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_postcodes")),
    )
    with op.batch_alter_table("postcodes") as batch:
        batch.create_index(batch.f("ix_postcodes_district_id"), ["district_id"], unique=False)
    if rows:
        op.bulk_insert(table, rows)


def _rows(query: str) -> list[dict[str, Any]]:
    result = op.get_bind().execute(sa.text(query))
    return [{"postcode": r.postcode, "district_id": r.district_id} for r in result]


def upgrade() -> None:
    _rebuild(_rows("SELECT postcode, district_id FROM postcodes"), with_places=True)


def downgrade() -> None:
    query = "SELECT postcode, MIN(district_id) AS district_id FROM postcodes GROUP BY postcode"
    _rebuild(_rows(query), with_places=False)
