"""After each scenario: the invariants in SQL, and the messages counted against the outbox.

Invariants checked here (each count must be 0 after any fault):
- no slot over capacity, and every slot's seat count equal to its booked appointments;
- every booking a client saw confirmed (201) is stored, booked, with exactly the slots it
  was confirmed with (both doses), its persons and its confirmation rows in the outbox;
- no booking stored without all its appointments, persons or outbox rows (a half pair);
- no replay of an Idempotency-Key answered with another booking, and no phone with more
  than one booking (each client person books once). A replay refused with an error books
  nothing twice: it is counted apart (the API promises the first answer, so it is shown);
- per channel, by message id: no message recorded as sent that the receiver never got
  (lost), and repeats (duplicated) no more than the messages in flight when the fault hit:
  `IN_FLIGHT` per relay that was killed, none otherwise. Messages still waiting in the
  outbox, or delivered but not yet recorded, are counted apart: late, not lost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from driver import Confirmed, Ledger

import dataset
from rush.analysis import BOOKINGS_SQL, _complete, _matches

# Deliveries one relay has under way at once, by channel: the SMS gateway client's
# connections (`HttpSmsGateway`, 16) and the SMTP connections (`SmtpConfig`, 4), each carrying
# one message at a time. A relay killed mid-delivery may repeat at most these.
IN_FLIGHT = {"sms": 16, "email": 4}


@dataclass(frozen=True, slots=True)
class Channel:
    """One channel's messages, by what the outbox and the receiver say of each."""

    queued: int
    delivered: int  # recorded as sent and received
    duplicated: int  # receptions beyond the first
    lost: int  # recorded as sent, never received
    waiting: int  # not sent yet, not parked, not received: late
    unrecorded: int  # received but not recorded as sent: will be sent again
    parked: int
    unknown: int  # received ids the outbox does not hold
    in_flight: int  # repeats a crash may explain: IN_FLIGHT per relay killed

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.unknown == 0 and self.duplicated <= self.in_flight


@dataclass(frozen=True, slots=True)
class Findings:
    over_capacity: int
    seat_drift: int
    missing: int  # confirmed to a client, not stored complete
    half: int
    stored: int
    double_booked: int  # replays answered with another booking + phones with two bookings
    replays_refused: int  # replays answered with an error instead of the first answer
    sms: Channel
    mail: Channel

    @property
    def invariants_hold(self) -> bool:
        counts = (self.over_capacity, self.seat_drift, self.missing, self.half, self.double_booked)
        return not any(counts) and self.sms.ok and self.mail.ok


async def check(
    dsn: str, ledger: Ledger, sms: Counter[str], mail: Counter[str], relays_killed: int
) -> Findings:
    conn = await asyncpg.connect(dsn)
    try:
        over, drift = await dataset.seat_invariants(conn)
        rows = await conn.fetch(BOOKINGS_SQL)
        phones = await conn.fetchval(
            "SELECT count(*) FROM (SELECT phone FROM bookings WHERE status = 'booked' "
            "GROUP BY phone HAVING count(*) > 1) twice"
        )
        outbox = await conn.fetch(
            "SELECT message_id, channel, sent_at IS NOT NULL AS sent, "
            "parked_at IS NOT NULL AS parked FROM outbox"
        )
    finally:
        await conn.close()
    stored = {r["code"]: r for r in rows}
    return Findings(
        over_capacity=over,
        seat_drift=drift,
        missing=sum(1 for c in ledger.confirmed if not _matches(stored.get(c.code), _as_person(c))),
        half=sum(1 for r in rows if not _complete(r)),
        stored=len(rows),
        double_booked=sum(1 for r in ledger.odd_replays if r.double) + int(phones),
        replays_refused=sum(1 for r in ledger.odd_replays if r.status not in (200, 201)),
        sms=channel([r for r in outbox if r["channel"] == "sms"], sms, relays_killed, "sms"),
        mail=channel([r for r in outbox if r["channel"] == "email"], mail, relays_killed, "email"),
    )


def _as_person(confirmed: Confirmed) -> dict[str, object]:
    """A confirmed booking in the shape the rush's checks read (one person per booking)."""
    return {"persons": 1, "slot_ids": list(confirmed.slot_ids)}


def channel(
    rows: Iterable[asyncpg.Record], arrivals: Counter[str], relays_killed: int, name: str
) -> Channel:
    counts: Counter[str] = Counter()
    ids = set()
    for r in rows:
        ids.add(r["message_id"])
        got = arrivals.get(r["message_id"], 0)
        counts["queued"] += 1
        counts["duplicated"] += max(0, got - 1)
        if r["sent"]:
            counts["delivered" if got else "lost"] += 1
        elif got:
            counts["unrecorded"] += 1
        elif r["parked"]:
            counts["parked"] += 1
        else:
            counts["waiting"] += 1
    unknown = sum(1 for message_id in arrivals if message_id not in ids)
    return Channel(
        queued=counts["queued"],
        delivered=counts["delivered"],
        duplicated=counts["duplicated"],
        lost=counts["lost"],
        waiting=counts["waiting"],
        unrecorded=counts["unrecorded"],
        parked=counts["parked"],
        unknown=unknown,
        in_flight=IN_FLIGHT[name] * relays_killed,
    )


async def pin_delays(dsn: str) -> list[tuple[float, float]]:
    """(queued, sent) of every PIN text sent, Unix times, from the outbox's own clock."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT created_at, sent_at FROM outbox WHERE channel = 'sms' AND priority = 0 "
            "AND sent_at IS NOT NULL"
        )
    finally:
        await conn.close()
    return [(_unix(r["created_at"]), _unix(r["sent_at"])) for r in rows]


def _unix(naive_utc: datetime) -> float:
    return naive_utc.replace(tzinfo=UTC).timestamp()


async def pending(dsn: str) -> int:
    """Messages the relay has still to deliver (parked ones are done with)."""
    conn = await asyncpg.connect(dsn)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL"
            )
        )
    finally:
        await conn.close()


async def unrecorded_now(dsn: str, sms: Counter[str]) -> int:
    """SMS the gateway got that the outbox does not record as sent: right after a relay is
    killed, exactly what a crash makes it send again (what was in flight)."""
    conn = await asyncpg.connect(dsn)
    try:
        unsent = await conn.fetch(
            "SELECT message_id FROM outbox WHERE channel = 'sms' AND sent_at IS NULL"
        )
    finally:
        await conn.close()
    return sum(1 for r in unsent if sms.get(r["message_id"]))
