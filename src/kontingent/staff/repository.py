"""SQL of staff accounts and sessions. Never commits: the service owns each transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import CursorResult, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.db import aware_utc
from kontingent.schema import centres
from kontingent.staff.model import Principal, Role, SessionKind, StaffUser
from kontingent.staff.tables import staff_sessions, staff_user_centres, staff_users


async def _centre_ids(conn: AsyncConnection, user_id: int) -> tuple[int, ...]:
    query = select(staff_user_centres.c.centre_id).where(staff_user_centres.c.user_id == user_id)
    return tuple(sorted((await conn.execute(query)).scalars()))


def _user(row: Any, centre_ids: tuple[int, ...]) -> StaffUser:
    return StaffUser(row.id, row.username, Role(row.role), centre_ids, bool(row.disabled))


async def user_with_hash(conn: AsyncConnection, username: str) -> tuple[StaffUser, str] | None:
    row = (
        await conn.execute(select(staff_users).where(staff_users.c.username == username))
    ).first()
    if row is None:
        return None
    return _user(row, await _centre_ids(conn, row.id)), row.password_hash


async def users(conn: AsyncConnection) -> list[StaffUser]:
    rows = (await conn.execute(select(staff_users).order_by(staff_users.c.username))).all()
    return [_user(row, await _centre_ids(conn, row.id)) for row in rows]


async def unknown_centres(conn: AsyncConnection, centre_ids: Sequence[int]) -> list[int]:
    found = set(
        (await conn.execute(select(centres.c.id).where(centres.c.id.in_(centre_ids)))).scalars()
    )
    return sorted(set(centre_ids) - found)


async def insert_user(
    conn: AsyncConnection,
    username: str,
    role: Role,
    password_hash: str,
    centre_ids: Sequence[int],
    now: datetime,
) -> int:
    values: dict[str, Any] = {"username": username, "role": role.value}
    values.update(password_hash=password_hash, disabled=False)
    values.update(created_at=now, password_changed_at=now)
    user_id = _new_id(await conn.execute(insert(staff_users).values(**values)))
    if centre_ids:
        rows = [{"user_id": user_id, "centre_id": c} for c in sorted(set(centre_ids))]
        await conn.execute(insert(staff_user_centres), rows)
    return user_id


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the insert returned no key")
    return int(key[0])


async def set_disabled(conn: AsyncConnection, user_id: int, disabled: bool) -> None:
    await conn.execute(
        update(staff_users).where(staff_users.c.id == user_id).values(disabled=disabled)
    )


async def set_password(
    conn: AsyncConnection, user_id: int, password_hash: str, now: datetime
) -> None:
    await conn.execute(
        update(staff_users)
        .where(staff_users.c.id == user_id)
        .values(password_hash=password_hash, password_changed_at=now)
    )


async def revoke_sessions_of(conn: AsyncConnection, user_id: int, now: datetime) -> None:
    await conn.execute(
        update(staff_sessions)
        .where(staff_sessions.c.user_id == user_id, staff_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def insert_session(
    conn: AsyncConnection,
    user_id: int,
    token_hash: str,
    kind: SessionKind,
    now: datetime,
    expires_at: datetime,
    ip: str | None,
) -> int:
    values: dict[str, Any] = {"token_hash": token_hash, "user_id": user_id, "kind": kind.value}
    values.update(ip=ip, created_at=now, last_seen_at=now, expires_at=expires_at)
    return _new_id(await conn.execute(insert(staff_sessions).values(**values)))


async def session_by_hash(
    conn: AsyncConnection, token_hash: str
) -> tuple[Principal, datetime, datetime] | None:
    """The live principal of a token and its session's created and last-seen times; None for
    an unknown or revoked token, or one whose account is disabled."""
    s, u = staff_sessions, staff_users
    query = (
        select(s.c.id, s.c.kind, s.c.created_at, s.c.last_seen_at, u.c.id.label("user_id"),
               u.c.username, u.c.role)
        .join(u, u.c.id == s.c.user_id)
        .where(s.c.token_hash == token_hash, s.c.revoked_at.is_(None), u.c.disabled.is_(False))
    )  # fmt: skip
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    centre_ids = await _centre_ids(conn, row.user_id)
    principal = Principal(
        row.user_id, row.username, Role(row.role), centre_ids, row.id, SessionKind(row.kind)
    )
    return principal, row.created_at, row.last_seen_at


# `session_by_hash` in one statement on the plain driver (PostgreSQL): every request of an
# agent's script or console asks it, and two statements through SQLAlchemy in a transaction
# of their own cost more than the booking's own single statement (bench/booking.py, mixed).
SESSION_BY_HASH_PG = """
SELECT s.id, s.kind, s.created_at, s.last_seen_at, u.id, u.username, u.role,
       ARRAY(SELECT c.centre_id FROM staff_user_centres c WHERE c.user_id = u.id ORDER BY 1)
FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id
WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND NOT u.disabled
"""


async def session_by_hash_pg(
    conn: asyncpg.Connection, token_hash: str
) -> tuple[Principal, datetime, datetime] | None:
    """`session_by_hash` on a plain asyncpg connection, one round trip."""
    row = await conn.fetchrow(SESSION_BY_HASH_PG, token_hash)
    if row is None:
        return None
    session_id, kind, created, last_seen, user_id, username, role, centre_ids = row
    principal = Principal(
        user_id, username, Role(role), tuple(centre_ids), session_id, SessionKind(kind)
    )
    return principal, _utc(created), _utc(last_seen)


def _utc(value: datetime) -> datetime:
    found = aware_utc(value)
    assert found is not None
    return found


async def touch_session(conn: AsyncConnection, session_id: int, now: datetime) -> None:
    await conn.execute(
        update(staff_sessions).where(staff_sessions.c.id == session_id).values(last_seen_at=now)
    )


async def revoke_session(conn: AsyncConnection, session_id: int, now: datetime) -> None:
    await conn.execute(
        update(staff_sessions)
        .where(staff_sessions.c.id == session_id, staff_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def drop_ended_sessions(conn: AsyncConnection, before: datetime) -> int:
    """Sessions ended (by expiry or revocation) before `before`: nothing points at them."""
    s = staff_sessions
    result = await conn.execute(
        delete(s).where((s.c.expires_at < before) | (s.c.revoked_at < before))
    )
    return int(result.rowcount or 0)
