"""The benchmark's data: its own PostgreSQL schema, the demo seeded at the current time, and
bookings prepared the way real clients would send them.

Every booking is for a different person with a different phone number and a real token: the
verification row is stored (verified, as after a correct PIN) and the token is signed with
the server's secret key by the verification model's own `issue_token`, exactly what
`POST /verifications/{id}` would have answered. Bookings are spread over all centres and
days, one offer (first dose + second dose 21 days later at the same time) each, so that they
do not all queue on the same rows.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

from kontingent.booking.model import Person, new_code
from kontingent.booking.pg_statement import NewBooking, booking_statement
from kontingent.clock import BERLIN, FixedClock, SystemClock
from kontingent.db import Database, make_engine
from kontingent.demo.seed import DemoSize, seed_demo
from kontingent.inventory.closures import is_public_holiday
from kontingent.inventory.model import Appointment
from kontingent.migrations import upgrade
from kontingent.notifications.messages import booking_messages
from kontingent.notifications.model import DEFAULT_CAP, BookedAppointment
from kontingent.verification.model import issue_token

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
VACCINE = "BNT"
INTERVAL_DAYS = 21
FIRST_DOSE_DAYS = 14  # first doses from tomorrow on; second doses 21 days later
SEED_WEEKS = 2  # enough slots for every first dose above and its second dose
BENCH_CAPACITY = 200  # seats per bench slot, so that no phase runs out of offers


@dataclass(frozen=True, slots=True)
class Pair:
    centre_id: int
    postcode: str
    city: str
    centre_name: str
    first: tuple[int, datetime]
    second: tuple[int, datetime]


@dataclass(frozen=True, slots=True)
class Prepared:
    """One booking as the HTTP client sends it and as the raw driver runs it."""

    request_body: bytes
    token: str
    sql: str  # the service's booking statement, for the raw ceiling
    params: tuple[object, ...]


async def create_schema(schema: str) -> None:
    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()


async def drop_schema(schema: str) -> None:
    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


async def migrate_and_seed(schema: str, at: datetime | None = None) -> None:
    """`at`: the seed's clock (default now); bench/booking.py seeds at the day's first minute
    so that its releases lie before every hour of the day it measures (--now)."""
    db = Database(make_engine(PG_URL, schema=schema))
    try:
        await upgrade(db.engine)
        clock = SystemClock() if at is None else FixedClock(at)
        await seed_demo(db, clock, DemoSize(weeks=SEED_WEEKS))
    finally:
        await db.dispose()


async def connect(schema: str) -> asyncpg.Connection:
    return await asyncpg.connect(PG_DSN, server_settings={"search_path": schema})


def _closed(naive_utc: datetime) -> bool:
    return is_public_holiday(naive_utc.replace(tzinfo=UTC).astimezone(BERLIN).date())


async def bench_pairs(conn: asyncpg.Connection) -> list[Pair]:
    """Every (first dose, second dose 21 days later at the same time) of the bench's days,
    ordered so that consecutive bookings land on different centres and days."""
    tomorrow = datetime.now(BERLIN).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, datetime.min.time(), BERLIN)
    end = start + timedelta(days=FIRST_DOSE_DAYS)
    await conn.execute(
        "UPDATE slots SET capacity = $1 WHERE vaccine_code = $2 AND starts_at >= $3",
        BENCH_CAPACITY,
        VACCINE,
        start.astimezone(UTC).replace(tzinfo=None),
    )
    rows = await conn.fetch(
        """
        SELECT f.centre_id, c.postcode, c.city, c.name, f.id AS first_id, f.starts_at AS first_at,
               s.id AS second_id, s.starts_at AS second_at
        FROM slots f
        JOIN slots s ON s.centre_id = f.centre_id AND s.vaccine_code = f.vaccine_code
             AND s.starts_at = f.starts_at + make_interval(days => $4)
        JOIN centres c ON c.id = f.centre_id
        WHERE f.vaccine_code = $1 AND f.starts_at >= $2 AND f.starts_at < $3
        ORDER BY f.starts_at, f.centre_id
        """,
        VACCINE,
        start.astimezone(UTC).replace(tzinfo=None),
        end.astimezone(UTC).replace(tzinfo=None),
        INTERVAL_DAYS,
    )
    # Round-robin over centres and days: neighbours in the list share no slot.
    by_day: dict[object, list[Pair]] = {}
    for r in rows:
        if _closed(r["first_at"]) or _closed(r["second_at"]):
            continue  # centres close on public holidays: such a pair would be refused
        pair = Pair(
            r["centre_id"],
            r["postcode"],
            r["city"],
            r["name"],
            (r["first_id"], r["first_at"].replace(tzinfo=UTC)),
            (r["second_id"], r["second_at"].replace(tzinfo=UTC)),
        )
        by_day.setdefault(r["first_at"].date(), []).append(pair)
    columns = list(by_day.values())
    return [col[i] for i in range(max(map(len, columns))) for col in columns if i < len(col)]


# No 'm': the person key folds look-alikes by their TR39 skeleton, in which 'rn' is 'm', so
# with an 'm' two numbers could make one person and the second booking would be refused.
LETTERS = "abcdefghijklnopqrstuvwxyz"


def _letters(i: int) -> str:
    """A name part made of letters only (names may not hold digits): 0 -> 'a', 26 -> 'bb'."""
    text = ""
    while True:
        text = LETTERS[i % len(LETTERS)] + text
        i //= len(LETTERS)
        if i == 0:
            return text.capitalize()


def person_for(i: int, pair: Pair) -> Person:
    return Person(
        first_name="Erika",
        last_name=f"Bench{_letters(i).lower()}",
        birth_date=datetime(1939, 5, 1).date(),
        postcode=pair.postcode,
        city="Bielefeld",
        street="Hauptstraße",
        house_number="12a",
        phone=f"+49170{1000000 + i}",
        email=f"bench{i}@example.org",
    )


def _body(person: Person, slot_ids: list[int]) -> bytes:
    data = {
        "persons": [
            {
                "first_name": person.first_name,
                "last_name": person.last_name,
                "birth_date": person.birth_date.isoformat(),
                "postcode": person.postcode,
                "city": person.city,
                "street": person.street,
                "house_number": person.house_number,
                "email": person.email,
            }
        ],
        "slot_ids": slot_ids,
    }
    return msgspec.json.encode(data)


def _statement(
    person: Person, pair: Pair, code: str, vid: str, now: datetime, campaign: tuple[int, datetime]
) -> tuple[str, tuple[object, ...]]:
    """What the service would send to the database for this booking, byte for byte in shape."""
    booked = [
        Appointment(pair.first[0], pair.first[1], 1, 0),
        Appointment(pair.second[0], pair.second[1], 2, 0),
    ]
    name = f"{person.first_name} {person.last_name}"
    messages = booking_messages(
        code=code,
        phone=person.phone,
        emails=[person.email] if person.email else [],
        centre=pair.centre_name,
        address=f"{pair.postcode} {pair.city}",
        vaccine="BioNTech/Comirnaty",
        appointments=[BookedAppointment(a.starts_at, a.dose, name) for a in booked],
    )
    return booking_statement(
        NewBooking(
            seats={pair.first[0]: 1, pair.second[0]: 1},
            now=now,
            until=campaign[1],
            code=code,
            campaign_id=campaign[0],
            centre_id=pair.centre_id,
            vaccine_code=VACCINE,
            phone=person.phone,
            verification_id=vid,
            channel="web",
            people=[person],
            booked=booked,
            messages=messages,
            remembered=None,
            cap=DEFAULT_CAP,  # the service's default: the count is part of the statement
        )
    )


async def prepare_bookings(
    conn: asyncpg.Connection,
    pairs: list[Pair],
    *,
    first: int,
    count: int,
    secret: str,
    campaign: tuple[int, datetime],
) -> list[Prepared]:
    """`count` bookings for persons `first`..`first+count-1`, verifications stored."""
    now = datetime.now(UTC)
    prepared: list[Prepared] = []
    verifications = []
    for i in range(first, first + count):
        pair = pairs[i % len(pairs)]
        person = person_for(i, pair)
        vid = secrets.token_urlsafe(18)
        verifications.append(
            (vid, person.phone, "0" * 64, now, now + timedelta(minutes=30), now, 1, now)
        )
        sql, params = _statement(person, pair, new_code(), vid, now, campaign)
        prepared.append(
            Prepared(
                _body(person, [pair.first[0], pair.second[0]]),
                issue_token(secret, vid, person.phone, now),
                sql,
                params,
            )
        )
    naive = [
        tuple(v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) else v for v in row)
        for row in verifications
    ]
    await conn.copy_records_to_table(
        "verifications",
        records=naive,
        columns=[
            "id",
            "phone",
            "pin_hash",
            "created_at",
            "expires_at",
            "resend_after",
            "attempts",
            "verified_at",
        ],
    )
    return prepared


async def campaign_of(conn: asyncpg.Connection) -> tuple[int, datetime]:
    row = await conn.fetchrow("SELECT id, booking_until FROM campaigns ORDER BY id LIMIT 1")
    assert row is not None
    return row["id"], row["booking_until"].replace(tzinfo=UTC)


async def seat_invariants(conn: asyncpg.Connection) -> tuple[int, int]:
    """(slots over capacity, slots whose seat count differs from their booked appointments):
    both must be 0 after any run."""
    over = await conn.fetchval("SELECT count(*) FROM slots WHERE booked > capacity")
    drift = await conn.fetchval(
        """
        SELECT count(*) FROM slots s
        LEFT JOIN (SELECT slot_id, count(*) AS n FROM appointments
                   WHERE status = 'booked' GROUP BY slot_id) a ON a.slot_id = s.id
        WHERE s.booked <> coalesce(a.n, 0)
        """
    )
    return int(over), int(drift)


async def slot_days_drift(conn: asyncpg.Connection) -> int:
    """Keys of `slot_days` whose seats differ from the sums over their slots (the triggers
    keep them in every slot's transaction): 0 after any run, however many booked at once."""
    return int(
        await conn.fetchval(
            """
            SELECT count(*) FROM (
                SELECT centre_id, vaccine_code, day, bookable_from,
                       sum(capacity) AS capacity, sum(booked) AS booked,
                       sum(phone_reserved) AS phone_reserved
                FROM slots WHERE bookable_from IS NOT NULL
                GROUP BY centre_id, vaccine_code, day, bookable_from
            ) s
            FULL JOIN (
                SELECT * FROM slot_days
                WHERE capacity <> 0 OR booked <> 0 OR phone_reserved <> 0
            ) d
                USING (centre_id, vaccine_code, day, bookable_from)
            WHERE s.capacity IS DISTINCT FROM d.capacity OR s.booked IS DISTINCT FROM d.booked
               OR s.phone_reserved IS DISTINCT FROM d.phone_reserved
            """
        )
    )
