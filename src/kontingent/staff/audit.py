"""The audit log: who did what to whom, when, through which channel and from where.

Invariants kept here:
- `record` writes on the connection it is given, so an action and its audit row commit
  together or not at all: a booking the log does not show was never made, and a logged
  lookup happened. It never opens a transaction of its own.
- Rows are only ever added (the database refuses UPDATE and DELETE, migration 0009).
- `details` holds what the action needs to be understood later, never a password or token.
- Reading pages newest first by id, which only grows; `before` continues where a page ended,
  so rows written meanwhile never shift a page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.staff.model import Principal
from kontingent.staff.tables import audit_log

MAX_PAGE = 200


class Channel:
    browser = "browser"  # the staff pages
    api = "api"  # bearer tokens
    cli = "cli"  # the `kontingent user` commands on a server
    scheduler = "scheduler"  # the scheduled jobs, acting at a minute nobody asked at then


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: an authenticated principal, or a name only (a failed login, the CLI)."""

    username: str
    user_id: int | None = None
    role: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(principal.username, principal.user_id, principal.role.value)


@dataclass(frozen=True, slots=True)
class Entry:
    actor: Actor
    action: str
    channel: str
    target: str | None = None
    ip: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Filters:
    user: str | None = None
    action: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None  # the id a previous page ended with
    limit: int = 50


def row_of(entry: Entry, at: datetime) -> dict[str, Any]:
    """The audit_log row of an entry (the booking statement of booking/pg_statement.py
    writes this row inside its own single statement)."""
    return {
        "at": at,
        "user_id": entry.actor.user_id,
        "username": entry.actor.username[:64],
        "role": entry.actor.role,
        "action": entry.action,
        "target": None if entry.target is None else entry.target[:200],
        "channel": entry.channel,
        "ip": entry.ip,
        "details": dict(entry.details),
    }


async def record(conn: AsyncConnection, entry: Entry, at: datetime) -> None:
    await conn.execute(insert(audit_log).values(row_of(entry, at)))


async def entries(
    conn: AsyncConnection, filters: Filters
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of rows, newest first, and the id to continue before (None: the last page)."""
    a = audit_log
    query = select(a).order_by(a.c.id.desc()).limit(min(filters.limit, MAX_PAGE) + 1)
    for column, value in (
        ("username", filters.user),
        ("action", filters.action),
        ("target", filters.target),
    ):
        if value:
            query = query.where(a.c[column] == value)
    if filters.since is not None:
        query = query.where(a.c.at >= filters.since)
    if filters.until is not None:
        query = query.where(a.c.at < filters.until)
    if filters.before is not None:
        query = query.where(a.c.id < filters.before)  # fmt: skip
    rows = [dict(row) for row in (await conn.execute(query)).mappings()]
    page = rows[: min(filters.limit, MAX_PAGE)]
    more = len(rows) > len(page)
    return page, (page[-1]["id"] if more and page else None)
