"""The phone share's release: seats kept for the hotline that are still free a set time
before their slot starts (KONTINGENT_PHONE_RELEASE_HOURS) go to everyone.

Invariants kept here:
- A slot's reserve is released once its start is `lead` or less ahead: `phone_reserved`
  becomes 0, and the triggers move the seats into the public sums of `slot_days` in the
  same transaction. A scheduler job runs this every `RELEASE_EVERY`, so a reserve goes to
  everyone at most that long after its minute (jobs/service.py).
- Bounded: each transaction releases at most `BATCH` slots, found through the partial index
  `ix_slots_phone_reserved` (only slots still holding a reserve are in it), earliest start
  first; its cost follows the reserves due, not the slots on file.
- Idempotent and safe in several processes at once: the UPDATE only touches rows that still
  hold a reserve, so a second run (or a second scheduler) finds nothing to do. Rows are
  updated in ascending id order through the primary key, the order bookings lock slots in.
- Every centre and vaccine whose seats came free has its cached readings dropped here and
  announced to the other processes (`Inventory.slots_changed`), as a cancellation does.
- Changing a contingent's share (`change_share`, `kontingent phone-share`) spreads it anew
  over its slots that start after the release lead (`phone_reserve`, as when the contingent
  was recorded), each capped, in the UPDATE itself, at the seats the slot has free then; the
  slots within the lead keep none, as the release job would leave them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer, bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.db import Database
from kontingent.inventory.model import phone_reserve
from kontingent.inventory.service import Inventory
from kontingent.schema import contingents, slots

BATCH = 500  # slots released per transaction
RELEASE_EVERY = timedelta(seconds=10)  # the job's period: a reserve is released this late at most


async def release_due(conn: AsyncConnection, until: datetime, limit: int) -> list[tuple[int, str]]:
    """Release the reserves of up to `limit` slots starting by `until`; the (centre,
    vaccine) of each slot released."""
    due = (
        select(slots.c.id)
        .where(slots.c.phone_reserved > 0, slots.c.starts_at <= until)
        .order_by(slots.c.starts_at)
        .limit(limit)
    )
    ids = sorted((await conn.execute(due)).scalars().all())
    if not ids:
        return []
    released = await conn.execute(
        update(slots)
        .where(slots.c.id.in_(ids), slots.c.phone_reserved > 0)
        .values(phone_reserved=0)
        .returning(slots.c.centre_id, slots.c.vaccine_code)
    )
    return [(r.centre_id, r.vaccine_code) for r in released.all()]


async def release_phone_seats(
    db: Database, inventory: Inventory, now: datetime, lead: timedelta, batch: int = BATCH
) -> int:
    """Release every reserve due at `now` (slots starting within `lead`), a batch per
    transaction; the number of slots released."""
    count = 0
    families: set[tuple[int, str]] = set()
    while True:
        async with db.write() as conn:
            found = await release_due(conn, now + lead, batch)
        count += len(found)
        families.update(found)
        if len(found) < batch:
            break
    for centre_id, vaccine_code in sorted(families):
        inventory.slots_changed(centre_id, vaccine_code)
    return count


async def set_share(
    conn: AsyncConnection, contingent_id: int, percent: int, after: datetime
) -> tuple[int, str, int] | None:
    """Record the contingent's new share and spread it over its slots starting after
    `after`; (centre, vaccine, slots changed), or None when there is no such contingent."""
    found = await conn.execute(
        update(contingents)
        .where(contingents.c.id == contingent_id)
        .values(phone_share_percent=percent)
        .returning(contingents.c.centre_id, contingents.c.vaccine_code)
    )
    row = found.first()
    if row is None:
        return None
    query = (
        select(slots.c.id, slots.c.capacity)
        .where(slots.c.contingent_id == contingent_id, slots.c.starts_at > after)
        .order_by(slots.c.starts_at)
    )
    rows = (await conn.execute(query)).all()
    kept = phone_reserve((r.capacity for r in rows), percent)
    free = slots.c.capacity - slots.c.booked
    wanted = bindparam("kept", type_=Integer)
    if rows:
        await conn.execute(
            update(slots)
            .where(slots.c.id == bindparam("slot_id"))
            .values(phone_reserved=case((free < wanted, free), else_=wanted)),
            [{"slot_id": r.id, "kept": n} for r, n in zip(rows, kept, strict=True)],
        )
    return row.centre_id, row.vaccine_code, len(rows)


async def change_share(
    db: Database,
    inventory: Inventory,
    contingent_id: int,
    percent: int,
    now: datetime,
    lead: timedelta,
) -> int | None:
    """Give a contingent a new phone share (0 to 100 percent); the slots it was spread
    over, or None when there is no such contingent."""
    if not 0 <= percent <= 100:
        raise ValueError(f"the phone share is a percentage from 0 to 100, not {percent}")
    async with db.write() as conn:
        changed = await set_share(conn, contingent_id, percent, now + lead)
    if changed is None:
        return None
    centre_id, vaccine_code, count = changed
    inventory.slots_changed(centre_id, vaccine_code)
    return count
