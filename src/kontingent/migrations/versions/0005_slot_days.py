"""slot days: seats per centre, vaccine, local day and release, kept by triggers

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 16:30:00.000000

The public availability feed read every slot on file (381,024 in the demo) and converted
each in Python: 3.5 s a call on SQLite here, 5 to 9 s on a busy demo server. From here on:
- `slots.day` holds the local day (Europe/Berlin) of `starts_at`, set by whoever inserts a
  slot (`inventory.repository.insert_slots`); existing rows are filled in here. On SQLite,
  which cannot add a NOT NULL column without a default, a trigger refuses a slot without it.
- `slot_days` adds up capacity and booked seats of the released slots per centre, vaccine,
  day and release minute. Triggers on `slots` keep it in the transaction of every insert,
  update and delete of a slot, so no code path (booking statement, cancellation, release,
  a hand-made UPDATE) can leave it behind.
- On PostgreSQL, inserts and deletes (which come in bulk) are added up per statement
  (transition tables) and each key upserted once, in key order; updates (a booking's two
  slots) are applied per row, which costs a booking far less. Row triggers fire after the
  statement has locked its slots in ascending id order, so the rows of `slot_days` are
  locked after them, in the slots' order; a deadlock that an odd id order could cause is
  detected by PostgreSQL and retried by the service. On SQLite, whose writers are
  serialised anyway, row triggers do all three.
"""

# ruff: noqa: S608 (every SQL text here is put together from this file's own constants)
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from kontingent.clock import BERLIN

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

KEY = "centre_id, vaccine_code, day, bookable_from"

# What a change of a slot's row may change in `slot_days`; an update of anything else (the
# contingent id, say) leaves it alone.
_COUNTED = ("booked", "capacity", "bookable_from", "day", "centre_id", "vaccine_code")
_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _COUNTED)


def _pg_bulk_function(event: str, rows: str, sign: str, table: str) -> str:
    """A statement trigger for inserts and deletes, which come in bulk (a seed, a centre's new
    weeks): the statement's rows added up per key, each key upserted once, in key order."""
    return f"""
CREATE FUNCTION slot_days_on_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {table} AS d ({KEY}, capacity, booked)
    SELECT {KEY}, {sign}sum(capacity), {sign}sum(booked) FROM {rows}
    WHERE bookable_from IS NOT NULL
    GROUP BY {KEY}
    ORDER BY {KEY}
    ON CONFLICT ({KEY}) DO UPDATE
    SET capacity = d.capacity + EXCLUDED.capacity, booked = d.booked + EXCLUDED.booked;
    RETURN NULL;
END $$"""


def _pg_update_function(table: str) -> str:
    """A row trigger for updates: a booking changes `booked` of two slots, and one UPDATE of
    a row by its key costs a fraction of a statement trigger's transition tables and
    grouping (bench/README.md). A slot that moved to another key leaves the old one and
    joins the new one."""
    where = "centre_id = {r}.centre_id AND vaccine_code = {r}.vaccine_code AND day = {r}.day"
    where += " AND bookable_from = {r}.bookable_from"
    return f"""
CREATE FUNCTION slot_days_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.bookable_from IS NOT NULL AND NEW.bookable_from = OLD.bookable_from
       AND NEW.day = OLD.day AND NEW.centre_id = OLD.centre_id
       AND NEW.vaccine_code = OLD.vaccine_code THEN
        UPDATE {table} SET capacity = capacity + NEW.capacity - OLD.capacity,
                           booked = booked + NEW.booked - OLD.booked
        WHERE {where.format(r="NEW")};
        RETURN NULL;
    END IF;
    IF OLD.bookable_from IS NOT NULL THEN
        UPDATE {table} SET capacity = capacity - OLD.capacity, booked = booked - OLD.booked
        WHERE {where.format(r="OLD")};
    END IF;
    IF NEW.bookable_from IS NOT NULL THEN
        INSERT INTO {table} AS d ({KEY}, capacity, booked)
        VALUES (NEW.centre_id, NEW.vaccine_code, NEW.day, NEW.bookable_from, NEW.capacity,
                NEW.booked)
        ON CONFLICT ({KEY}) DO UPDATE
        SET capacity = d.capacity + EXCLUDED.capacity, booked = d.booked + EXCLUDED.booked;
    END IF;
    RETURN NULL;
END $$"""


