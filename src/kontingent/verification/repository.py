"""SQL for phone verifications. Repositories never commit.

Invariants kept here:
- `lock_phone` serialises the write transactions about one number: the PIN limits are a count
  followed by an insert, and under READ COMMITTED two transactions would both count before
  either inserts.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.schema import verifications

# Advisory lock keys are one bigint space shared by every user of the database: this salt
# keeps the phone numbers' keys apart from any other lock taken by a hash.
_LOCK_SALT = b"kontingent:verification:phone:"


def _lock_key(phone: str) -> int:
    digest = hashlib.blake2b(_LOCK_SALT + phone.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def lock_phone(conn: AsyncConnection, phone: str) -> None:
    """Hold this number's lock until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock keyed by the number (no row needs to exist
    yet for a number never seen; two numbers sharing a key only wait for each other). SQLite
    needs nothing: a write transaction opens with BEGIN IMMEDIATE (db.py), which already lets
    one writer in at a time.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(select(func.pg_advisory_xact_lock(_lock_key(phone))))


async def recent_for_phone(
    conn: AsyncConnection, phone: str, since: datetime
) -> tuple[list[datetime], datetime | None]:
    """When this number got each PIN since `since` (oldest first), and when the last may be
    resent."""
    query = (
        select(verifications.c.created_at, verifications.c.resend_after)
        .where(verifications.c.phone == phone, verifications.c.created_at >= since)
        .order_by(verifications.c.created_at)
    )
    rows = (await conn.execute(query)).all()
    return [r.created_at for r in rows], max((r.resend_after for r in rows), default=None)


async def add(
    conn: AsyncConnection,
    *,
    id: str,
    phone: str,
    pin_hash: str,
    now: datetime,
    expires_at: datetime,
    resend_after: datetime,
    language: str = "de",
) -> None:
    await conn.execute(
        verifications.insert().values(
            id=id,
            phone=phone,
            pin_hash=pin_hash,
            created_at=now,
            expires_at=expires_at,
            resend_after=resend_after,
            attempts=0,
            language=language,
        )
    )


async def get(conn: AsyncConnection, verification_id: str) -> Row[tuple[object, ...]] | None:
    query = select(verifications).where(verifications.c.id == verification_id)
    return (await conn.execute(query)).first()


async def count_attempt(
    conn: AsyncConnection, verification_id: str, max_attempts: int
) -> int | None:
    """Use up one attempt: the attempts used now, or None when none was left. Fails closed
    under concurrency."""
    result = await conn.execute(
        update(verifications)
        .where(verifications.c.id == verification_id, verifications.c.attempts < max_attempts)
        .values(attempts=verifications.c.attempts + 1)
        .returning(verifications.c.attempts)
    )
    used = result.scalar_one_or_none()
    return None if used is None else int(used)


async def mark_verified(conn: AsyncConnection, verification_id: str, now: datetime) -> bool:
    result = await conn.execute(
        update(verifications)
        .where(verifications.c.id == verification_id, verifications.c.verified_at.is_(None))
        .values(verified_at=now)
        .returning(verifications.c.id)
    )
    return result.first() is not None
