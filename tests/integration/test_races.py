"""Race tests at the service level: hundreds of concurrent bookings never overbook.

They run on SQLite and on PostgreSQL (the `services` fixture) and prove, after each race, with
SQL: no slot holds more than its capacity; `slots.booked` equals the booked appointments of
every slot; every booking holds one appointment per dose per person, persons side by side; the
winners are exactly as many as the capacity allows; every loser got `SlotTaken` (409,
`slot_taken`) with fresh offers that show what is free (the reserve below) and do not offer
again the seat it just lost; nothing else was raised. Each race is released at once by an
`asyncio.Barrier` (no sleeps); the bookings run on the service's connection pool
(`db_pool_size`) in parallel.

The scarcity is made on purpose so the winners can be counted exactly, whatever the order: at
the Bielefeld centre every BNT slot gets capacity 0 except a few first-dose slots F (tomorrow)
and second-dose slots S (21 days later), with these capacities times `SCALE`:

    kind  persons  offer     capacities               winners
    T1    1        F1 + S1   F1 7, S1 13              7   F1 is T1's alone
    T2    2        F2 + S1   F2 6                     3   S1 = T1 + 2*T2 = 7 + 6: 1- and 2-person
    T3    1        F3 + S2   F3 5, S2 3               3   offers share S1
    T4    1        F3 + S3   S3 2                     2   F3 = T3 + T4 = 3 + 2
    T5    2        F4 + S4   F4 8, S4 4               2
    T6    2        F4 + S5   S5 4                     2   F4 = 2*T5 + 2*T6 = 4 + 4
    -     -        F6 + S6   F6 2, S6 2               -   the reserve: nobody asks for it

Every shared slot has exactly the room its kinds' winners need, so a request fails only when its
own kind has all its winners already: with more requests per kind than winners the count is
exact and every requested slot ends full. The reserve stays free, so every loser's fresh offers
must show it, for one person or two. The helpers here are reused by tests/e2e/test_http_races.py.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any, TypeVar

import pytest
from sqlalchemy import select, text, update

from kontingent.app import Services
from kontingent.booking.service import BookingView, SlotTaken
from kontingent.clock import BERLIN
from kontingent.db import Database
from kontingent.errors import Conflict, Overloaded, RateLimited
from kontingent.inventory.model import local_day
from kontingent.inventory.service import TtlCache
from kontingent.schema import slots, verifications
from kontingent.verification import model as verification_model
from tests.support import BIELEFELD, T0, person, phone

T = TypeVar("T")
VACCINE = "BNT"  # two doses, 21 to 42 days apart
SCALE = 2
REQUESTS_PER_KIND = 50


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    persons: int
    first: str
    second: str
    winners: int  # exactly, times SCALE


KINDS = (
    Kind("T1", 1, "F1", "S1", 7),
    Kind("T2", 2, "F2", "S1", 3),
    Kind("T3", 1, "F3", "S2", 3),
    Kind("T4", 1, "F3", "S3", 2),
    Kind("T5", 2, "F4", "S4", 2),
    Kind("T6", 2, "F4", "S5", 2),
)
CAPACITY = {"F1": 7, "F2": 6, "F3": 5, "F4": 8, "S1": 13, "S2": 3, "S3": 2, "S4": 4, "S5": 4}
RESERVE = {"F6": 2, "S6": 2}


@dataclass(frozen=True, slots=True)
class Request:
    kind: Kind
    phone: str
    persons: list[dict[str, Any]]
    slot_ids: list[int]


# --- building a race ---------------------------------------------------------------------------


def slot_time(day: date, index: int) -> datetime:
    """The start of the `index`-th 20-minute slot from 10:00 on `day`, in Berlin."""
    return datetime.combine(day, time(10, 0), BERLIN) + timedelta(minutes=20 * index)


async def slot_ids_at(db: Database, starts: Mapping[str, datetime]) -> dict[str, int]:
    """The Bielefeld BNT slot id of every named start time."""
    found: dict[str, int] = {}
    async with db.read() as conn:
        for name, at in starts.items():
            query = select(slots.c.id).where(
                slots.c.centre_id == BIELEFELD,
                slots.c.vaccine_code == VACCINE,
                slots.c.starts_at == at,
            )
            found[name] = (await conn.execute(query)).scalar_one()
    return found


async def make_scarce(db: Database, capacity: Mapping[str, int], day: date) -> dict[str, int]:
    """Close every Bielefeld BNT slot but the named ones, which get `capacity`; name -> slot id.

    F<n> are first-dose slots on `day`, S<n> second-dose slots 21 days later, at the same hour.
    """
    starts = {
        name: slot_time(day + timedelta(days=21 if name[0] == "S" else 0), int(name[1:]) - 1)
        for name in capacity
    }
    ids = await slot_ids_at(db, starts)
    async with db.write() as conn:
        await conn.execute(
            update(slots)
            .where(slots.c.centre_id == BIELEFELD, slots.c.vaccine_code == VACCINE)
            .values(capacity=0, phone_reserved=0)  # a demo seeded with a phone share
        )
        for name, slot_id in ids.items():
            await conn.execute(
                update(slots).where(slots.c.id == slot_id).values(capacity=capacity[name])
            )
    return ids


async def mint_tokens(db: Database, secret: str, phones: Sequence[str], now: datetime) -> list[str]:
    """Booking tokens for `phones`, as check_pin would issue them after a right PIN.

    The PIN flow is tested elsewhere and allows five PINs per number a day; a race needs
    hundreds of tokens fast, so the verification rows are stored as verified and the tokens are
    signed with the service's secret key by the verification model's own function.
    """
    rows, tokens = [], []
    for number in phones:
        vid = verification_model.new_verification_id()
        pin = verification_model.new_pin()
        rows.append(
            {
                "id": vid,
                "phone": number,
                "pin_hash": verification_model.hash_pin(secret, vid, pin),
                "created_at": now,
                "expires_at": now + verification_model.PIN_VALIDITY,
                "resend_after": now + verification_model.RESEND_COOL_DOWN,
                "attempts": 1,
                "verified_at": now,
            }
        )
        tokens.append(verification_model.issue_token(secret, vid, number, now))
    async with db.write() as conn:
        await conn.execute(verifications.insert(), rows)
    return tokens


def race_requests(ids: Mapping[str, int], per_kind: int, first_person: int = 0) -> list[Request]:
    """`per_kind` requests of every kind, kinds interleaved, every person and phone distinct."""
    requests = []
    counter = itertools.count(first_person)
    for _, kind in itertools.product(range(per_kind), KINDS):
        n = next(counter)
        people = [person(2 * n + i) for i in range(kind.persons)]
        slot_ids = [ids[kind.first]] * kind.persons + [ids[kind.second]] * kind.persons
        requests.append(Request(kind, phone(n), people, slot_ids))
    return requests


async def race(calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T | BaseException]:
    """Run all `calls` at once: each waits at one barrier, which the last arrival opens."""
    barrier = asyncio.Barrier(len(calls) + 1)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        await barrier.wait()
        return await call()

    tasks = [asyncio.create_task(one(call)) for call in calls]
    await barrier.wait()
    return await asyncio.gather(*tasks, return_exceptions=True)


# --- checking a race ---------------------------------------------------------------------------


def fresh_offer_problems(
    details: Mapping[str, Any], request: Request, open_slots: set[int], reserve: int | None
) -> list[str]:
    """What is wrong with the fresh offers a loser got (empty when they are right).

    A loser lost on a slot without room for its persons; seats are only taken during a race
    without cancellations, so that slot can never again be in an offer for as many persons.
    The `reserve` first-dose slot (if any) has room throughout, and so has a second-dose slot
    for it, so an offer starting there must be shown.
    """
    offers = details.get("offers")
    if not isinstance(offers, list):
        return [f"{request.kind.name}: no fresh offers in {details}"]
    problems = []
    offered_ids = [[a["slot_id"] for a in offer["appointments"]] for offer in offers]
    offered = {slot_id for ids in offered_ids for slot_id in ids}
    for ids in offered_ids:
        if len(ids) != 2 * request.kind.persons:
            problems.append(f"{request.kind.name}: offer {ids} is not 2 doses per person")
        if not set(ids) <= open_slots:
            problems.append(f"{request.kind.name}: offer {ids} holds a closed slot")
    if reserve is not None and not any(reserve in ids for ids in offered_ids):
        problems.append(f"{request.kind.name}: no offer from the free slot {reserve}")
    if set(request.slot_ids) <= offered:
        problems.append(f"{request.kind.name}: lost on {request.slot_ids}, offered again")
    if not offers and not details.get("alternatives"):
        problems.append(f"{request.kind.name}: no offers and no neighbouring centres shown")
    return problems


async def ledger_problems(db: Database) -> list[str]:
    """Every way the slots, bookings and appointments can disagree, as read with SQL."""
    async with db.read() as conn:
        over = (await conn.execute(text("SELECT id FROM slots WHERE booked > capacity"))).all()
        drift = (
            await conn.execute(
                text(
                    "SELECT s.id, s.booked, COUNT(a.id) FROM slots s "
                    "LEFT JOIN appointments a ON a.slot_id = s.id AND a.status = 'booked' "
                    "GROUP BY s.id, s.booked HAVING s.booked <> COUNT(a.id)"
                )
            )
        ).all()
        seats = (
            await conn.execute(
                text(
                    "SELECT b.code, v.doses, a.person_position, a.dose, a.slot_id, "
                    "(SELECT COUNT(*) FROM persons p WHERE p.booking_id = b.id) "
                    "FROM bookings b JOIN vaccines v ON v.code = b.vaccine_code "
                    "LEFT JOIN appointments a ON a.booking_id = b.id AND a.status = 'booked' "
                    "WHERE b.status = 'booked'"
                )
            )
        ).all()
    problems = [f"slot {r[0]} is over capacity" for r in over]
    problems += [f"slot {r[0]} says booked={r[1]} but holds {r[2]} appointments" for r in drift]
    return problems + _booking_problems(seats)


def _booking_problems(rows: Sequence[Any]) -> list[str]:
    """Each booking must hold one seat per person and dose, persons side by side."""
    by_code: dict[str, list[Any]] = {}
    for row in rows:
        by_code.setdefault(row[0], []).append(row)
    problems = []
    for code, seats in by_code.items():
        doses, persons = seats[0][1], seats[0][5]
        held = {(r[2], r[3]): r[4] for r in seats if r[2] is not None}
        wanted = {(p, d) for p in range(persons) for d in range(1, doses + 1)}
        if len(seats) != len(wanted) or set(held) != wanted:
            problems.append(f"booking {code} holds {sorted(held)}, wants {sorted(wanted)}")
        elif any(len({held[p, d] for p in range(persons)}) != 1 for d in range(1, doses + 1)):
            problems.append(f"booking {code} does not seat its persons side by side")
    return problems


async def booked_codes(db: Database) -> dict[str, str]:
    """Code -> phone of every booked booking."""
    async with db.read() as conn:
        rows = await conn.execute(text("SELECT code, phone FROM bookings WHERE status = 'booked'"))
        return {r[0]: r[1] for r in rows.all()}


async def unconfirmed(db: Database, codes: Mapping[str, str]) -> list[str]:
    """Booked codes without a confirmation SMS to their phone in the outbox."""
    async with db.read() as conn:
        rows = (await conn.execute(text("SELECT recipient, body FROM outbox"))).all()
    sent = {(r[0], code) for r in rows for code in codes if f"Code {code}" in r[1]}
    return [code for code, number in codes.items() if (number, code) not in sent]


async def slot_fill(db: Database, ids: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """name -> (booked, capacity) of the named slots."""
    async with db.read() as conn:
        rows = await conn.execute(
            select(slots.c.id, slots.c.booked, slots.c.capacity).where(slots.c.id.in_(ids.values()))
        )
        by_id = {r.id: (r.booked, r.capacity) for r in rows.all()}
    return {name: by_id[slot_id] for name, slot_id in ids.items()}


def race_capacity() -> dict[str, int]:
    """The capacities of the race: CAPACITY and RESERVE times SCALE."""
    return {name: cap * SCALE for name, cap in (CAPACITY | RESERVE).items()}


def reserve_of(ids: Mapping[str, int]) -> set[int]:
    return {ids[name] for name in RESERVE}


def reserve_first(ids: Mapping[str, int]) -> int:
    """The reserve's first-dose slot."""
    return ids[next(name for name in RESERVE if name.startswith("F"))]


