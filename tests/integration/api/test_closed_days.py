"""A public holiday nobody opened cannot be booked, even by a client that posts slot ids it
did not get from an offer: 409 `centre_closed`, nothing written; once an admin opened the
day, the same slots book. On SQLite and PostgreSQL.

Good Friday 2026 (3 April) is a holiday in North Rhine-Westphalia: an AstraZeneca first dose
on Friday 30 January has its second dose due that very day (63 days on).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, select

from kontingent.app import Services
from kontingent.clock import BERLIN
from kontingent.errors import Conflict
from kontingent.inventory import days as day_repo
from kontingent.schema import opened_days, slots
from tests.integration.api.conftest import GetToken
from tests.integration.api.test_booking_api import book, slot_booked
from tests.support import BIELEFELD, T0, db_counts, error_of, person

FIRST = datetime(2026, 1, 30, 10, 0, tzinfo=BERLIN)
GOOD_FRIDAY = datetime(2026, 4, 3, 10, 0, tzinfo=BERLIN)


async def slot_at(services: Services, at: datetime) -> int:
    query = select(slots.c.id).where(
        slots.c.centre_id == BIELEFELD, slots.c.vaccine_code == "AZ", slots.c.starts_at == at
    )
    async with services.db.read() as conn:
        return int((await conn.execute(query)).scalar_one())


@pytest.fixture
async def no_opened_days(services: Services) -> AsyncIterator[None]:
    """`opened_days` is not among the tables the fixtures reset: leave it as found."""
    yield
    async with services.db.write() as conn:
        await conn.execute(delete(opened_days))


async def test_a_slot_on_a_closed_holiday_is_refused_with_centre_closed(
    client: AsyncTestClient[Litestar], svc: Services, get_token: GetToken
) -> None:
    ids = [await slot_at(svc, FIRST), await slot_at(svc, GOOD_FRIDAY)]
    token = await get_token(0)
    before = await db_counts(svc.db)
    response = await book(client, token, [person(0)], ids)
    error = error_of(response, 409, "centre_closed")
    assert "closed on 2026-04-03" in error["message"]
    assert "Karfreitag" in error["message"] or "Good Friday" in error["message"]
    assert error["details"] == {"slot_id": ids[1], "day": "2026-04-03"}
    assert await db_counts(svc.db) == before
    assert [await slot_booked(client, i) for i in ids] == [0, 0]


async def test_the_same_slots_book_once_an_admin_opened_the_day(
    client: AsyncTestClient[Litestar], svc: Services, get_token: GetToken, no_opened_days: None
) -> None:
    # Opened before the app first reads its catalogue (kept for a few seconds once read).
    async with svc.db.write() as conn:
        assert await day_repo.open_day(conn, BIELEFELD, GOOD_FRIDAY.date(), T0)
    ids = [await slot_at(svc, FIRST), await slot_at(svc, GOOD_FRIDAY)]
    response = await book(client, await get_token(0), [person(0)], ids)
    assert response.status_code == 201, response.text
    assert [await slot_booked(client, i) for i in ids] == [1, 1]


async def test_a_rebooking_onto_a_closed_holiday_is_refused_too(
    client: AsyncTestClient[Litestar], svc: Services, get_token: GetToken
) -> None:
    offer = (await svc.inventory.offers(BIELEFELD, "AZ", limit=1)).offers[0]
    response = await book(client, await get_token(0), [person(0)], offer.slot_ids)
    assert response.status_code == 201, response.text
    code = response.json()["code"]
    ids = [await slot_at(svc, FIRST), await slot_at(svc, GOOD_FRIDAY)]
    with pytest.raises(Conflict) as refused:
        await svc.booking.rebook(code, person(0)["birth_date"], ids)
    assert refused.value.code == "centre_closed"
    assert [await slot_booked(client, i) for i in ids] == [0, 0]
    assert [await slot_booked(client, i) for i in offer.slot_ids] == [1, 1]
