"""A whole booking as one PostgreSQL statement: the hot path of the rush.

Invariants kept here:
- It runs alone, in autocommit: one statement is one transaction, all of it or nothing.
- Seats come first, by one UPDATE over every slot of the offer (`= ANY` makes the primary-key
  index visit, and lock, them in ascending id order), and only when every slot is released,
  ahead and inside the window (the `bookable` CTE); else no seat is taken and nothing written.
  A slot without room makes the CHECK `ck_slots_not_overbooked` fail (or, when only seats
  reserved for the phone are left and the booking is not the phone's,
  `ck_slots_phone_reserve_fits`), which aborts the whole statement: a lost race writes
  nothing, with no BEGIN, ROLLBACK or COMMIT round trips. `SLOT_FULL` names those
  constraints for the caller. A phone booking takes reserved seats first
  (`phone_reserved` goes down by as many as it can), so its CHECK holds whenever
  `booked <= capacity` does.
- Every insert reads from the `booking` CTE, which holds a row only when every slot was
  taken.
- It writes the same rows as the step-by-step path (`take_seats`, `insert_booking`, the outbox,
  the idempotency record and, for a booking a staff member makes, its audit row) under the
  same constraints: CHECK booked <= capacity, one active booking per person, one booking
  per verification, one answer per idempotency key, one booking per waiting-room admission.
- Outbox rows come from the notifications repository's own row builder and the columns' own
  bind processing, so the two paths cannot drift apart on what a message row holds.
- A message over its recipient's cap (notifications/repository.py) is left out, as the other
  path leaves it out: the count runs inside the statement, on the same partial index, with
  no lock (two bookings naming one address in the same instant may both pass it). It costs
  an index-only scan per message, about 5 µs in EXPLAIN ANALYZE against 0.6 ms for the
  whole statement.

One statement instead of eight (six plus BEGIN and COMMIT) means one round trip and one pass
through the driver per booking; measured in bench/README.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import msgspec
from sqlalchemy.dialects import postgresql

from kontingent.booking.model import Person
from kontingent.inventory.model import Appointment
from kontingent.notifications.model import Message, RecipientCap
from kontingent.notifications.repository import _rows as outbox_rows
from kontingent.schema import outbox
from kontingent.staff.audit import Entry, row_of

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]

# A slot without room fails one of these: all seats held, or only reserved ones left.
SLOT_FULL = frozenset({"ck_slots_not_overbooked", "ck_slots_phone_reserve_fits"})
PHONE = "phone"  # the channel that may take the seats reserved for it (issue 15)

_HEAD = """
WITH bookable AS (
    SELECT count(*) = cardinality($1::bigint[]) AS ok FROM slots
    WHERE id = ANY($1::bigint[])
      AND bookable_from <= $3::timestamp AND starts_at > $3::timestamp
      AND starts_at < $4::timestamp
), taken AS (
    UPDATE slots SET booked = booked + ($2::int[])[array_position($1::bigint[], id)],
        phone_reserved = CASE WHEN $11::text = 'phone' THEN greatest(
            phone_reserved - ($2::int[])[array_position($1::bigint[], id)], 0)
            ELSE phone_reserved END
    WHERE id = ANY($1::bigint[]) AND (SELECT ok FROM bookable)
    RETURNING id
), booking AS (
    INSERT INTO bookings
        (code, campaign_id, centre_id, vaccine_code, status, phone, verification_id, channel,
         created_at, admission, language)
    SELECT $5::text, $6::int, $7::int, $8::text, 'booked', $9::text, $10::text, $11::text,
           $3::timestamp, $24::text, $25::text
    WHERE (SELECT count(*) FROM taken) = cardinality($1::bigint[])
    RETURNING id
), people AS (
    INSERT INTO persons
        (booking_id, position, campaign_id, person_key, active, first_name, last_name,
         birth_date, postcode, city, street, house_number, phone, email)
    SELECT booking.id, p.position, $6::int, p.person_key, true, p.first_name, p.last_name,
           p.birth_date, p.postcode, p.city, p.street, p.house_number, p.phone, p.email
    FROM booking, json_to_recordset($12::json)
        AS p(position smallint, person_key text, first_name text, last_name text,
             birth_date date, postcode text, city text, street text, house_number text,
             phone text, email text)
), seats AS (
    INSERT INTO appointments (booking_id, person_position, slot_id, dose, status)
    SELECT booking.id, a.person_position, a.slot_id, a.dose, 'booked'
    FROM booking, unnest($13::smallint[], $14::bigint[], $15::smallint[])
        AS a(person_position, slot_id, dose)
), remembered AS (
    INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response, created_at)
    SELECT $16::text, $17::text, $18::text, $19::int, $20::bytea, $3::timestamp
    FROM booking WHERE $16::text IS NOT NULL
), audited AS (
    INSERT INTO audit_log (at, user_id, username, role, action, target, channel, ip, details)
    SELECT $3::timestamp, $26::bigint, $27::text, $28::text, $29::text, $5::text, $30::text,
           $31::text, $32::json
    FROM booking WHERE $27::text IS NOT NULL
)"""
_OUTBOX_PARAM = 21
_CAP_SINCE_PARAM, _CAP_COUNT_PARAM = 22, 23


@dataclass(frozen=True, slots=True)
class Remembered:
    """The answer to store under an idempotency key, in the booking's transaction."""

    scope: str
    key: str
    request_hash: str
    status_code: int
    body: bytes


