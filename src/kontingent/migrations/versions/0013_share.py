"""phone share: seats of a slot only the phone channel may take, summed into `slot_days`

Revision ID: 0013_share
Revises: 0012
Create Date: 2026-12-05 07:00:00.000000

- `slots.phone_reserved`: seats of the slot held back for the hotline (issue 15). The CHECK
  `ck_slots_phone_reserve_fits` keeps `0 <= phone_reserved` and `booked + phone_reserved <=
  capacity`: the reserve is always seats nobody holds, whatever code writes. On SQLite it is a
  column constraint (which may name other columns of the row), because SQLite cannot add a
  table constraint to an existing table.
- `ix_slots_phone_reserved`: a partial index on `starts_at` of the slots that still hold a
  reserve, the release job's only read (jobs/phone_release.py): it stays the size of the
  reserves still due, not of the slots on file.
- `contingents.phone_share_percent`: the share its slots reserved when it was recorded;
  contingents recorded before this migration keep 0 (their slots are released already).
- `slot_days.phone_reserved`: the sum per key, kept by the same triggers as capacity and
  booked (migration 0005), which are replaced here by versions that add it up as well.
"""

# ruff: noqa: S608 (every SQL text here is put together from this file's own constants)
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision = "0013_share"
down_revision = "0012"
branch_labels = None
depends_on = None

KEY = "centre_id, vaccine_code, day, bookable_from"
OLD_SUMS = ("capacity", "booked")
NEW_SUMS = ("capacity", "booked", "phone_reserved")
_MOVED = ("bookable_from", "day", "centre_id", "vaccine_code")
FITS = "phone_reserved >= 0 AND booked + phone_reserved <= capacity"


def _changed(sums: Sequence[str]) -> str:
    return " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in (*sums, *_MOVED))


def _pg_bulk_function(event: str, rows: str, sign: str, table: str, sums: Sequence[str]) -> str:
    cols = ", ".join(sums)
    added = ", ".join(f"{sign}sum({c})" for c in sums)
    merge = ", ".join(f"{c} = d.{c} + EXCLUDED.{c}" for c in sums)
    return f"""
CREATE OR REPLACE FUNCTION slot_days_on_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {table} AS d ({KEY}, {cols})
    SELECT {KEY}, {added} FROM {rows}
    WHERE bookable_from IS NOT NULL
    GROUP BY {KEY}
    ORDER BY {KEY}
    ON CONFLICT ({KEY}) DO UPDATE SET {merge};
    RETURN NULL;
END $$"""


def _pg_update_function(table: str, sums: Sequence[str]) -> str:
    """As in 0005: one UPDATE by key when the slot stays on its key, else leave and join."""
    where = "centre_id = {r}.centre_id AND vaccine_code = {r}.vaccine_code AND day = {r}.day"
    where += " AND bookable_from = {r}.bookable_from"
    delta = ", ".join(f"{c} = {c} + NEW.{c} - OLD.{c}" for c in sums)
    minus = ", ".join(f"{c} = {c} - OLD.{c}" for c in sums)
    cols = ", ".join(sums)
    values = ", ".join(f"NEW.{c}" for c in sums)
    merge = ", ".join(f"{c} = d.{c} + EXCLUDED.{c}" for c in sums)
    return f"""
CREATE OR REPLACE FUNCTION slot_days_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.bookable_from IS NOT NULL AND NEW.bookable_from = OLD.bookable_from
       AND NEW.day = OLD.day AND NEW.centre_id = OLD.centre_id
       AND NEW.vaccine_code = OLD.vaccine_code THEN
        UPDATE {table} SET {delta} WHERE {where.format(r="NEW")};
        RETURN NULL;
    END IF;
    IF OLD.bookable_from IS NOT NULL THEN
        UPDATE {table} SET {minus} WHERE {where.format(r="OLD")};
    END IF;
    IF NEW.bookable_from IS NOT NULL THEN
        INSERT INTO {table} AS d ({KEY}, {cols})
        VALUES (NEW.centre_id, NEW.vaccine_code, NEW.day, NEW.bookable_from, {values})
        ON CONFLICT ({KEY}) DO UPDATE SET {merge};
    END IF;
    RETURN NULL;
END $$"""


