"""SQL for phone verifications. Repositories never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.schema import verifications


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
        )
    )


async def get(conn: AsyncConnection, verification_id: str) -> Row[tuple[object, ...]] | None:
    query = select(verifications).where(verifications.c.id == verification_id)
    return (await conn.execute(query)).first()


async def count_attempt(conn: AsyncConnection, verification_id: str, max_attempts: int) -> bool:
    """Use up one attempt; False when none was left. Fails closed under concurrency."""
    result = await conn.execute(
        update(verifications)
        .where(verifications.c.id == verification_id, verifications.c.attempts < max_attempts)
        .values(attempts=verifications.c.attempts + 1)
        .returning(verifications.c.attempts)
    )
    return result.first() is not None


async def mark_verified(conn: AsyncConnection, verification_id: str, now: datetime) -> bool:
    result = await conn.execute(
        update(verifications)
        .where(verifications.c.id == verification_id, verifications.c.verified_at.is_(None))
        .values(verified_at=now)
        .returning(verifications.c.id)
    )
    return result.first() is not None
