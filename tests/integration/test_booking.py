"""Booking on SQLite and PostgreSQL: book, look up, cancel, and every way a booking is refused.

What these tests hold the service to: a booking, its persons, appointments, seats and
confirmations are written together or not at all; a retried request books once; a person holds
one active booking and a verification books once; tokens expire and cannot be forged; a
cancellation frees the seats at once and queues its message; a lost race answers 409 with fresh
offers and leaves nothing behind.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from kontingent.app import Services
from kontingent.booking.service import BookingView, SlotTaken
from kontingent.clock import FixedClock
from kontingent.errors import Conflict, InvalidInput, NotFound, Unauthorized
from kontingent.inventory.model import Offer
from kontingent.schema import appointments, bookings, outbox, persons
from kontingent.verification.model import TokenClaims, issue_token
from tests.support import (
    BIELEFELD,
    T0,
    claims_for,
    db_counts,
    person,
    phone,
    set_free,
    token_for,
)


async def first_offer(services: Services, persons: int = 1, vaccine: str = "BNT") -> Offer:
    return (await services.inventory.offers(BIELEFELD, vaccine, persons, limit=1)).offers[0]


async def book_one(services: Services, i: int = 0) -> tuple[BookingView, TokenClaims, Offer]:
    claims = await claims_for(services, phone(i))
    offer = await first_offer(services)
    return await services.booking.book(claims, [person(i)], offer.slot_ids), claims, offer


def grew(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in before}


async def booked_seats(services: Services, offer: Offer) -> list[int]:
    return [(await services.inventory.slot(i)).booked for i in dict.fromkeys(offer.slot_ids)]


async def test_one_person_booking_writes_everything_together(services: Services) -> None:
    claims = await claims_for(services, phone(0))
    offer = await first_offer(services)
    before = await db_counts(services.db)
    view = await services.booking.book(claims, [person(0)], offer.slot_ids)

    assert grew(before, await db_counts(services.db)) == {
        "bookings": 1,
        "persons": 1,
        "appointments": 2,
        "outbox": 2,  # SMS to the verified phone, e-mail to the person
        "seats": 2,
    }
    assert view.status == "booked" and view.centre_id == BIELEFELD and view.vaccine == "BNT"
    assert [(a.slot_id, a.dose, a.person) for a in view.appointments] == [
        (offer.slot_ids[0], 1, 0),
        (offer.slot_ids[1], 2, 0),
    ]
    assert await booked_seats(services, offer) == [1, 1]
    async with services.db.read() as conn:
        row = (await conn.execute(select(bookings))).mappings().one()
        sent = (await conn.execute(select(outbox.c.recipient, outbox.c.body))).all()
    assert (row["code"], row["phone"], row["status"]) == (view.code, phone(0), "booked")
    assert row["verification_id"] == claims.verification_id
    confirmations = {r.recipient: r.body for r in sent if view.code in r.body}
    assert set(confirmations) == {phone(0), "erika@example.org"}


async def test_couple_booking_sits_side_by_side(services: Services) -> None:
    claims = await claims_for(services, phone(0))
    offer = await first_offer(services, persons=2)
    couple = [person(0), person(1, first_name="Hans", email="hans@example.org")]
    before = await db_counts(services.db)
    view = await services.booking.book(claims, couple, offer.slot_ids)

    assert grew(before, await db_counts(services.db)) == {
        "bookings": 1,
        "persons": 2,
        "appointments": 4,
        "outbox": 3,  # one SMS, two e-mails
        "seats": 4,
    }
    assert [p.first_name for p in view.persons] == ["Erika", "Hans"]
    assert [(a.dose, a.person) for a in view.appointments] == [(1, 0), (1, 1), (2, 0), (2, 1)]
    assert await booked_seats(services, offer) == [2, 2]


async def test_same_idempotency_key_and_body_books_once(services: Services) -> None:
    claims = await claims_for(services, phone(0))
    offer = await first_offer(services)
    first = await services.booking.book(claims, [person(0)], offer.slot_ids, "key-1")
    between = await db_counts(services.db)
    second = await services.booking.book(claims, [person(0)], offer.slot_ids, "key-1")
    assert second == first
    assert await db_counts(services.db) == between
    assert await booked_seats(services, offer) == [1, 1]


async def test_same_idempotency_key_with_another_body_is_refused(services: Services) -> None:
    claims = await claims_for(services, phone(0))
    offers = (await services.inventory.offers(BIELEFELD, "BNT", limit=2)).offers
    await services.booking.book(claims, [person(0)], offers[0].slot_ids, "key-1")
    before = await db_counts(services.db)
    with pytest.raises(InvalidInput) as reused:
        await services.booking.book(claims, [person(0)], offers[1].slot_ids, "key-1")
    assert reused.value.code == "idempotency_key_reused" and "new key" in reused.value.message
    assert await db_counts(services.db) == before


async def test_same_person_cannot_hold_two_bookings(services: Services) -> None:
    await book_one(services, 0)
    other_phone = await claims_for(services, phone(1))  # a new verification, same person
    offers = (await services.inventory.offers(BIELEFELD, "MOD", limit=1)).offers
    before = await db_counts(services.db)
    # Spelled differently, still the same person.
    same = person(0, first_name=" erika ", last_name=person(0)["last_name"].upper())
    with pytest.raises(Conflict) as refused:
        await services.booking.book(other_phone, [same], offers[0].slot_ids)
    assert (refused.value.status, refused.value.code) == (409, "already_booked")
    assert await db_counts(services.db) == before


LOOK_ALIKES = [
    {"first_name": "Erіka"},  # Cyrillic і
    {"first_name": "Εrika"},  # Greek capital Epsilon
    {"first_name": "Erika", "last_name": "Μustermαnnα"},  # Greek Μ and α
    {"first_name": "Еrikа"},  # Cyrillic Е and а
    {"first_name": "Ｅｒｉｋａ"},  # fullwidth
]


async def test_hardening_7_a_look_alike_name_is_the_same_person(services: Services) -> None:
    """Stops a second first dose booked under a name spelled with look-alike letters."""
    await book_one(services, 0)
    offer = (await services.inventory.offers(BIELEFELD, "MOD", limit=1)).offers[0]
    for i, spelling in enumerate(LOOK_ALIKES, start=1):
        claims = await claims_for(services, phone(i))
        before = await db_counts(services.db)
        with pytest.raises(Conflict) as refused:
            await services.booking.book(claims, [person(0, **spelling)], offer.slot_ids)
        assert refused.value.code == "already_booked", spelling
        assert await db_counts(services.db) == before
    other = await claims_for(services, phone(9))
    booked = await services.booking.book(other, [person(0, first_name="Erik")], offer.slot_ids)
    assert booked.status == "booked"  # a name that differs to the eye is another person


async def test_a_verification_books_once(services: Services) -> None:
    _, claims, _ = await book_one(services, 0)
    offer = await first_offer(services)
    before = await db_counts(services.db)
    with pytest.raises(Conflict) as refused:
        await services.booking.book(claims, [person(1)], offer.slot_ids)
    assert refused.value.code == "token_used"
    assert await db_counts(services.db) == before


async def test_token_expires_after_two_hours(services: Services, clock: FixedClock) -> None:
    token = await token_for(services, phone(0))
    clock.advance(timedelta(hours=2) - timedelta(seconds=1))
    assert services.verification.read_token(f"Bearer {token}").phone == phone(0)
    clock.advance(timedelta(seconds=1))
    with pytest.raises(Unauthorized) as expired:
        services.verification.read_token(f"Bearer {token}")
    assert (expired.value.status, expired.value.code) == (401, "token_invalid")


async def test_forged_tokens_are_refused(services: Services) -> None:
    token = await token_for(services, phone(0))
    vid, number, expires, signature = token.split(".")
    forged = [
        f"{vid}.{phone(1)[1:]}.{expires}.{signature}",  # someone else's phone
        f"{vid}.{number}.{int(expires) + 86400}.{signature}",  # a longer life
        f"{vid}.{number}.{expires}.{signature[:-2]}AA",  # a guessed signature
        issue_token("another-secret-" + "y" * 20, vid, phone(0), T0),  # another key
        "not-a-token",
    ]
    for text in forged:
        with pytest.raises(Unauthorized) as refused:
            services.verification.read_token(f"Bearer {text}")
        assert refused.value.code == "token_invalid"
    for header in (None, "", token, f"Basic {token}"):
        with pytest.raises(Unauthorized) as missing:
            services.verification.read_token(header)
        assert missing.value.code == "token_missing"


async def test_lookup_needs_code_and_birth_date(services: Services) -> None:
    view, _, _ = await book_one(services, 0)
    found = await services.booking.find(view.code, "1939-05-01")
    assert found == view
    typed = view.code.lower().replace("-", "")
    assert await services.booking.find(typed, "1939-05-01") == view
    assert await services.booking.find(f" {view.code.lower()} ", "1939-05-01") == view
    for code, born in ((view.code, "1939-05-02"), ("ABCD-EFGH-JKLM", "1939-05-01")):
        with pytest.raises(NotFound) as missing:
            await services.booking.find(code, born)
        assert missing.value.code == "booking_not_found"


async def test_cancel_frees_the_seats_at_once(services: Services) -> None:
    offer = await first_offer(services)
    await set_free(services.db, 1, *offer.slot_ids)  # this booking takes the last seats
    view, _, _ = await book_one(services, 0)
    assert view.appointments[0].slot_id == offer.slot_ids[0]
    assert (await first_offer(services)).slot_ids[0] != offer.slot_ids[0]
    before = await db_counts(services.db)

    cancelled = await services.booking.cancel(view.code, "1939-05-01")
    assert cancelled.status == "cancelled"
    assert grew(before, await db_counts(services.db)) == {
        "bookings": 0,
        "persons": 0,
        "appointments": 0,
        "outbox": 2,  # the cancellation SMS and e-mail
        "seats": -2,
    }
    assert (await first_offer(services)).slot_ids == offer.slot_ids  # offered again at once
    async with services.db.read() as conn:
        states = (await conn.execute(select(appointments.c.status))).scalars().all()
        active = (await conn.execute(select(persons.c.active))).scalars().all()
        bodies = (await conn.execute(select(outbox.c.body))).scalars().all()
    assert states == ["cancelled", "cancelled"] and active == [False]
    assert sum(view.code in b and "abgesagt" in b for b in bodies) == 2

    again = await services.booking.cancel(view.code, "1939-05-01")  # harmless
    assert again.status == "cancelled"
    assert grew(before, await db_counts(services.db))["seats"] == -2
    assert (await services.booking.find(view.code, "1939-05-01")).status == "cancelled"


async def test_person_can_book_again_after_cancelling(services: Services) -> None:
    view, _, offer = await book_one(services, 0)
    await services.booking.cancel(view.code, "1939-05-01")
    claims = await claims_for(services, phone(1))  # a new verification
    again = await services.booking.book(claims, [person(0)], offer.slot_ids)
    assert again.status == "booked" and again.code != view.code
    assert await booked_seats(services, offer) == [1, 1]


@pytest.mark.parametrize("taken", ["first dose", "second dose", "one seat short for two"])
async def test_lost_race_books_nothing_and_gets_fresh_offers(
    services: Services, taken: str
) -> None:
    claims = await claims_for(services, phone(0))
    persons_ = 2 if taken == "one seat short for two" else 1
    offer = await first_offer(services, persons=persons_)
    first, second = dict.fromkeys(offer.slot_ids)
    full = first if taken == "first dose" else second
    await set_free(services.db, 1 if persons_ == 2 else 0, full)
    before = await db_counts(services.db)
    people: list[dict[str, Any]] = [person(i) for i in range(persons_)]
    with pytest.raises(SlotTaken) as lost:
        await services.booking.book(claims, people, offer.slot_ids)
    assert lost.value.status == 409
    assert await db_counts(services.db) == before  # neither dose, nobody
    fresh = lost.value.details["offers"]
    assert fresh and all(len(o["appointments"]) == 2 * persons_ for o in fresh)
    assert all(full not in [a["slot_id"] for a in o["appointments"]] for o in fresh)
    retry = [a["slot_id"] for a in fresh[0]["appointments"]]
    assert (await services.booking.book(claims, people, retry)).status == "booked"
