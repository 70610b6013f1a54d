"""slot days: seats per centre, vaccine, local day and release, kept by triggers

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 16:30:00.000000

The public availability feed read every slot on file (about 650,000 in the demo) and
converted each in Python, 5 to 9 s a call. From here on:
- `slots.day` holds the local day (Europe/Berlin) of `starts_at`, set by whoever inserts a
  slot (`inventory.repository.insert_slots`); existing rows are filled in here. On SQLite,
  which cannot add a NOT NULL column without a default, a trigger refuses a slot without it.
- `slot_days` adds up capacity and booked seats of the released slots per centre, vaccine,
  day and release minute. Triggers on `slots` keep it in the transaction of every insert,
  update and delete of a slot, so no code path (booking statement, cancellation, release,
  a hand-made UPDATE) can leave it behind. On PostgreSQL one trigger call per statement adds
  up the statement's rows (transition tables) and upserts each key once, in key order, so
  concurrent statements lock the rows of `slot_days` in the same order; on SQLite, whose
  writers are serialised anyway, row triggers do the same per row.
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

_NEW_ROWS = f"SELECT {KEY}, capacity, booked FROM new_rows WHERE bookable_from IS NOT NULL"
_OLD_ROWS = (
    f"SELECT {KEY}, -capacity AS capacity, -booked AS booked FROM old_rows "
    "WHERE bookable_from IS NOT NULL"
)

# A statement trigger sees the transition tables its event has (an INSERT has no old rows, a
# DELETE no new ones), so each event gets a function that reads only what exists.
PG_EVENTS = {
    "insert": ("REFERENCING NEW TABLE AS new_rows", _NEW_ROWS),
    "update": (
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        f"{_NEW_ROWS} UNION ALL {_OLD_ROWS}",
    ),
    "delete": ("REFERENCING OLD TABLE AS old_rows", _OLD_ROWS),
}


def _pg_function(event: str, delta: str) -> str:
    return f"""
CREATE FUNCTION slot_days_on_{event}() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO slot_days AS d ({KEY}, capacity, booked)
    SELECT {KEY}, sum(capacity), sum(booked) FROM ({delta}) AS delta
    GROUP BY {KEY}
    HAVING sum(capacity) <> 0 OR sum(booked) <> 0
    ORDER BY {KEY}
    ON CONFLICT ({KEY}) DO UPDATE
    SET capacity = d.capacity + EXCLUDED.capacity, booked = d.booked + EXCLUDED.booked;
    RETURN NULL;
END $$"""


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
    f"CREATE TRIGGER slot_days_update AFTER UPDATE ON slots BEGIN {_SUBTRACT_OLD} {_ADD_NEW} END",
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
        for event, (tables, delta) in PG_EVENTS.items():
            op.execute(_pg_function(event, delta))
            op.execute(
                f"CREATE TRIGGER slot_days_{event} AFTER {event.upper()} ON slots {tables} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION slot_days_on_{event}()"
            )
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for event in PG_EVENTS:
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