def fill_problems(fill: Mapping[str, tuple[int, int]]) -> list[str]:
    """Every requested slot ends full, the reserve ends untouched."""
    return [
        f"{name} holds {booked} of {cap}"
        for name, (booked, cap) in fill.items()
        if booked != (0 if name in RESERVE else cap)
    ]


def expected_winners() -> dict[str, int]:
    return {kind.name: kind.winners * SCALE for kind in KINDS}


# --- fixtures ----------------------------------------------------------------------------------


Scarcity = Callable[[Mapping[str, int]], Awaitable[dict[str, int]]]


@pytest.fixture
async def scarcity(services: Services) -> AsyncIterator[Scarcity]:
    """`make_scarce` for tomorrow (of T0); the capacities are put back afterwards, because the
    PostgreSQL schema lives for the whole run and the reset before each test keeps capacity."""
    async with services.db.read() as conn:
        before = (
            await conn.execute(
                select(slots.c.id, slots.c.capacity).where(
                    slots.c.centre_id == BIELEFELD, slots.c.vaccine_code == VACCINE
                )
            )
        ).all()

    async def make(capacity: Mapping[str, int]) -> dict[str, int]:
        return await make_scarce(services.db, capacity, local_day(T0) + timedelta(days=1))

    yield make
    by_capacity: dict[int, list[int]] = {}
    for slot_id, cap in before:
        by_capacity.setdefault(cap, []).append(slot_id)
    async with services.db.write() as conn:
        # The test's bookings may hold more seats than a slot had; the next reset drops them.
        await conn.execute(
            update(slots)
            .where(slots.c.centre_id == BIELEFELD, slots.c.vaccine_code == VACCINE)
            .values(booked=0)
        )
        for cap, ids in by_capacity.items():
            await conn.execute(update(slots).where(slots.c.id.in_(ids)).values(capacity=cap))