@dataclass(frozen=True, slots=True)
class NewBooking:
    """Everything one booking writes: the seats it takes (slot id -> seats), the booking with
    its persons and appointments, its confirmations and, under an idempotency key, the
    answer to remember. Both write paths (`repository.book_seats` and `book_seats_pg`) and
    the benchmark's raw ceiling take this one value."""

    seats: Mapping[int, int]
    now: datetime
    until: datetime
    code: str
    campaign_id: int
    centre_id: int
    vaccine_code: str
    phone: str
    verification_id: str | None
    channel: str
    people: Sequence[Person]
    booked: Sequence[Appointment]
    messages: Sequence[Message]
    remembered: Remembered | None
    cap: RecipientCap
    # The ticket of the waiting-room admission it was made with (unique: books once).
    admission: str | None = None
    language: str = "de"  # the booking's messages are written in it
    # A staff member's booking (the hotline): its audit row, target the booking's code,
    # written with the booking or not at all (staff/audit.py).
    audit: Entry | None = None


@cache
def _statement(columns: tuple[str, ...]) -> str:
    """The full statement for outbox rows with these columns (one text, so one prepared
    statement per connection)."""
    typed = ", ".join(f"{c} {outbox.c[c].type.compile(dialect=_DIALECT)}" for c in columns)
    names = ", ".join(columns)
    # Column names and types come from the table definition, never from a request.
    queued = (
        f"INSERT INTO outbox ({names}) SELECT m.* FROM booking, "  # noqa: S608
        f"json_to_recordset(${_OUTBOX_PARAM}::json) AS m({typed})\n"
        f"    WHERE m.recipient_key IS NULL OR ${_CAP_COUNT_PARAM}::int IS NULL OR (\n"
        "        SELECT count(*) FROM outbox o WHERE o.recipient_key = m.recipient_key\n"
        f"          AND o.created_at > ${_CAP_SINCE_PARAM}::timestamp\n"
        f"    ) < ${_CAP_COUNT_PARAM}::int"
    )
    return f"{_HEAD}, queued AS (\n    {queued}\n)\nSELECT id FROM booking"


@cache
def _bind_processors(columns: tuple[str, ...]) -> tuple[Callable[[Any], Any] | None, ...]:
    return tuple(outbox.c[c].type.bind_processor(_DIALECT) for c in columns)


def _outbox_json(messages: Sequence[Message], now: datetime) -> tuple[tuple[str, ...], bytes]:
    """The columns the outbox rows fill and the rows as one JSON array, each value bound as
    its column binds it (aware times become naive UTC)."""
    rows = outbox_rows(messages, now)
    columns = tuple(rows[0]) if rows else tuple(outbox_rows([Message("sms", "", "")], now)[0])
    processors = _bind_processors(columns)
    bound = [
        {
            c: process(row[c]) if process else row[c]
            for c, process in zip(columns, processors, strict=True)
        }
        for row in rows
    ]
    return columns, msgspec.json.encode(bound)


def person_rows(people: Sequence[Person]) -> list[dict[str, Any]]:
    """What each person's row holds from the request, in both write paths (the booking's
    id, campaign and `active` come from the booking)."""
    return [
        {
            "position": i,
            "person_key": p.key,
            "first_name": p.first_name,
            "last_name": p.last_name,
            "birth_date": p.birth_date,
            "postcode": p.postcode,
            "city": p.city,
            "street": p.street,
            "house_number": p.house_number,
            "phone": p.phone,
            "email": p.email,
        }
        for i, p in enumerate(people)
    ]


def _naive_utc(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def booking_statement(b: NewBooking) -> tuple[str, tuple[Any, ...]]:
    """The statement and its parameters; it answers the new booking's id, or no row."""
    ids = sorted(b.seats)
    columns, outbox_json = _outbox_json(b.messages, b.now)
    r, booked = b.remembered, b.booked
    audit = None if b.audit is None else row_of(b.audit, b.now)
    # Persons and outbox rows travel as JSON record sets: one parameter each instead of one
    # array per column, which the driver would encode element by element.
    people = msgspec.json.encode(person_rows(b.people))
    params = (
        ids,
        [b.seats[i] for i in ids],
        _naive_utc(b.now),
        _naive_utc(b.until),
        b.code,
        b.campaign_id,
        b.centre_id,
        b.vaccine_code,
        b.phone,
        b.verification_id,
        b.channel,
        people.decode(),
        [a.person for a in booked],
        [a.slot_id for a in booked],
        [a.dose for a in booked],
        None if r is None else r.scope,
        None if r is None else r.key,
        None if r is None else r.request_hash,
        None if r is None else r.status_code,
        None if r is None else r.body,
        outbox_json.decode(),
        _naive_utc(b.now - b.cap.period),
        b.cap.count,
        b.admission,  # $24
        b.language,  # $25
        *_audit_params(audit),  # $26 to $32
    )
    return _statement(columns), params


def _audit_params(row: Mapping[str, Any] | None) -> tuple[Any, ...]:
    """user_id, username, role, action, channel, ip and details of the audit row (its time
    and target are the booking's own), all None when the booking is not audited."""
    if row is None:
        return (None,) * 7
    names = ("user_id", "username", "role", "action", "channel", "ip")
    return (*(row[n] for n in names), msgspec.json.encode(row["details"]).decode())
