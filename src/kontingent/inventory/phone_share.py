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
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.db import Database
from kontingent.inventory.service import Inventory
from kontingent.schema import slots

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
