"""The release tables, in the one metadata of `kontingent.schema` (which imports this module).

Invariants the schema itself keeps, on SQLite and PostgreSQL alike:
- A release is `scheduled`, `done` or `cancelled` (CHECK); only a scheduled one is ever
  claimed for execution, by a conditional UPDATE (admin/releases_repository.py).
- A release names each of its centres once (primary key release_id, centre_id), with the
  contingent it made there (NULL where the centre was closed on every day, or once the
  release was cancelled and its contingent removed).
- The scheduler's read (`ix_releases_due`) holds only the scheduled releases: it stays the
  size of what is still to come, not of the history.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    text,
)

from kontingent.db import UtcDateTime
from kontingent.schema import Id, metadata

releases = Table(
    "releases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("vaccine_code", ForeignKey("vaccines.code"), nullable=False),
    Column("first_day", Date, nullable=False),
    Column("last_day", Date, nullable=False),
    Column("all_centres", Boolean, nullable=False),
    Column("release_at", UtcDateTime, nullable=False),
    Column("status", String(10), nullable=False),
    Column("phone_share_percent", SmallInteger, nullable=False),
    Column("slots", Integer, nullable=False),
    Column("seats", Integer, nullable=False),
    Column("phone_seats", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_by_id", Id),
    Column("executed_at", UtcDateTime),
    Column("cancelled_at", UtcDateTime),
    Column("cancelled_by", String(64)),
    CheckConstraint("status IN ('scheduled', 'done', 'cancelled')", name="status_known"),
    CheckConstraint("first_day <= last_day", name="days_ordered"),
    Index(
        "ix_releases_due",
        "release_at",
        sqlite_where=text("status = 'scheduled'"),
        postgresql_where=text("status = 'scheduled'"),
    ),
    Index("ix_releases_release_at", "release_at"),
)

release_centres = Table(
    "release_centres",
    metadata,
    Column("release_id", ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True),
    Column("centre_id", ForeignKey("centres.id"), primary_key=True),
    Column("contingent_id", ForeignKey("contingents.id")),
    Column("slots", Integer, nullable=False),
    Column("seats", Integer, nullable=False),
    Column("phone_seats", Integer, nullable=False),
)