async def claims(services: Services, phones: Sequence[str]) -> list[Any]:
    secret = services.settings.secret_key
    tokens = await mint_tokens(services.db, secret, phones, services.clock.now())
    return [services.verification.read_token(f"Bearer {t}") for t in tokens]


# --- the races ---------------------------------------------------------------------------------


@pytest.mark.slow
async def test_hundreds_of_bookings_on_shared_slots_never_overbook(
    services: Services, scarcity: Scarcity
) -> None:
    ids = await scarcity(race_capacity())
    requests = race_requests(ids, REQUESTS_PER_KIND)
    tokens = await claims(services, [r.phone for r in requests])
    book = services.booking.book
    outcomes = await race(
        [partial(book, c, r.persons, r.slot_ids) for r, c in zip(requests, tokens, strict=True)]
    )

    winners = {kind.name: 0 for kind in KINDS}
    problems: list[str] = []
    open_slots, reserve = set(ids.values()), reserve_first(ids)
    for request, outcome in zip(requests, outcomes, strict=True):
        if isinstance(outcome, BookingView):
            winners[request.kind.name] += 1
        elif isinstance(outcome, SlotTaken) and outcome.status == 409:
            problems += fresh_offer_problems(outcome.details, request, open_slots, reserve)
        else:
            problems.append(f"{request.kind.name}: unexpected {outcome!r}")
    assert problems == []
    assert winners == expected_winners()
    assert await ledger_problems(services.db) == []
    codes = await booked_codes(services.db)
    assert len(codes) == sum(winners.values())
    assert await unconfirmed(services.db, codes) == []
    assert fill_problems(await slot_fill(services.db, ids)) == []
    for persons in (1, 2):
        offers = (await services.inventory.offers(BIELEFELD, VACCINE, persons)).offers
        assert [set(o.slot_ids) for o in offers] == [reserve_of(ids)]


