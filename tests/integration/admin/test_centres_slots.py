"""A centre's future slots follow its lanes, slot length and hours: unbooked slots that no
longer fit go, booked ones stay untouched (closed to new bookings), new ones come for the
days its contingent covers, and `slot_days` stays the sum over `slots`. On SQLite and
PostgreSQL, through the admin's use case and its audit row."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from kontingent.admin.centres_service import AdminCentres, CentreFields
from kontingent.app import Services
from kontingent.clock import BERLIN
from kontingent.schema import slots
from kontingent.staff.tables import audit_log
from tests.integration.admin.conftest import BY, CAPACITY, DAYS, FIRST_DAY, day_sums_match
from tests.support import claims_for, person, phone

SHORT = {d: ("08:00", "10:00") for d in range(7)}
LONG = {d: ("08:00", "14:00") for d in range(7)}


async def slot_rows(services: Services, centre_id: int) -> dict[datetime, tuple[int, int, int]]:
    query = select(slots.c.starts_at, slots.c.capacity, slots.c.booked, slots.c.id).where(
        slots.c.centre_id == centre_id
    )
    async with services.db.read() as conn:
        return {r.starts_at: (r.capacity, r.booked, r.id) for r in await conn.execute(query)}


def at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(FIRST_DAY + timedelta(days=day_offset), time(hour, minute), BERLIN)


async def book_at(services: Services, centre_id: int, when: datetime, i: int = 0) -> str:
    slot_id = (await slot_rows(services, centre_id))[when][2]
    claims = await claims_for(services, phone(i))
    view = await services.booking.book(claims, [person(i)], [slot_id], vaccine="JNJ")
    return view.code


async def test_shorter_hours_and_more_lanes_keep_booked_slots_and_the_day_sums(
    services: Services, centre: int
) -> None:
    late = at(1, 11, 40)  # Wednesday 11:40: outside the new hours
    early = at(1, 8, 20)
    await book_at(services, centre, late, 0)
    await book_at(services, centre, early, 1)
    admin = AdminCentres.of(services)
    change = CentreFields(lanes=4, hours=SHORT)
    preview = await admin.change(centre, change, BY, dry_run=True)
    assert await slot_rows(services, centre) and preview.dry_run
    done = await admin.change(centre, change, BY)
    assert done.slots == preview.slots
    # 7 days x 12 slots: 6 a day fit 08:00-10:00 (42, all grow), 6 do not (41 go, 1 booked stays).
    assert done.slots == {"added": 0, "removed": 6 * DAYS - 1, "resized": 6 * DAYS,
                          "kept_booked": 1}  # fmt: skip
    rows = await slot_rows(services, centre)
    assert rows[late][:2] == (1, 1), "the booked late slot stays, closed to new bookings"
    assert rows[early][:2] == (2 * CAPACITY, 1), "lanes doubled: the booked slot grew"
    assert rows[at(2, 9, 40)][:2] == (2 * CAPACITY, 0)
    assert at(2, 10, 0) not in rows and at(2, 11, 40) not in rows
    assert done.centre.lanes == 4 and done.centre.hours[0].closes == time(10, 0)
    await day_sums_match(services, centre)
    async with services.db.read() as conn:
        audited = (
            await conn.execute(select(audit_log).where(audit_log.c.action == "centre.update"))
        ).all()
    assert [(r.target, r.details["slots"]) for r in audited] == [(f"centre:{centre}", done.slots)]


async def test_longer_hours_and_a_new_slot_length_make_slots_for_the_contingent_days(
    services: Services, centre: int
) -> None:
    booked = at(0, 8, 20)  # not on the new 30-minute grid
    await book_at(services, centre, booked, 0)
    done = await AdminCentres.of(services).change(
        centre, CentreFields(slot_minutes=30, hours=LONG), BY
    )
    rows = await slot_rows(services, centre)
    assert rows[booked][:2] == (1, 1)
    per_day = 12  # 08:00 to 14:00 every 30 minutes
    new_capacity = CAPACITY * 30 // 20
    for day in range(DAYS):
        starts = [at(day, 8) + timedelta(minutes=30 * i) for i in range(per_day)]
        assert all(rows[s][0] == new_capacity for s in starts), day
    assert done.slots["kept_booked"] == 1
    assert done.slots["added"] + done.slots["resized"] == per_day * DAYS
    async with services.db.read() as conn:
        released = (
            await conn.execute(
                select(slots.c.contingent_id, slots.c.bookable_from).where(
                    slots.c.centre_id == centre, slots.c.starts_at == at(3, 13, 30)
                )
            )
        ).one()
    assert released.contingent_id is not None and released.bookable_from is not None
    await day_sums_match(services, centre)
    offers = await services.inventory.offers(centre, "JNJ", 1, limit=50, alternatives=False)
    assert at(0, 13, 30) in [o.appointments[0].starts_at for o in offers.offers]


async def test_a_closed_weekday_removes_its_unbooked_slots_only(
    services: Services, centre: int
) -> None:
    wednesday = FIRST_DAY + timedelta(days=1)
    hours = {d: ("08:00", "12:00") for d in range(7) if d != wednesday.weekday()}
    await book_at(services, centre, at(1, 9), 0)
    done = await AdminCentres.of(services).change(centre, CentreFields(hours=hours), BY)
    assert done.slots == {"added": 0, "removed": 11, "resized": 0, "kept_booked": 1}
    rows = await slot_rows(services, centre)
    assert [s for s in rows if s.date() == wednesday] == [at(1, 9)]
    await day_sums_match(services, centre)
