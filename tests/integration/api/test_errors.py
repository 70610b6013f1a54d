"""Bad input over HTTP on SQLite and PostgreSQL: every answer is a 4xx JSON error of the shape
`{"error": {"code", "message", "details"}}` whose message says what to fix, and nothing is
written: bookings, persons, appointments, outbox rows and the seats taken stay as they were.

The cases run in loops inside few tests (one app per test is the expensive part); each case
checks its own answer and the database after it, and names itself when it fails.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from kontingent.app import Services
from kontingent.clock import BERLIN
from kontingent.schema import campaigns, slots
from tests.support import (
    BIELEFELD,
    T0,
    changed_rows,
    db_counts,
    error_of,
    person,
    phone,
    read_pin,
    unreleased,
)

Client = AsyncTestClient[Litestar]
GetToken = Callable[[int], Awaitable[str]]  # the `get_token` fixture
BOCHUM = 2


@dataclass(frozen=True)
class Ctx:
    """A valid token and slot ids to spoil in the cases."""

    token: str
    offer: list[int]  # BioNTech, one person, Bielefeld
    couple: list[int]  # BioNTech, two persons, Bielefeld
    bochum: list[int]  # BioNTech, one person, Bochum
    moderna: list[int]  # Moderna, one person, Bielefeld
    jnj: list[int]  # Johnson & Johnson, one person, Bielefeld
    too_early: int  # a BioNTech slot 10 days after `offer`'s first dose
    past: list[int]  # BioNTech at 08:00 today (before T0) and 21 days later


@dataclass(frozen=True)
class Case:
    name: str
    status: int
    code: str
    words: str  # the message must say this, so the caller knows what to fix
    body: Callable[[Ctx], Any]  # JSON-able, or bytes sent as they are
    headers: Callable[[Ctx], dict[str, str]] = lambda c: {"Authorization": f"Bearer {c.token}"}


async def slot_at(svc: Services, centre: int, vaccine: str, at: datetime) -> int:
    query = select(slots.c.id).where(
        slots.c.centre_id == centre, slots.c.vaccine_code == vaccine, slots.c.starts_at == at
    )
    async with svc.db.read() as conn:
        slot_id: int = (await conn.execute(query)).scalar_one()
    return slot_id


async def ids_of(svc: Services, centre: int, vaccine: str, persons: int = 1) -> list[int]:
    view = await svc.inventory.offers(centre, vaccine, persons, limit=1)
    return view.offers[0].slot_ids


@pytest.fixture
async def ctx(svc: Services, get_token: GetToken) -> Ctx:
    offer = await svc.inventory.offers(BIELEFELD, "BNT", 1, limit=1)
    first = offer.offers[0].appointments[0].starts_at
    eight = datetime.combine(T0.date(), time(8, 0), BERLIN)
    return Ctx(
        token=await get_token(0),
        offer=offer.offers[0].slot_ids,
        couple=await ids_of(svc, BIELEFELD, "BNT", 2),
        bochum=await ids_of(svc, BOCHUM, "BNT"),
        moderna=await ids_of(svc, BIELEFELD, "MOD"),
        jnj=await ids_of(svc, BIELEFELD, "JNJ"),
        too_early=await slot_at(svc, BIELEFELD, "BNT", first + timedelta(days=10)),
        past=[
            await slot_at(svc, BIELEFELD, "BNT", eight),
            await slot_at(svc, BIELEFELD, "BNT", eight + timedelta(days=21)),
        ],
    )


def one(ids: Callable[[Ctx], list[int]], **changes: Any) -> Callable[[Ctx], Any]:
    """A booking body for `person(0)` with `changes` on the offer `ids` picks."""
    return lambda c: {"persons": [person(0, **changes)], "slot_ids": ids(c)}


def without(field: str) -> dict[str, Any]:
    data = person(0)
    del data[field]
    return data


BOOKING_CASES = [
    Case("malformed JSON", 400, "malformed_json", "not valid JSON", lambda c: b'{"persons": ['),
    Case("no body at all", 422, "invalid_input", "body is missing", lambda c: b""),
    Case("a list, not an object", 422, "invalid_input", "object", lambda c: b"[]"),
    Case("no slot_ids", 422, "invalid_input", "slot_ids", lambda c: {"persons": [person(0)]}),
    Case("no persons", 422, "invalid_input", "persons", lambda c: {"slot_ids": c.offer}),
    Case(
        "an unknown field",
        422,
        "invalid_input",
        "price",
        lambda c: {"persons": [person(0)], "slot_ids": c.offer, "price": 0},
    ),
    Case("a slot id as text", 422, "invalid_input", "slot_ids[0]", one(lambda c: ["a", "b"])),
    Case("slot id zero", 422, "invalid_input", "slot_ids[0]", one(lambda c: [0, c.offer[1]])),
    Case(
        "a name as a number",
        422,
        "invalid_input",
        "persons[0].first_name",
        one(lambda c: c.offer, first_name=3),
    ),
    Case(
        "no birth date",
        422,
        "invalid_input",
        "persons[0].birth_date",
        lambda c: {"persons": [without("birth_date")], "slot_ids": c.offer},
    ),
    Case(
        "no last name",
        422,
        "invalid_input",
        "persons[0].last_name",
        lambda c: {"persons": [without("last_name")], "slot_ids": c.offer},
    ),
    Case(
        "an impossible birth date",
        422,
        "invalid_input",
        "not a real date",
        one(lambda c: c.offer, birth_date="1939-02-30"),
    ),
    Case(
        "a birth date in the future",
        422,
        "invalid_person",
        "in the future",
        one(lambda c: c.offer, birth_date="2027-01-01"),
    ),
    Case(
        "a birth date not in ISO form",
        422,
        "invalid_input",
        "YYYY-MM-DD",
        one(lambda c: c.offer, birth_date="01.05.1939"),
    ),
    Case(
        "an unknown postcode",
        422,
        "unknown_postcode",
        "99999",
        one(lambda c: c.offer, postcode="99999"),
    ),
    Case(
        "a postcode with a letter",
        422,
        "invalid_input",
        "persons[0].postcode",
        one(lambda c: c.offer, postcode="3360A"),
    ),
    Case(
        "markup in a name",
        422,
        "invalid_input",
        "persons[0].last_name",
        one(lambda c: c.offer, last_name="<script>alert(1)</script>"),
    ),
    Case(
        "a broken e-mail address",
        422,
        "invalid_input",
        "persons[0].email",
        one(lambda c: c.offer, email="erika@"),
    ),
    Case(
        "a broken phone number",
        422,
        "invalid_input",
        "persons[0].phone",
        one(lambda c: c.offer, phone="12"),
    ),
    Case(
        "three persons",
        422,
        "invalid_input",
        "persons",
        lambda c: {"persons": [person(0), person(1), person(2)], "slot_ids": c.couple},
    ),
    Case(
        "the same person twice",
        422,
        "invalid_persons",
        "same person",
        lambda c: {"persons": [person(0), person(0, first_name="ERIKA")], "slot_ids": c.couple},
    ),
    Case("too many slot ids", 422, "invalid_input", "slot_ids", one(lambda c: list(range(1, 10)))),
    Case(
        "three slot ids for one person",
        422,
        "invalid_offer",
        "exactly 2 slot ids",
        one(lambda c: [*c.offer, c.too_early]),
    ),
    Case(
        "a single's offer for a couple",
        422,
        "invalid_offer",
        "exactly 4 slot ids",
        lambda c: {"persons": [person(0), person(1)], "slot_ids": c.offer},
    ),
    Case(
        "two slots of a one-dose vaccine",
        422,
        "invalid_offer",
        "exactly 1 slot ids",
        one(lambda c: [c.jnj[0], c.jnj[0] + 1]),
    ),
    Case(
        "unknown slot ids",
        422,
        "unknown_slot",
        "unknown slot ids",
        one(lambda c: [10**8, 10**8 + 1]),
    ),
    Case(
        "slots of two centres",
        422,
        "invalid_offer",
        "same centre",
        one(lambda c: [c.offer[0], c.bochum[1]]),
    ),
    Case(
        "doses of two vaccines",
        422,
        "invalid_offer",
        "must be for",
        one(lambda c: [c.offer[0], c.moderna[1]]),
    ),
    Case(
        "the second dose too early",
        422,
        "invalid_offer",
        "21 to 42 days after the first",
        one(lambda c: [c.offer[0], c.too_early]),
    ),
    Case(
        "the same slot for both doses",
        422,
        "invalid_offer",
        "21 to 42 days",
        one(lambda c: [c.offer[0], c.offer[0]]),
    ),
    Case(
        "BioNTech for a 65-year-old (the 60+ cohort has AstraZeneca and J&J only)",
        422,
        "not_eligible",
        "does not include BioNTech",
        one(lambda c: c.offer, birth_date="1960-06-01"),
    ),
    Case(
        "a 15-year-old",
        422,
        "not_eligible",
        "age 15",
        one(lambda c: c.offer, birth_date="2010-06-01"),
    ),
    Case(
        "slots in the past",
        422,
        "slot_not_bookable",
        "take a current offer",
        one(lambda c: c.past),
    ),
    Case(
        "an Idempotency-Key that is too long",
        422,
        "invalid_input",
        "Idempotency-Key",
        one(lambda c: c.offer),
        lambda c: {"Authorization": f"Bearer {c.token}", "Idempotency-Key": "k" * 101},
    ),
    Case("no Authorization", 401, "token_missing", "Bearer", one(lambda c: c.offer), lambda c: {}),
    Case(
        "a garbage token",
        401,
        "token_invalid",
        "verify your phone",
        one(lambda c: c.offer),
        lambda c: {"Authorization": "Bearer garbage"},
    ),
    Case(
        "a token for another phone",
        401,
        "token_invalid",
        "verify your phone",
        one(lambda c: c.offer),
        lambda c: {"Authorization": "Bearer " + c.token.replace(phone(0)[1:], phone(1)[1:])},
    ),
    Case(
        "Basic instead of Bearer",
        401,
        "token_missing",
        "Bearer",
        one(lambda c: c.offer),
        lambda c: {"Authorization": f"Basic {c.token}"},
    ),
]


async def send(client: Client, method: str, url: str, body: Any, headers: dict[str, str]) -> Any:
    if isinstance(body, bytes):
        headers = {**headers, "Content-Type": "application/json"}
        return await client.request(method, url, content=body, headers=headers)
    return await client.request(method, url, json=body, headers=headers)


REASONS = {
    "slot_not_bookable": {"in_the_past", "not_released", "outside_booking_window"},
    "invalid_offer": {
        "wrong_slot_count",
        "mixed_centres",
        "mixed_vaccines",
        "not_side_by_side",
        "interval_outside_window",
    },
    "not_eligible": {
        "too_young_on_that_day",
        "too_old_for_cohort",
        "vaccine_age_limit",
        "vaccine_not_in_cohort",
        "cohort_not_open",
        "centre_outside_district",
    },
}


def refused(response: httpx.Response, case: Case) -> None:
    try:
        error = error_of(response, case.status, case.code)
        assert case.words.lower() in error["message"].lower(), error["message"]
    except AssertionError as exc:
        raise AssertionError(f"case {case.name!r}: {exc}") from None


async def test_bad_bookings_are_refused_and_write_nothing(
    client: Client, svc: Services, ctx: Ctx
) -> None:
    before = await db_counts(svc.db)
    for case in BOOKING_CASES:
        response = await send(client, "POST", "/api/v1/bookings", case.body(ctx), case.headers(ctx))
        refused(response, case)
        if case.code in REASONS:  # the refusals of an offer say which rule applies
            reason = response.json()["error"]["details"].get("reason")
            assert reason in REASONS[case.code], (case.name, reason)
        assert await db_counts(svc.db) == before, f"case {case.name!r} wrote something"
    # The same token and offer still book: the refusals used nothing up.
    good = await send(
        client,
        "POST",
        "/api/v1/bookings",
        {"persons": [person(0)], "slot_ids": ctx.offer},
        {"Authorization": f"Bearer {ctx.token}"},
    )
    assert good.status_code == 201, good.text


async def test_unreleased_slots_cannot_be_booked(client: Client, svc: Services, ctx: Ctx) -> None:
    case = Case(
        "an unreleased contingent", 422, "slot_not_bookable", "not released", one(lambda c: [])
    )
    async with unreleased(svc.db, BIELEFELD, "MOD", T0 + timedelta(hours=1)):
        before = await db_counts(svc.db)
        body = {"persons": [person(0)], "slot_ids": ctx.moderna}
        headers = {"Authorization": f"Bearer {ctx.token}"}
        response = await send(client, "POST", "/api/v1/bookings", body, headers)
        refused(response, case)
        assert response.json()["error"]["details"]["reason"] == "not_released"
        assert await db_counts(svc.db) == before


async def test_slots_outside_the_booking_window_cannot_be_booked(
    client: Client, svc: Services, ctx: Ctx
) -> None:
    ten = datetime.combine(T0.date() + timedelta(days=20), time(10, 0), BERLIN)
    ids = [  # a valid pair, but the second dose lies after the window's end
        await slot_at(svc, BIELEFELD, "BNT", ten),
        await slot_at(svc, BIELEFELD, "BNT", ten + timedelta(days=21)),
    ]
    case = Case("after the window", 422, "slot_not_bookable", "booking window", one(lambda c: []))
    window_end = T0 + timedelta(days=30)
    async with changed_rows(svc.db, campaigns, campaigns.c.id > 0, booking_until=window_end):
        before = await db_counts(svc.db)
        body = {"persons": [person(0)], "slot_ids": ids}
        headers = {"Authorization": f"Bearer {ctx.token}"}
        response = await send(client, "POST", "/api/v1/bookings", body, headers)
        refused(response, case)
        assert response.json()["error"]["details"]["reason"] == "outside_booking_window"
        assert await db_counts(svc.db) == before


def plain(method: str, url: str, status: int, code: str, words: str, body: Any = None) -> Any:
    return (method, url, body, Case(f"{method} {url}", status, code, words, lambda c: body))


OTHER_CASES = [
    plain("POST", "/api/v1/eligibility", 400, "malformed_json", "not valid JSON", b"{oops"),
    plain(
        "POST",
        "/api/v1/eligibility",
        422,
        "invalid_input",
        "postcode",
        {"birth_date": "1939-05-01"},
    ),
    plain(
        "POST",
        "/api/v1/eligibility",
        422,
        "invalid_input",
        "birth_date",
        {"birth_date": 19390501, "postcode": "33602"},
    ),
    plain(
        "POST",
        "/api/v1/eligibility",
        422,
        "invalid_input",
        "not a real date",
        {"birth_date": "1939-02-30", "postcode": "33602"},
    ),
    plain(
        "POST",
        "/api/v1/eligibility",
        422,
        "invalid_input",
        "in the future",
        {"birth_date": "2026-01-13", "postcode": "33602"},
    ),
    plain(
        "POST",
        "/api/v1/eligibility",
        422,
        "unknown_postcode",
        "postcode 99999",
        {"birth_date": "1939-05-01", "postcode": "99999"},
    ),
    plain(
        "POST",
        "/api/v1/verifications",
        422,
        "invalid_input",
        "mobile number",
        {"phone": "+49 521 123456"},
    ),
    plain("POST", "/api/v1/verifications", 422, "invalid_input", "phone", {}),
    plain("POST", "/api/v1/verifications", 400, "malformed_json", "not valid JSON", b"phone"),
    plain("POST", "/api/v1/verifications/nope", 422, "invalid_input", "6 digits", {"pin": "12a"}),
    plain(
        "POST",
        "/api/v1/verifications/nope",
        404,
        "unknown_verification",
        "ask for a new PIN",
        {"pin": "123456"},
    ),
    plain("GET", "/api/v1/centres/99/offers?vaccine=BNT", 404, "unknown_centre", "/centres"),
    plain("GET", "/api/v1/centres/1/offers?vaccine=XY", 422, "unknown_vaccine", "BNT"),
    plain("GET", "/api/v1/centres/1/offers", 422, "invalid_input", "vaccine"),
    plain("GET", "/api/v1/centres/1/offers?vaccine=BNT&persons=3", 422, "invalid_input", "persons"),
    plain("GET", "/api/v1/centres/1/offers?vaccine=BNT&limit=0", 422, "invalid_input", "limit"),
    plain("GET", "/api/v1/centres/1/offers?vaccine=BNT&limit=x", 422, "invalid_input", "limit"),
    plain("GET", "/api/v1/slots/123456789", 404, "unknown_slot", "no slot"),
    plain("GET", "/api/v1/bookings/XX?birth_date=1939-05-01", 422, "invalid_input", "12 letters"),
    plain("GET", "/api/v1/bookings/ABCD-EFGH-JKLM", 422, "invalid_input", "birth_date"),
    plain(
        "GET",
        "/api/v1/bookings/ABCD-EFGH-JKLM?birth_date=1939-13-01",
        422,
        "invalid_input",
        "not a real date",
    ),
    plain(
        "GET",
        "/api/v1/bookings/ABCD-EFGH-JKLM?birth_date=1939-05-01",
        404,
        "booking_not_found",
        "check both",
    ),
    plain(
        "DELETE",
        "/api/v1/bookings/ABCD-EFGH-JKLM?birth_date=1939-05-01",
        404,
        "booking_not_found",
        "check both",
    ),
    plain("DELETE", "/api/v1/bookings/0000?birth_date=1939-05-01", 422, "invalid_input", "letters"),
]


async def test_bad_requests_elsewhere_are_refused_and_write_nothing(
    client: Client, svc: Services
) -> None:
    before = await db_counts(svc.db)
    for method, url, body, case in OTHER_CASES:
        refused(await send(client, method, url, body, {}), case)
        assert await db_counts(svc.db) == before, f"case {case.name!r} wrote something"


async def test_wrong_pins_write_nothing_but_the_attempt(client: Client, svc: Services) -> None:
    started = await client.post("/api/v1/verifications", json={"phone": phone(5)})
    pin = await read_pin(svc, phone(5))
    before = await db_counts(svc.db)
    url = f"/api/v1/verifications/{started.json()['verification_id']}"
    wrong = f"{(int(pin) + 1) % 1_000_000:06d}"
    for text, status, code in ((wrong, 400, "wrong_pin"), ("abcdef", 422, "invalid_input")):
        error = error_of(await client.post(url, json={"pin": text}), status, code)
        assert "PIN" in error["message"]
    assert await db_counts(svc.db) == before
