"""Contingent releases on SQLite and PostgreSQL: scheduling makes the contingents and slots
at once, bookable at the release minute and not a microsecond before (injected clock); the
scheduler executes each release once, audited, and the waitlist hears of it; cancelling
before the minute takes the slots away again; every refusal names what to fix.

The seeded test data (3 centres, 4 weeks from Monday 2026-01-12) leaves JNJ unreleased from
2026-02-09 and BNT from 2026-03-23 to the end of the booking window (2026-05-03).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kontingent.admin.dashboard import Dashboard
from kontingent.admin.releases_model import ReleaseWish
from kontingent.admin.releases_tables import releases
from kontingent.app import Services
from kontingent.clock import BERLIN, FixedClock
from kontingent.errors import Conflict, InvalidInput
from kontingent.inventory import repository as inventory_repo
from kontingent.jobs.service import scheduler_for
from kontingent.schema import contingents, outbox, slots, waitlist
from kontingent.staff.audit import Actor, Channel
from kontingent.staff.tables import audit_log
from tests.integration.test_slot_days import assert_kept
from tests.support import BIELEFELD, T0, fill_centre, phone

ADA = Actor("admin.ada", None, "admin")
FREE_JNJ = date(2026, 2, 9)  # a Monday, the first JNJ day without a contingent
SLOTS_PER_DAY = 36  # 08:00 to 20:00 in 20-minute slots
SEATS_PER_SLOT = 44  # 11 lanes, four people per lane and slot


def wish(**changes: object) -> ReleaseWish:
    values: dict[str, object] = {
        "vaccine": "JNJ",
        "centre_ids": (BIELEFELD,),
        "first_day": FREE_JNJ,
        "last_day": FREE_JNJ + timedelta(days=1),
        "at": T0 + timedelta(hours=1),
    }
    values.update(changes)
    return ReleaseWish(**values)  # type: ignore[arg-type]


async def release_slots(services: Services, release_id: int) -> list[tuple[int, datetime, int]]:
    found = await services.releases.get(release_id)
    ids = [c.contingent_id for c in found.centres if c.contingent_id is not None]
    async with services.db.read() as conn:
        rows = await conn.execute(
            select(slots.c.id, slots.c.bookable_from, slots.c.phone_reserved)
            .where(slots.c.contingent_id.in_(ids))
            .order_by(slots.c.starts_at)
        )
        return [(r.id, r.bookable_from, r.phone_reserved) for r in rows.all()]


async def actions(services: Services, action: str) -> list[tuple[str, str, str | None]]:
    async with services.db.read() as conn:
        rows = await conn.execute(
            select(audit_log.c.username, audit_log.c.channel, audit_log.c.target)
            .where(audit_log.c.action == action)
            .order_by(audit_log.c.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def test_scheduling_makes_the_slots_bookable_from_the_minute_with_the_phone_share(
    services: Services,
) -> None:
    made = await services.releases.schedule(ADA, wish(), Channel.api, "192.0.2.1")
    assert (made.status, made.slots, made.all_centres) == ("scheduled", 2 * SLOTS_PER_DAY, False)
    assert made.seats == 2 * SLOTS_PER_DAY * SEATS_PER_SLOT
    assert made.phone_seats == made.seats * 20 // 100  # KONTINGENT_PHONE_SHARE_PERCENT
    assert made.release_at == T0 + timedelta(hours=1) and made.executed_at is None
    assert [(c.centre_id, c.slots) for c in made.centres] == [(BIELEFELD, 2 * SLOTS_PER_DAY)]
    found = await release_slots(services, made.id)
    assert len(found) == made.slots
    assert {at for _, at, _ in found} == {T0 + timedelta(hours=1)}
    assert sum(r for _, _, r in found) == made.phone_seats
    await assert_kept(services.db)  # slot_days added the new slots in the same transaction
    assert await actions(services, "release.schedule") == [
        ("admin.ada", "api", f"release:{made.id}")
    ]


async def test_closed_days_get_no_slots_and_every_centre_is_the_default(
    services: Services,
) -> None:
    """Good Friday and Easter Monday 2026 are public holidays in NRW: only the weekend between
    them gets slots, at each of the three centres."""
    easter = wish(centre_ids=None, first_day=date(2026, 4, 3), last_day=date(2026, 4, 6))
    made = await services.releases.schedule(ADA, easter, Channel.api, None)
    assert made.all_centres
    assert [(c.centre_id, c.slots) for c in made.centres] == [
        (i, 2 * SLOTS_PER_DAY) for i in (1, 2, 3)
    ]
    async with services.db.read() as conn:
        days = await conn.execute(
            select(slots.c.day).distinct().where(slots.c.bookable_from == made.release_at)
        )
        assert sorted(d for (d,) in days.all()) == [date(2026, 4, 4), date(2026, 4, 5)]


async def test_the_release_minute_opens_the_slots_and_not_a_moment_before(
    services: Services, clock: FixedClock
) -> None:
    at = T0 + timedelta(hours=1)
    made = await services.releases.schedule(ADA, wish(at=at), Channel.api, None)
    first = (await release_slots(services, made.id))[0][0]
    catalogue = await services.inventory.catalogue()
    views = []
    for now in (at - timedelta(microseconds=1), at):
        clock.set(now)
        async with services.db.read() as conn:
            left = await inventory_repo.seats_left(conn, [first], now, catalogue.campaign)
        offers = await services.inventory.offers(BIELEFELD, "JNJ", day=FREE_JNJ)
        views.append((left[first], len(offers.offers) > 0, offers.next_release_at))
    free = SEATS_PER_SLOT - (await release_slots(services, made.id))[0][2]
    assert views == [(0, False, at), (free, True, None)]


async def test_the_scheduler_executes_a_release_once_at_its_minute_and_the_waitlist_hears(
    services: Services, clock: FixedClock
) -> None:
    await fill_centre(services.db, BIELEFELD, "JNJ")  # nothing free: people wait
    for i in range(3):
        await services.waitlist.join(phone(i), BIELEFELD, "JNJ", 1)
    at = T0 + timedelta(minutes=30)
    made = await services.releases.schedule(ADA, wish(at=at), Channel.browser, None)
    scheduler = scheduler_for(services)
    clock.set(at - timedelta(seconds=1))
    assert (await scheduler.run_due())["releases_executed"] == 0
    clock.set(at)
    assert (await scheduler.run_due())["releases_executed"] == 1
    clock.advance(timedelta(seconds=5))
    assert (await scheduler.run_due())["releases_executed"] == 0
    done = await services.releases.get(made.id)
    assert (done.status, done.executed_at) == ("done", at)
    assert await actions(services, "release.execute") == [
        ("scheduler", "scheduler", f"release:{made.id}")
    ]
    assert await waitlist_sms(services) == {phone(i): 1 for i in range(3)}


async def waitlist_sms(services: Services) -> dict[str, int]:
    async with services.db.read() as conn:
        rows = await conn.execute(
            select(outbox.c.recipient, func.count())
            .where(outbox.c.channel == "sms", outbox.c.body.like("%Warteliste%"))
            .group_by(outbox.c.recipient)
        )
        return {str(r): int(n) for r, n in rows.all()}


async def test_a_release_now_is_executed_by_the_request_itself(services: Services) -> None:
    made = await services.releases.schedule(ADA, wish(at=None), Channel.api, None)
    assert (made.status, made.release_at, made.executed_at) == ("done", T0, T0)
    assert [a for a, _, _ in await actions(services, "release.execute")] == ["admin.ada"]
    assert (await scheduler_for(services).run_due())["releases_executed"] == 0


async def test_cancelling_before_the_minute_takes_the_slots_away_and_not_after(
    services: Services, clock: FixedClock
) -> None:
    async with services.db.read() as conn:
        before = (await conn.execute(select(func.count()).select_from(contingents))).scalar()
    made = await services.releases.schedule(ADA, wish(), Channel.api, None)
    cancelled = await services.releases.cancel(ADA, made.id, Channel.api, None)
    assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "admin.ada")
    assert cancelled.slots == made.slots  # the history keeps what it would have made
    assert [c.contingent_id for c in cancelled.centres] == [None]
    assert await release_slots(services, made.id) == []
    async with services.db.read() as conn:
        after = (await conn.execute(select(func.count()).select_from(contingents))).scalar()
    assert after == before
    await assert_kept(services.db)
    with pytest.raises(Conflict) as again:
        await services.releases.cancel(ADA, made.id, Channel.api, None)
    assert again.value.code == "release_cancelled"
    # The same days can be released again, and once its minute came it stays.
    second = await services.releases.schedule(ADA, wish(), Channel.api, None)
    clock.set(second.release_at)
    with pytest.raises(Conflict) as late:
        await services.releases.cancel(ADA, second.id, Channel.api, None)
    assert late.value.code == "release_started"
    assert [a for a, _, _ in await actions(services, "release.cancel")] == ["admin.ada"]


async def test_a_day_with_a_contingent_is_refused_naming_it(services: Services) -> None:
    seeded = wish(vaccine="BNT", first_day=date(2026, 3, 20), last_day=date(2026, 3, 23))
    with pytest.raises(Conflict) as refused:
        await services.releases.schedule(ADA, seeded, Channel.api, None)
    assert refused.value.code == "contingent_overlap"
    (overlap,) = refused.value.details["overlaps"]
    assert overlap["centre_id"] == BIELEFELD and overlap["last_day"] == "2026-03-22"
    assert "centre 1: contingent" in refused.value.message
    await services.releases.schedule(ADA, wish(), Channel.api, None)
    with pytest.raises(Conflict, match="released already"):
        await services.releases.schedule(ADA, wish(first_day=FREE_JNJ), Channel.api, None)
    async with services.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(releases))).scalar() == 1


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"first_day": date(2026, 1, 11), "last_day": date(2026, 1, 11)}, "invalid_release",
         "first_day"),
        ({"last_day": date(2026, 5, 4)}, "invalid_release", "last_day"),
        ({"last_day": FREE_JNJ - timedelta(days=1)}, "invalid_release", "last_day"),
        ({"last_day": FREE_JNJ + timedelta(days=92)}, "invalid_release", "last_day"),
        ({"at": T0 - timedelta(minutes=1)}, "invalid_release", "at"),
        ({"at": datetime(2026, 2, 11, 0, 0, tzinfo=BERLIN)}, "invalid_release", "at"),
        ({"vaccine": "XYZ"}, "unknown_vaccine", "vaccine"),
        ({"centre_ids": (1, 99)}, "unknown_centre", "centre_ids"),
        ({"centre_ids": ()}, "invalid_release", "centre_ids"),
        ({"phone_share_percent": 101}, "invalid_release", "phone_share_percent"),
        ({"first_day": date(2026, 4, 3), "last_day": date(2026, 4, 3)}, "nothing_to_release",
         "first_day"),
    ],
)  # fmt: skip
async def test_refusals_name_the_field_to_fix_and_write_nothing(
    services: Services, changes: dict[str, object], code: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await services.releases.schedule(ADA, wish(**changes), Channel.api, None)
    assert (refused.value.code, refused.value.details.get("field")) == (code, field)
    async with services.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(releases))).scalar() == 0


async def test_releases_between_gives_the_dashboard_what_is_due_in_a_span(
    services: Services,
) -> None:
    from kontingent.admin.releases_repository import releases_between

    one = await services.releases.schedule(ADA, wish(), Channel.api, None)
    later = wish(first_day=FREE_JNJ + timedelta(days=3), last_day=FREE_JNJ + timedelta(days=3))
    two = await services.releases.schedule(
        ADA, ReleaseWish(**{**_fields(later), "at": T0 + timedelta(days=1)}), Channel.api, None
    )
    gone = await services.releases.schedule(
        ADA, wish(first_day=FREE_JNJ + timedelta(days=5), last_day=FREE_JNJ + timedelta(days=5)),
        Channel.api, None,
    )  # fmt: skip
    await services.releases.cancel(ADA, gone.id, Channel.api, None)
    async with services.db.read() as conn:
        today = await releases_between(conn, T0, T0 + timedelta(hours=15))
        both = await releases_between(conn, T0, T0 + timedelta(days=2))
    assert [r.id for r in today] == [one.id]
    assert [r.id for r in both] == [one.id, two.id]


def _fields(w: ReleaseWish) -> dict[str, object]:
    return {name: getattr(w, name) for name in ReleaseWish.__dataclass_fields__}


async def test_waiting_entries_of_other_vaccines_are_left_to_their_job(
    services: Services,
) -> None:
    """The release tells only those waiting for its own centres and vaccine."""
    await fill_centre(services.db, BIELEFELD, "JNJ")
    await services.waitlist.join(phone(1), BIELEFELD, "JNJ", 1)
    await services.waitlist.join(phone(2), BIELEFELD, "MOD", 1)  # MOD is free: not ours
    await services.releases.schedule(ADA, wish(at=None), Channel.api, None)
    assert await waitlist_sms(services) == {phone(1): 1}
    async with services.db.read() as conn:
        waiting = await conn.execute(
            select(waitlist.c.phone).where(waitlist.c.notified_at.is_(None))
        )
        assert [p for (p,) in waiting.all()] == [phone(2)]


async def test_todays_releases_land_on_the_dashboard_scheduled_then_done(
    services: Services, clock: FixedClock
) -> None:
    at = T0 + timedelta(minutes=30)
    made = await services.releases.schedule(ADA, wish(at=at), Channel.browser, None)
    tomorrow = await services.releases.schedule(
        ADA, wish(at=T0 + timedelta(days=1), first_day=FREE_JNJ + timedelta(days=7),
                  last_day=FREE_JNJ + timedelta(days=7)), Channel.browser, None,
    )  # fmt: skip
    dashboard = Dashboard(services.db, clock, services.inventory, services.waiting_room, 0)
    shown = (await dashboard.snapshot()).releases
    assert [(r.id, r.status, r.seats) for r in shown] == [(made.id, "scheduled", made.seats)]
    assert tomorrow.id not in {r.id for r in shown}
    clock.set(at)
    await scheduler_for(services).run_due()
    shown = (await dashboard.snapshot()).releases
    assert [(r.id, r.status) for r in shown] == [(made.id, "done")]