@pytest.mark.slow
async def test_cancel_and_book_race_for_the_last_seat(
    services: Services, scarcity: Scarcity
) -> None:
    """Five offers of one seat each: the holders cancel while ten people per offer book it."""
    pairs, bookers = range(1, 6), range(10)
    ids = await scarcity({f"{dose}{i}": 1 for i in pairs for dose in "FS"})
    offer = {i: [ids[f"F{i}"], ids[f"S{i}"]] for i in pairs}
    holders = [await _book_one(services, 1000 + i, offer[i]) for i in pairs]
    people = {(i, b): 1100 + 10 * i + b for i in pairs for b in bookers}
    tokens = dict(
        zip(people, await claims(services, [phone(n) for n in people.values()]), strict=True)
    )
    cancel, book = services.booking.cancel, services.booking.book

    outcomes = await race(
        [partial(cancel, h.code, "1939-05-01") for h in holders]
        + [partial(book, tokens[k], [person(n)], offer[k[0]]) for k, n in people.items()]
    )

    cancelled, booked = outcomes[: len(pairs)], outcomes[len(pairs) :]
    # A cancel that outwaited PostgreSQL's lock timeout behind the bookers (503, nothing
    # done: the ledger below proves it) leaves its seat with its holder.
    freed = set()
    for i, outcome in zip(pairs, cancelled, strict=True):
        if isinstance(outcome, BookingView):
            assert outcome.status == "cancelled", outcomes
            freed.add(i)
        else:
            assert isinstance(outcome, RateLimited), outcomes  # 503 with Retry-After
    assert len(freed) > len(pairs) // 2, outcomes
    won, waited_out = dict.fromkeys(pairs, 0), 0
    for (i, _), outcome in zip(people, booked, strict=True):
        if isinstance(outcome, BookingView):
            won[i] += 1
        elif isinstance(outcome, Overloaded):
            # 50 writers queue for SQLite's one write lock: on a machine busy enough, the
            # pool's wait runs out first, and the answer is a 503 with nothing done (the
            # ledger below proves it), never a half booking.
            waited_out += 1
        else:
            assert isinstance(outcome, SlotTaken) and "offers" in outcome.details, outcome
    assert waited_out < len(people) // 2, f"{waited_out} of {len(people)} overloaded"
    assert await ledger_problems(services.db) == []
    fill = await slot_fill(services.db, ids)
    assert all(won[i] == 0 and fill[f"F{i}"][0] == 1 for i in pairs if i not in freed)
    assert {i: fill[f"F{i}"][0] for i in freed} == {i: won[i] for i in freed}
    assert all(n <= 1 for n in won.values()), won
    # Where the cancel came last, its seat is free at once for the next person.
    for i in (i for i in freed if won[i] == 0):
        await _book_one(services, 1200 + i, offer[i])
    fill = await slot_fill(services.db, ids)
    assert all(booked == 1 for booked, _ in fill.values()), fill
    assert await ledger_problems(services.db) == []