def _create_pg_triggers() -> None:
    # The table named with its schema, so the functions find it whatever the search_path of
    # the session that changes a slot (cheaper than a SET clause on every call).
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one()
    table = f'"{schema}".slot_days'
    op.execute(_pg_bulk_function("insert", "new_rows", "", table))
    op.execute(_pg_bulk_function("delete", "old_rows", "-", table))
    op.execute(_pg_update_function(table))
    op.execute(
        "CREATE TRIGGER slot_days_insert AFTER INSERT ON slots REFERENCING NEW TABLE AS "
        "new_rows FOR EACH STATEMENT EXECUTE FUNCTION slot_days_on_insert()"
    )
    op.execute(
        "CREATE TRIGGER slot_days_delete AFTER DELETE ON slots REFERENCING OLD TABLE AS "
        "old_rows FOR EACH STATEMENT EXECUTE FUNCTION slot_days_on_delete()"
    )
    op.execute(
        f"CREATE TRIGGER slot_days_update AFTER UPDATE ON slots FOR EACH ROW WHEN ({_CHANGED}) "
        "EXECUTE FUNCTION slot_days_on_update()"
    )


_SUBTRACT_OLD = """
    UPDATE slot_days SET capacity = capacity - OLD.capacity, booked = booked - OLD.booked
    WHERE OLD.bookable_from IS NOT NULL AND centre_id = OLD.centre_id
      AND vaccine_code = OLD.vaccine_code AND day = OLD.day
      AND bookable_from = OLD.bookable_from;"""
_ADD_NEW = f"""
    INSERT INTO slot_days ({KEY}, capacity, booked)
    SELECT NEW.centre_id, NEW.vaccine_code, NEW.day, NEW.bookable_from, NEW.capacity,
           NEW.booked
    WHERE NEW.bookable_from IS NOT NULL
    ON CONFLICT ({KEY}) DO UPDATE
    SET capacity = capacity + excluded.capacity, booked = booked + excluded.booked;"""

SQLITE_TRIGGERS = [
    """CREATE TRIGGER slots_day_required BEFORE INSERT ON slots WHEN NEW.day IS NULL
    BEGIN SELECT RAISE(ABORT, 'slots.day is required: the local day of starts_at'); END""",
    f"CREATE TRIGGER slot_days_insert AFTER INSERT ON slots BEGIN {_ADD_NEW} END",
    f"CREATE TRIGGER slot_days_update AFTER UPDATE ON slots WHEN {_CHANGED} "
    f"BEGIN {_SUBTRACT_OLD} {_ADD_NEW} END",
    f"CREATE TRIGGER slot_days_delete AFTER DELETE ON slots BEGIN {_SUBTRACT_OLD} END",
]


def _local_day(value: datetime | str) -> str:
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC).astimezone(BERLIN).date().isoformat()


def _fill_days_sqlite() -> None:
    bind = op.get_bind()
    rows = bind.exec_driver_sql("SELECT id, starts_at FROM slots").all()
    if rows:
        bind.exec_driver_sql(
            "UPDATE slots SET day = ? WHERE id = ?",
            [(_local_day(starts_at), slot_id) for slot_id, starts_at in rows],
        )


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column("slots", sa.Column("day", sa.Date(), nullable=True))
    if postgres:
        op.execute(
            "UPDATE slots SET day = "
            "((starts_at AT TIME ZONE 'UTC') AT TIME ZONE 'Europe/Berlin')::date"
        )
        op.alter_column("slots", "day", nullable=False)
    else:
        _fill_days_sqlite()
    op.create_index("ix_slots_day", "slots", ["day"])
    op.create_table(
        "slot_days",
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("vaccine_code", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bookable_from", sa.DateTime(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "centre_id", "vaccine_code", "day", "bookable_from", name=op.f("pk_slot_days")
        ),
    )
    op.execute(
        f"INSERT INTO slot_days ({KEY}, capacity, booked) "
        f"SELECT {KEY}, sum(capacity), sum(booked) FROM slots "
        f"WHERE bookable_from IS NOT NULL GROUP BY {KEY}"
    )
    if postgres:
        _create_pg_triggers()
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER slot_days_{event} ON slots")
            op.execute(f"DROP FUNCTION slot_days_on_{event}()")
    else:
        for name in (
            "slots_day_required",
            "slot_days_insert",
            "slot_days_update",
            "slot_days_delete",
        ):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("slot_days")
    op.drop_index("ix_slots_day", table_name="slots")
    op.execute("ALTER TABLE slots DROP COLUMN day")
