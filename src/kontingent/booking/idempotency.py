"""Idempotent booking requests: the same request under the same Idempotency-Key books once
and answers the same, and a unique-constraint clash becomes the answer it means.

Invariants kept here:
- A request is known by the SHA-256 of its persons and slot ids in a canonical JSON form, so
  the same body in another key order or spacing is the same request.
- A key answers only the request it was first used for: another request under it is refused
  (422 `idempotency_key_reused`), never answered with a booking it did not ask for.
- The stored answer is written by the booking's own statement (booking/pg_statement.py), so a
  key has an answer only if its booking committed.
- A clash on the person, verification or admission constraints is the client's conflict
  (409 or 403, saying what to do); on the booking code it is our draw's, retried with a new
  code; any other clash is not ours to explain and goes up unchanged.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from kontingent.booking import repository as repo
from kontingent.booking.model import BookingView
from kontingent.db import Database
from kontingent.errors import Conflict, Forbidden, InvalidInput

# (marker in the constraint's name or message, what it guards), checked in order.
_GUARDS = (
    ("person_key", "person"),
    ("uq_persons_active_per_campaign", "person"),
    ("verification_id", "verification"),
    ("idempotency_keys", "idempotency"),
    ("bookings.code", "code"),
    ("uq_bookings_code", "code"),
    ("admission", "admission"),
)


def request_hash(persons: Any, slot_ids: Any) -> str:
    canonical = msgspec.json.encode({"persons": persons, "slot_ids": slot_ids}, order="sorted")
    return hashlib.sha256(canonical).hexdigest()


def check_key(key: str) -> None:
    if not 1 <= len(key) <= 100:
        raise InvalidInput(
            "Idempotency-Key must be 1 to 100 characters", code="invalid_idempotency_key"
        )


async def replay(db: Database, scope: str, key: str, hashed: str) -> BookingView | None:
    """The answer stored under `key` for this request, None if the key is new."""
    check_key(key)
    async with db.read() as conn:
        stored = await repo.stored_response(conn, scope, key)
    if stored is None:
        return None
    if stored.request_hash != hashed:
        raise InvalidInput(
            "this Idempotency-Key was used for a different booking request: use a new key "
            "for a new request",
            code="idempotency_key_reused",
        )
    return msgspec.json.decode(stored.body, type=BookingView)


def guarded_by(exc: repo.Clash) -> str:
    """What the clashing constraint guards: person, verification, idempotency, code,
    admission, or other."""
    return next((name for marker, name in _GUARDS if marker in exc.constraint), "other")


def raise_for_clash(exc: repo.Clash) -> None:
    """Raise the client's error for a clash; return when it was the booking code's (draw a
    new one and try again)."""
    kind = guarded_by(exc)
    if kind == "person":
        raise Conflict(
            "a person in this request already has an active booking: look it up or cancel it first",
            code="already_booked",
        )
    if kind == "verification":
        raise Conflict(
            "this phone verification was used for a booking already: verify "
            "the phone again for another booking",
            code="token_used",
        )
    if kind == "admission":
        raise Forbidden(
            "this admission was already used for a booking: join the queue at "
            "POST /api/v1/queue and wait until you are admitted",
            code="admission_used",
        )
    if kind != "code":
        raise exc