async def test_the_same_person_booking_twice_at_once_books_once(services: Services) -> None:
    """One person, eight tabs (each with its own verification), singles and couples mixed."""
    attempts = range(8)
    singles = (await services.inventory.offers(BIELEFELD, VACCINE, 1, limit=8)).offers
    couples = (await services.inventory.offers(BIELEFELD, VACCINE, 2, limit=8)).offers
    tokens = await claims(services, [phone(0)] * len(attempts))
    me, book = person(0), services.booking.book

    def attempt(i: int) -> Callable[[], Awaitable[BookingView]]:
        if i % 2:
            return partial(book, tokens[i], [me, person(100 + i)], couples[i].slot_ids)
        return partial(book, tokens[i], [me], singles[i].slot_ids)

    outcomes = await race([attempt(i) for i in attempts])

    won = [o for o in outcomes if isinstance(o, BookingView)]
    refused = [o for o in outcomes if isinstance(o, Conflict) and o.code == "already_booked"]
    assert len(won) == 1 and len(refused) == len(attempts) - 1, outcomes
    assert all(o.status == 409 for o in refused)
    assert await ledger_problems(services.db) == []
    async with services.db.read() as conn:
        seats = (await conn.execute(text("SELECT SUM(booked) FROM slots"))).scalar_one()
    assert seats == 2 * len(won[0].persons)


async def test_one_verification_books_once_under_concurrency(services: Services) -> None:
    """A double click with one token for different people: one booking, the rest token_used."""
    attempts = range(8)
    offers = (await services.inventory.offers(BIELEFELD, VACCINE, 1, limit=8)).offers
    (token,) = await claims(services, [phone(0)])
    book = services.booking.book
    outcomes = await race([partial(book, token, [person(i)], offers[i].slot_ids) for i in attempts])
    won = [o for o in outcomes if isinstance(o, BookingView)]
    refused = [o for o in outcomes if isinstance(o, Conflict) and o.code == "token_used"]
    assert len(won) == 1 and len(refused) == len(attempts) - 1, outcomes
    assert await ledger_problems(services.db) == []


async def test_a_read_under_way_when_slots_change_is_neither_joined_nor_kept() -> None:
    """A loser's fresh offers must be read after its loss. The availability cache shares one
    load among concurrent callers; a load already under way when a booking drops the entry
    read the slots before the change, so later callers must not join it nor see it stored.
    (Through the database this window is real but cannot be timed, so it is pinned here.)"""
    cache: TtlCache[str] = TtlCache(ttl_s=60)
    started, release = asyncio.Event(), asyncio.Event()

    async def read_before_change() -> str:
        started.set()
        await release.wait()
        return "before"

    async def read_after_change() -> str:
        return "after"

    first = asyncio.create_task(cache.get("slots", read_before_change))
    await started.wait()
    cache.drop("slots")  # a booking changed the slots while that read was under way
    second = asyncio.create_task(cache.get("slots", read_after_change))
    release.set()
    assert await first == "before"  # who asked before the change may get the older read
    assert await second == "after"
    assert await cache.get("slots", read_before_change) == "after"


async def _book_one(services: Services, n: int, slot_ids: list[int]) -> BookingView:
    (token,) = await claims(services, [phone(n)])
    return await services.booking.book(token, [person(n)], slot_ids)
