"""The waitlist on both dialects: joining is idempotent, and `notify_released` sends one SMS
per waiting entry once offers are free for it, exactly once however often it runs."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update

from kontingent.app import Services
from kontingent.errors import InvalidInput
from kontingent.schema import outbox, slots, waitlist
from tests.support import BIELEFELD, fill_centre, phone

pytestmark = pytest.mark.usefixtures("clean_waitlist")


async def sms_to(services: Services, number: str) -> list[str]:
    async with services.db.read() as conn:
        query = select(outbox.c.body).where(outbox.c.recipient == number)
        return list((await conn.execute(query)).scalars().all())


async def free_one_pair(services: Services, centre_id: int, vaccine: str, seats: int) -> None:
    """Give back `seats` seats in every slot of a centre (a cancellation wave)."""
    async with services.db.write() as conn:
        await conn.execute(
            update(slots)
            .where(slots.c.centre_id == centre_id, slots.c.vaccine_code == vaccine)
            .values(booked=slots.c.capacity - seats)
        )


async def test_join_twice_waits_once(services: Services) -> None:
    first = await services.waitlist.join(phone(1), BIELEFELD, "BNT", 1)
    again = await services.waitlist.join("0170 1000001", BIELEFELD, "BNT", 2)
    assert not first.already and again.already
    assert again.entry.id == first.entry.id
    both = await asyncio.gather(
        services.waitlist.join(phone(2), BIELEFELD, "BNT", 1),
        services.waitlist.join(phone(2), BIELEFELD, "BNT", 1),
    )
    assert sorted(j.already for j in both) == [False, True]
    async with services.db.read() as conn:
        rows = (await conn.execute(select(waitlist.c.phone))).scalars().all()
    assert sorted(rows) == [phone(1), phone(2)]


@pytest.mark.parametrize(
    ("number", "centre", "vaccine", "persons", "field"),
    [
        ("030 1234567", BIELEFELD, "BNT", 1, "phone"),
        (phone(1), 999, "BNT", 1, "centre"),
        (phone(1), BIELEFELD, "XYZ", 1, "vaccine"),
        (phone(1), BIELEFELD, "BNT", 3, "persons"),
    ],
)
async def test_join_refuses_bad_input(
    services: Services, number: str, centre: int, vaccine: str, persons: int, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await services.waitlist.join(number, centre, vaccine, persons)
    assert refused.value.details["field"] == field


async def test_notify_released_messages_each_waiting_entry_once(services: Services) -> None:
    await fill_centre(services.db, BIELEFELD, "BNT")
    await services.waitlist.join(phone(1), BIELEFELD, "BNT", 1)
    await services.waitlist.join(phone(2), BIELEFELD, "BNT", 2)
    await services.waitlist.join(phone(3), BIELEFELD, "MOD", 1)  # MOD is free: told at once
    assert await services.waitlist.notify_released() == 1
    assert len(await sms_to(services, phone(3))) == 1
    assert await sms_to(services, phone(1)) == []

    await free_one_pair(services, BIELEFELD, "BNT", seats=1)  # room for one, not for two
    assert await services.waitlist.notify_released() == 1
    [text] = await sms_to(services, phone(1))
    assert "Impfzentrum Bielefeld" in text and "BioNTech" in text
    assert await sms_to(services, phone(2)) == []

    await free_one_pair(services, BIELEFELD, "BNT", seats=2)
    runs = await asyncio.gather(*(services.waitlist.notify_released() for _ in range(3)))
    assert sum(runs) == 1  # concurrent runs claim each entry once
    assert len(await sms_to(services, phone(2))) == 1
    assert await services.waitlist.notify_released() == 0
    assert len(await sms_to(services, phone(1))) == 1


async def test_a_notified_number_may_join_again(services: Services) -> None:
    await services.waitlist.join(phone(1), BIELEFELD, "BNT", 1)
    assert await services.waitlist.notify_released() == 1  # the seeded centre has offers
    rejoined = await services.waitlist.join(phone(1), BIELEFELD, "BNT", 1)
    assert not rejoined.already