def _pg_triggers(sums: Sequence[str]) -> None:
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one()
    table = f'"{schema}".slot_days'
    op.execute(_pg_bulk_function("insert", "new_rows", "", table, sums))
    op.execute(_pg_bulk_function("delete", "old_rows", "-", table, sums))
    op.execute(_pg_update_function(table, sums))
    # The update trigger's WHEN names the columns it watches: made anew.
    op.execute("DROP TRIGGER slot_days_update ON slots")
    op.execute(
        f"CREATE TRIGGER slot_days_update AFTER UPDATE ON slots FOR EACH ROW "
        f"WHEN ({_changed(sums)}) EXECUTE FUNCTION slot_days_on_update()"
    )


def _sqlite_triggers(sums: Sequence[str]) -> list[str]:
    minus = ", ".join(f"{c} = {c} - OLD.{c}" for c in sums)
    cols = ", ".join(sums)
    values = ", ".join(f"NEW.{c}" for c in sums)
    merge = ", ".join(f"{c} = {c} + excluded.{c}" for c in sums)
    subtract_old = f"""
    UPDATE slot_days SET {minus}
    WHERE OLD.bookable_from IS NOT NULL AND centre_id = OLD.centre_id
      AND vaccine_code = OLD.vaccine_code AND day = OLD.day
      AND bookable_from = OLD.bookable_from;"""
    add_new = f"""
    INSERT INTO slot_days ({KEY}, {cols})
    SELECT NEW.centre_id, NEW.vaccine_code, NEW.day, NEW.bookable_from, {values}
    WHERE NEW.bookable_from IS NOT NULL
    ON CONFLICT ({KEY}) DO UPDATE SET {merge};"""
    return [
        f"CREATE TRIGGER slot_days_insert AFTER INSERT ON slots BEGIN {add_new} END",
        f"CREATE TRIGGER slot_days_update AFTER UPDATE ON slots WHEN {_changed(sums)} "
        f"BEGIN {subtract_old} {add_new} END",
        f"CREATE TRIGGER slot_days_delete AFTER DELETE ON slots BEGIN {subtract_old} END",
    ]


def _replace_sqlite_triggers(sums: Sequence[str]) -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER slot_days_{event}")
    for statement in _sqlite_triggers(sums):
        op.execute(statement)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.add_column(
            "slots", sa.Column("phone_reserved", sa.SmallInteger(), server_default="0",
                               nullable=False)
        )  # fmt: skip
        op.execute(f"ALTER TABLE slots ADD CONSTRAINT ck_slots_phone_reserve_fits CHECK ({FITS})")
    else:
        op.execute(
            "ALTER TABLE slots ADD COLUMN phone_reserved SMALLINT NOT NULL DEFAULT 0 "
            f"CONSTRAINT ck_slots_phone_reserve_fits CHECK ({FITS})"
        )
    op.create_index(
        "ix_slots_phone_reserved", "slots", ["starts_at"],
        postgresql_where=sa.text("phone_reserved > 0"),
        sqlite_where=sa.text("phone_reserved > 0"),
    )  # fmt: skip
    op.add_column(
        "slot_days",
        sa.Column("phone_reserved", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "contingents",
        sa.Column("phone_share_percent", sa.SmallInteger(), server_default="0", nullable=False),
    )
    if postgres:
        _pg_triggers(NEW_SUMS)
    else:
        _replace_sqlite_triggers(NEW_SUMS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_triggers(OLD_SUMS)
        op.execute("ALTER TABLE slots DROP CONSTRAINT ck_slots_phone_reserve_fits")
    else:
        _replace_sqlite_triggers(OLD_SUMS)
    op.drop_index("ix_slots_phone_reserved", table_name="slots")
    op.execute("ALTER TABLE contingents DROP COLUMN phone_share_percent")
    op.execute("ALTER TABLE slot_days DROP COLUMN phone_reserved")
    op.execute("ALTER TABLE slots DROP COLUMN phone_reserved")
