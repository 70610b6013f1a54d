"""The staff tables, in the one metadata of `kontingent.schema` (which imports this module).

Invariants the schema itself keeps, on SQLite and PostgreSQL alike:
- A user name is unique; a role is one of the three known ones.
- A session token is stored as its SHA-256 only, unique.
- `audit_log` is append-only: triggers of migration 0009 refuse UPDATE and DELETE of its
  rows, whatever the code does (PostgreSQL's TRUNCATE, which tests use, is a table operation
  outside them).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
)

from kontingent.db import UtcDateTime
from kontingent.schema import Id, metadata

staff_users = Table(
    "staff_users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(40), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("password_changed_at", UtcDateTime, nullable=False),
    CheckConstraint("role IN ('agent', 'centre_staff', 'admin')", name="role_known"),
)

staff_user_centres = Table(
    "staff_user_centres",
    metadata,
    Column("user_id", ForeignKey("staff_users.id"), primary_key=True),
    Column("centre_id", ForeignKey("centres.id"), primary_key=True),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", ForeignKey("staff_users.id"), nullable=False, index=True),
    Column("kind", String(8), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),  # the absolute end
    Column("revoked_at", UtcDateTime),
    Column("ip", String(45)),
    CheckConstraint("kind IN ('browser', 'api')", name="kind_known"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    # No foreign key: the log outlives whatever it names, and a failed login may name nobody.
    Column("user_id", Id),
    Column("username", String(64), nullable=False),
    Column("role", String(16)),
    Column("action", String(40), nullable=False),
    Column("target", String(200)),
    Column("channel", String(10), nullable=False),
    Column("ip", String(45)),
    Column("details", JSON, nullable=False),
    Index("ix_audit_log_username_at", "username", "at"),
    Index("ix_audit_log_action_at", "action", "at"),
)
