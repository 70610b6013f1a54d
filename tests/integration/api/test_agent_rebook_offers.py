"""Offers for moving a caller's booking (`GET /api/v1/agent/offers?rebook=CODE`) agree with
the rebooking, on SQLite and PostgreSQL: the booking's own seats count as free, because the
rebooking frees them in its own transaction (booking/rebooking.py). So an agent can move a
couple within a day booked out but for their own seats, and keep the first dose while moving
the second; the offer the booking already holds is not offered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from kontingent.app import Services
from kontingent.inventory.model import local_day
from kontingent.schema import slots
from kontingent.staff.model import Role
from tests.integration.api.test_agent_bookings import agent_book
from tests.integration.api.test_agent_lookups import bearer
from tests.integration.staff.conftest import add_accounts
from tests.support import BIELEFELD, error_of, person, set_free

Client = AsyncTestClient[Litestar]
COUPLE = {"birth_date": "1939-05-01", "postcode": "33602", "persons": 2,
          "partner_birth_date": "1938-11-30", "vaccine": "BNT"}  # fmt: skip


async def home_offers(client: Client, agent: dict[str, str], **extra: str) -> list[list[int]]:
    found = await client.get("/api/v1/agent/offers", params={**COUPLE, **extra}, headers=agent)
    assert found.status_code == 200, found.text
    home = found.json()["centres"][0]
    assert home["centre_id"] == BIELEFELD
    return [[a["slot_id"] for a in o["appointments"]] for o in home["offers"]]


async def couple_booked(client: Client, svc: Services) -> tuple[dict[str, str], dict[str, Any]]:
    await add_accounts(svc)
    agent = await bearer(client, Role.agent)
    ids = (await home_offers(client, agent))[0]
    couple = [person(0, phone="0521 123456"), person(1)]
    made = await agent_book(client, agent, couple, ids)
    assert made.status_code == 201, made.text
    return agent, made.json()


async def book_out_days(svc: Services, first: int, last: int, after: int) -> None:
    """Every BNT slot at the home centre on the days `first` to `last` days after the day
    of slot `after` booked out (seats others took; a booking's own seats stay its own)."""
    async with svc.db.read() as conn:
        rows = (
            await conn.execute(
                select(slots.c.id, slots.c.starts_at).where(
                    slots.c.centre_id == BIELEFELD, slots.c.vaccine_code == "BNT"
                )
            )
        ).all()
    day = local_day(next(at for i, at in rows if i == after))
    ids = [i for i, at in rows if first <= (local_day(at) - day).days <= last]
    await set_free(svc.db, 0, *ids)


async def next_slot(svc: Services, slot_id: int) -> int:
    """The home centre's BNT slot after this one, in the same hour."""
    async with svc.db.read() as conn:
        start = (await conn.execute(select(slots.c.starts_at).where(slots.c.id == slot_id))).one()[
            0
        ]
        after = await conn.execute(
            select(slots.c.id, slots.c.starts_at)
            .where(
                slots.c.centre_id == BIELEFELD,
                slots.c.vaccine_code == "BNT",
                slots.c.starts_at > start,
            )
            .order_by(slots.c.starts_at)
            .limit(1)
        )
        found, at = after.one()
    assert at - start < timedelta(hours=1)
    return int(found)


def firsts_and_seconds(booking: dict[str, Any]) -> tuple[set[int], set[int]]:
    doses = [(a["dose"], a["slot_id"]) for a in booking["appointments"]]
    return {s for d, s in doses if d == 1}, {s for d, s in doses if d == 2}


async def test_a_couple_moves_to_a_slot_of_the_same_hour_keeping_their_second_dose(
    client: Client, svc: Services
) -> None:
    agent, booking = await couple_booked(client, svc)
    (first,), (second,) = firsts_and_seconds(booking)
    # Every second-dose day booked out: the couple's own seats are all the window has left.
    await book_out_days(svc, 1, 60, first)
    later = await next_slot(svc, first)
    plain = await home_offers(client, agent)
    assert not [o for o in plain if second in o]  # to anyone else the slot is full

    moving = await home_offers(client, agent, rebook=booking["code"])
    current = sorted(a["slot_id"] for a in booking["appointments"])
    assert current not in [sorted(o) for o in moving]
    assert [later, later, second, second] in moving, moving
    moved = await client.post(
        f"/api/v1/agent/bookings/{booking['code']}/rebook",
        json={"slot_ids": [later, later, second, second]},
        headers=agent,
    )
    assert moved.status_code == 200, moved.text
    assert firsts_and_seconds(moved.json()) == ({later}, {second})


async def test_keeping_the_first_dose_and_moving_the_second(client: Client, svc: Services) -> None:
    agent, booking = await couple_booked(client, svc)
    (first,), (second,) = firsts_and_seconds(booking)
    await set_free(svc.db, 0, first)  # others took the rest of the first-dose slot
    moving = await home_offers(client, agent, rebook=booking["code"])
    kept_first = [o for o in moving if o[:2] == [first, first]]
    assert kept_first, moving
    new_second = kept_first[0][2]
    assert new_second != second and kept_first[0][2:] == [new_second, new_second]

    moved = await client.post(
        f"/api/v1/agent/bookings/{booking['code']}/rebook",
        json={"slot_ids": kept_first[0]},
        headers=agent,
    )
    assert moved.status_code == 200, moved.text
    assert firsts_and_seconds(moved.json()) == ({first}, {new_second})
    async with svc.db.read() as conn:
        rows = await conn.execute(
            select(slots.c.id, slots.c.capacity - slots.c.booked).where(
                slots.c.id.in_([first, second, new_second])
            )
        )
        free = dict(rows.all())
    assert free[first] == 0  # kept: nothing taken, nothing given back
    assert free[second] >= 2  # given back


async def test_rebook_offers_for_an_unknown_booking_say_so(client: Client, svc: Services) -> None:
    await add_accounts(svc)
    agent = await bearer(client, Role.agent)
    found = await client.get(
        "/api/v1/agent/offers", params={**COUPLE, "rebook": "K7QM-3XPA-9RTD"}, headers=agent
    )
    error_of(found, 404, "booking_not_found")
