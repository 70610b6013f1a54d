"""SQL for the outbox, the day-before reminders and the dev mailbox. Repositories never commit.

Invariants kept here:
- Claiming takes a lease: a claimed row becomes claimable again only after `lease` has passed,
  so a relay that dies mid-delivery does not lose the message. On PostgreSQL concurrent relays
  skip each other's rows (FOR UPDATE SKIP LOCKED) instead of sending twice; on SQLite the write
  transaction (BEGIN IMMEDIATE) serialises claims.
- A claim counts an attempt, so a message that crashes its relay cannot loop for ever; a
  message deferred by a rate limit, put back unsent, or failed as a probe taken ahead of its
  backoff gives that attempt back.
- A pending message has a `last_error` only after a failed try, and claiming clears it, so
  "pending with an error" tells messages waiting out a backoff from leased ones: pulling the
  waiting ones forward after a channel recovered never touches a message that another relay
  is sending.
- Outcomes are recorded only for rows still unsent, so a relay whose lease ran out cannot
  undo what another relay did with the same row.
- A reminder is never sent for an appointment that is no longer booked: claiming drops it
  (deletes the row) when the booking was cancelled or moved after the reminder was queued.
- A reminder is queued once per appointment: `reminded_at` is set in the transaction that
  queues it, and its message id is derived from the appointment, so a second queueing is
  dropped by the outbox's unique constraint.
- No recipient gets more than the cap's count of messages (PINs aside) within its period,
  whatever queued them. The cap is kept here, where messages are queued, and not by the rate
  limiter in front of the use cases: every message leaves through this table, so a use case
  or job added later is capped without knowing it exists, while a limit on a route covers
  only the routes someone remembered. The count is the outbox's own rows (one source of
  truth for all processes, whether or not Redis is up), taken in the queueing transaction:
  on SQLite that transaction holds the write lock, on PostgreSQL an advisory lock per
  recipient serialises queueings to the same recipient. Messages over the cap are left out
  (logged), never the use case refused: an attacker who fills a stranger's cap must not be
  able to stop that person booking or cancelling. The booking statement of the rush
  (booking/pg_statement.py) applies the same count inside its one statement, without the
  lock: two bookings naming one address at the same instant may both pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import structlog
from sqlalchemy import and_, bindparam, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.db import aware_utc
from kontingent.notifications.model import (
    DueReminder,
    Message,
    RecipientCap,
    is_capped,
    masked,
    recipient_key,
    reminder_window_end,
)
from kontingent.schema import (
    appointments,
    bookings,
    centres,
    dev_mailbox,
    outbox,
    persons,
    slots,
    vaccines,
)

log = structlog.get_logger(__name__)
# First half of the PostgreSQL advisory lock that serialises queueing to one recipient; the
# second half is a hash of the recipient. No other advisory lock of this service uses it.
CAP_LOCK_CLASS = 0x6B74  # "kt"


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    message: Message
    attempts: int  # including the try this claim is for
    expires_at: datetime | None = None
    # Taken by a breaker's probe before its backoff ended (at this time): a failure then is
    # the channel's, so the message keeps its own schedule and gets the try back.
    early_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    id: int
    error: str
    retry_at: datetime | None  # None: park it
    counted: bool = True  # False: give the claim's attempt back (a probe taken early)


@dataclass(frozen=True, slots=True)
class Parked:
    id: int
    message_id: str
    channel: str
    recipient: str
    subject: str
    attempts: int
    last_error: str
    created_at: datetime
    parked_at: datetime


@dataclass(frozen=True, slots=True)
class Backlog:
    channel: str
    pending: int
    due: int  # pending and ready to go now
    parked: int
    oldest_due: datetime | None


def _pending() -> Any:
    return and_(outbox.c.sent_at.is_(None), outbox.c.parked_at.is_(None))


def _rows(messages: Sequence[Message], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "message_id": m.message_id,
            "channel": m.channel,
            "recipient": m.recipient,
            "subject": m.subject,
            "body": m.body,
            "priority": m.priority,
            "created_at": now,
            "available_at": now,
            "attempts": 0,
            "calendar": m.calendar,
            "qr": m.qr,
            "language": m.language,
            "expires_at": None if m.valid_for is None else now + m.valid_for,
            "recipient_key": recipient_key(m.channel, m.recipient) if is_capped(m) else None,
        }
        for m in messages
    ]


async def enqueue(
    conn: AsyncConnection, messages: Sequence[Message], now: datetime, cap: RecipientCap
) -> list[Message]:
    """Queue `messages` but those over their recipient's cap; the messages queued."""
    fitting = await _within_cap(conn, messages, now, cap)
    if fitting:
        await conn.execute(outbox.insert(), _rows(fitting, now))
    return fitting


async def enqueue_once(
    conn: AsyncConnection, messages: Sequence[Message], now: datetime, cap: RecipientCap
) -> list[Message]:
    """Queue messages whose id may be queued already (those are left as they are) and that
    fit their recipient's cap; the messages that were new and fitted."""
    if not messages:
        return []
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    known = set(
        (
            await conn.execute(
                select(outbox.c.message_id).where(
                    outbox.c.message_id.in_([m.message_id for m in messages])
                )
            )
        )
        .scalars()
        .all()
    )
    fitting = await _within_cap(conn, [m for m in messages if m.message_id not in known], now, cap)
    if fitting:
        statement = dialect.insert(outbox).on_conflict_do_nothing(index_elements=["message_id"])
        await conn.execute(statement, _rows(fitting, now))
    return fitting


async def _within_cap(
    conn: AsyncConnection, messages: Sequence[Message], now: datetime, cap: RecipientCap
) -> list[Message]:
    """The messages that fit their recipients' cap, given what was queued to each within the
    period (this transaction's own rows included); the others are logged and left out."""
    keys = sorted({recipient_key(m.channel, m.recipient) for m in messages if is_capped(m)})
    if cap.count is None or not keys:
        return list(messages)
    if conn.dialect.name == "postgresql":
        await _lock_recipients(conn, keys)
    counts = await conn.execute(
        select(outbox.c.recipient_key, func.count())
        .where(outbox.c.recipient_key.in_(keys), outbox.c.created_at > now - cap.period)
        .group_by(outbox.c.recipient_key)
    )
    fitting, dropped = cap.split({str(k): int(n) for k, n in counts.all()}, messages)
    for message in dropped:
        log.warning(
            "message_over_recipient_cap",
            channel=message.channel,
            to=masked(message.recipient),
            subject=message.subject,
            cap=cap.count,
            period_s=int(cap.period.total_seconds()),
        )
    return fitting


def _lock_id(key: str) -> int:
    """A recipient as the signed 32-bit half of an advisory lock key."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big", signed=True)


async def _lock_recipients(conn: AsyncConnection, keys: Sequence[str]) -> None:
    """Advisory locks, held to the end of the transaction, on each recipient, taken in
    ascending order so that two transactions never wait for each other in a circle (a
    deadlock all the same would be retried by `Database.run_write`). Read committed: the
    count that follows sees whatever the previous holder committed."""
    ids = sorted({_lock_id(k) for k in keys})
    await conn.execute(_LOCK_RECIPIENTS, {"cls": CAP_LOCK_CLASS, "ids": ids})


# unnest hands the ids out in array order, so the locks are taken in ascending order.
_LOCK_RECIPIENTS = text(
    "SELECT pg_advisory_xact_lock(:cls, x)::text FROM unnest(CAST(:ids AS integer[])) AS t(x)"
)


async def claim(
    conn: AsyncConnection, channel: str, limit: int, now: datetime, lease: timedelta
) -> list[Claimed]:
    """Lease up to `limit` due messages of `channel`, most urgent first."""
    pending = (
        select(outbox.c.id)
        .where(outbox.c.channel == channel, _pending(), outbox.c.available_at <= now)
        .order_by(outbox.c.priority, outbox.c.available_at, outbox.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        pending = pending.with_for_update(skip_locked=True)
    result = await conn.execute(
        _lease(now, lease).where(outbox.c.id.in_(pending.scalar_subquery()))
    )
    claimed = [_claimed(r) for r in result.all()]
    return sorted(claimed, key=lambda c: (c.message.priority, c.id))


async def claim_probe(
    conn: AsyncConnection, channel: str, now: datetime, lease: timedelta
) -> Claimed | None:
    """Lease the one message a breaker's probe sends: the most urgent due one, or when none is
    due the most urgent one waiting out its backoff (the probe goes ahead of that backoff)."""
    pick = (
        select(outbox.c.id, outbox.c.available_at)
        .where(
            outbox.c.channel == channel,
            _pending(),
            or_(outbox.c.available_at <= now, outbox.c.last_error.is_not(None)),
        )
        .order_by(outbox.c.priority, outbox.c.available_at, outbox.c.id)
        .limit(1)
    )
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    found = (await conn.execute(pick)).first()
    if found is None:
        return None
    row = (await conn.execute(_lease(now, lease).where(outbox.c.id == found.id))).one()
    waited = aware_utc(found.available_at)
    return _claimed(row, early_until=waited if waited is not None and waited > now else None)


def _lease(now: datetime, lease: timedelta) -> Any:
    return (
        update(outbox)
        .values(available_at=now + lease, attempts=outbox.c.attempts + 1, last_error=None)
        .returning(outbox)
    )


def _claimed(r: Any, early_until: datetime | None = None) -> Claimed:
    message = Message(
        r.channel,
        r.recipient,
        r.body,
        subject=r.subject,
        priority=r.priority,
        message_id=r.message_id,
        calendar=r.calendar,
        qr=r.qr,
        language=r.language,
    )
    return Claimed(r.id, message, r.attempts, r.expires_at, early_until)


def reminded_appointment(message_id: str) -> int | None:
    """The appointment a reminder's message id names ("rem-<id>", "rem-<id>-mail", made by
    `notifications.model.reminder_messages`), or None for any other message."""
    if not message_id.startswith("rem-"):
        return None
    number = message_id[4:].removesuffix("-mail")
    return int(number) if number.isdigit() else None


async def drop_stale_reminders(
    conn: AsyncConnection, claimed: Sequence[Claimed], now: datetime
) -> set[int]:
    """Delete the claimed reminders whose appointment is no longer booked (the booking was
    cancelled or moved after the reminder was queued) or no longer due (it starts outside
    the reminder window of `now`, or has passed); the outbox ids deleted. Run in the claim's
    transaction, so a reminder goes out only if its appointment was booked and due when the
    relay took it. The window check also catches an appointment id that SQLite handed out
    again after a rebooking deleted the newest appointment rows."""
    wanted = {
        c.id: appointment
        for c in claimed
        if (appointment := reminded_appointment(c.message.message_id)) is not None
    }
    if not wanted:
        return set()
    live = set(
        (
            await conn.execute(
                select(appointments.c.id)
                .join(bookings, bookings.c.id == appointments.c.booking_id)
                .join(slots, slots.c.id == appointments.c.slot_id)
                .where(
                    appointments.c.id.in_(sorted(set(wanted.values()))),
                    appointments.c.status == "booked",
                    bookings.c.status == "booked",
                    slots.c.starts_at > now,
                    slots.c.starts_at < reminder_window_end(now),
                )
            )
        )
        .scalars()
        .all()
    )
    stale = sorted(i for i, appointment in wanted.items() if appointment not in live)
    if stale:
        await conn.execute(outbox.delete().where(outbox.c.id.in_(stale), _pending()))
    return set(stale)


async def mark_sent(conn: AsyncConnection, ids: Sequence[int], now: datetime) -> None:
    if ids:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids), outbox.c.sent_at.is_(None))
            .values(sent_at=now, last_error=None)
        )


# `mark_sent` on a plain asyncpg connection, one statement in autocommit, prepared once per
# connection: the relay records what its senders delivered every few messages, and through
# SQLAlchemy's transaction that cost more CPU than the sends (bench/relay.py).
MARK_SENT_PG = """
UPDATE outbox SET sent_at = $1, last_error = NULL WHERE id = ANY($2::bigint[]) AND sent_at IS NULL
"""


async def mark_sent_pg(conn: asyncpg.Connection, ids: Sequence[int], now: datetime) -> None:
    await conn.execute(MARK_SENT_PG, now.astimezone(UTC).replace(tzinfo=None), list(ids))


async def mark_failed(conn: AsyncConnection, failed: Sequence[Failed], now: datetime) -> None:
    """Schedule another try at each `retry_at`, or park the message where it is None."""
    retry = [
        {"b_id": f.id, "b_error": f.error[:2000], "b_at": f.retry_at, "b_back": int(not f.counted)}
        for f in failed
        if f.retry_at
    ]
    park = [{"b_id": f.id, "b_error": f.error[:2000]} for f in failed if f.retry_at is None]
    target = and_(outbox.c.id == bindparam("b_id"), _pending())
    if retry:
        await conn.execute(
            update(outbox)
            .where(target)
            .values(
                last_error=bindparam("b_error"),
                available_at=bindparam("b_at"),
                attempts=outbox.c.attempts - bindparam("b_back"),
            ),
            retry,
        )
    if park:
        await conn.execute(
            update(outbox).where(target).values(last_error=bindparam("b_error"), parked_at=now),
            park,
        )


async def retry_now(conn: AsyncConnection, channel: str, now: datetime) -> int:
    """Make every message of `channel` that waits out a backoff due now (its channel is back);
    how many. Leased messages (no `last_error`) are left to the relay sending them."""
    result = await conn.execute(
        update(outbox)
        .where(
            outbox.c.channel == channel,
            _pending(),
            outbox.c.available_at > now,
            outbox.c.last_error.is_not(None),
        )
        .values(available_at=now)
    )
    return int(result.rowcount)


async def defer(conn: AsyncConnection, deferred: Sequence[tuple[int, datetime]]) -> None:
    """Put messages back until `at` without counting the claim as a try."""
    if deferred:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == bindparam("b_id"), _pending())
            .values(available_at=bindparam("b_at"), attempts=outbox.c.attempts - 1),
            [{"b_id": row_id, "b_at": at} for row_id, at in deferred],
        )


async def parked(conn: AsyncConnection, limit: int = 100) -> list[Parked]:
    rows = await conn.execute(
        select(outbox)
        .where(outbox.c.parked_at.is_not(None))
        .order_by(outbox.c.parked_at.desc(), outbox.c.id.desc())
        .limit(limit)
    )
    return [
        Parked(
            r.id,
            r.message_id,
            r.channel,
            r.recipient,
            r.subject,
            r.attempts,
            r.last_error or "",
            r.created_at,
            r.parked_at,
        )
        for r in rows.all()
    ]


async def backlog(conn: AsyncConnection, now: datetime) -> list[Backlog]:
    """Per channel: what waits, what is due now and what is parked."""
    due = outbox.c.available_at <= now
    pending_rows = await conn.execute(
        select(
            outbox.c.channel,
            func.count(),
            func.count().filter(due),
            func.min(outbox.c.available_at).filter(due),
        )
        .where(_pending())
        .group_by(outbox.c.channel)
    )
    parked_rows = await conn.execute(
        select(outbox.c.channel, func.count())
        .where(outbox.c.parked_at.is_not(None))
        .group_by(outbox.c.channel)
    )
    parked_count: dict[str, int] = {str(c): int(n) for c, n in parked_rows.all()}
    waiting = {
        str(c): (int(n), int(d), aware_utc(oldest)) for c, n, d, oldest in pending_rows.all()
    }
    return [
        Backlog(
            channel,
            *waiting.get(channel, (0, 0, None))[:2],
            parked_count.get(channel, 0),
            waiting.get(channel, (0, 0, None))[2],
        )
        for channel in ("sms", "email")
    ]


async def requeue_parked(conn: AsyncConnection, now: datetime) -> int:
    """Give every parked message a fresh set of tries (after an outage was fixed)."""
    result = await conn.execute(
        update(outbox)
        .where(outbox.c.parked_at.is_not(None), outbox.c.sent_at.is_(None))
        .values(parked_at=None, attempts=0, available_at=now, expires_at=None)
    )
    return int(result.rowcount)


async def delete_sent(conn: AsyncConnection, before: datetime, limit: int) -> int:
    """Delete up to `limit` rows sent before `before` (oldest first); how many went."""
    oldest = (
        select(outbox.c.id)
        .where(outbox.c.sent_at.is_not(None), outbox.c.sent_at < before)
        .order_by(outbox.c.id)
        .limit(limit)
    )
    result = await conn.execute(outbox.delete().where(outbox.c.id.in_(oldest.scalar_subquery())))
    return int(result.rowcount)


# --- reminders --------------------------------------------------------------------------------


async def due_reminders(
    conn: AsyncConnection, now: datetime, until: datetime, limit: int
) -> list[DueReminder]:
    """Booked appointments starting in (now, until) whose reminder is not queued yet."""
    query = (
        select(
            appointments.c.id,
            bookings.c.code,
            slots.c.starts_at,
            appointments.c.dose,
            persons.c.first_name,
            persons.c.last_name,
            bookings.c.phone,  # the verified number, never a person's own unverified one
            centres.c.name,
            centres.c.street,
            centres.c.postcode,
            centres.c.city,
            bookings.c.created_at,
            vaccines.c.name,
            vaccines.c.doses,
            bookings.c.language,
        )
        .join(slots, slots.c.id == appointments.c.slot_id)
        .join(bookings, bookings.c.id == appointments.c.booking_id)
        .join(
            persons,
            and_(
                persons.c.booking_id == appointments.c.booking_id,
                persons.c.position == appointments.c.person_position,
            ),
        )
        .join(centres, centres.c.id == slots.c.centre_id)
        .join(vaccines, vaccines.c.code == bookings.c.vaccine_code)
        .where(
            appointments.c.reminded_at.is_(None),
            appointments.c.status == "booked",
            bookings.c.status == "booked",
            slots.c.starts_at > now,
            slots.c.starts_at < until,
        )
        .order_by(appointments.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=appointments)
    return [
        DueReminder(
            appointment_id=r[0],
            code=r[1],
            start=r[2],
            dose=r[3],
            person_name=f"{r[4]} {r[5]}",
            phone=r[6],
            centre=r[7],
            address=f"{r[8]}, {r[9]} {r[10]}".lstrip(", "),
            booked_at=r[11],
            vaccine=r[12],
            doses=r[13],
            language=r[14],
        )
        for r in (await conn.execute(query)).all()
    ]


async def mark_reminded(conn: AsyncConnection, ids: Sequence[int], now: datetime) -> set[int]:
    """Mark appointments reminded; the ids this call marked (another relay may have won)."""
    if not ids:
        return set()
    result = await conn.execute(
        update(appointments)
        .where(appointments.c.id.in_(ids), appointments.c.reminded_at.is_(None))
        .values(reminded_at=now)
        .returning(appointments.c.id)
    )
    return set(result.scalars().all())


# --- dev mailbox ------------------------------------------------------------------------------


async def deliver_to_mailbox(
    conn: AsyncConnection, messages: Sequence[Message], now: datetime
) -> None:
    """Store messages in the dev mailbox; a message delivered twice is kept once."""
    known = set(
        (
            await conn.execute(
                select(dev_mailbox.c.message_id).where(
                    dev_mailbox.c.message_id.in_([m.message_id for m in messages])
                )
            )
        )
        .scalars()
        .all()
    )
    fresh = [m for m in messages if m.message_id not in known]
    if fresh:
        await conn.execute(
            dev_mailbox.insert(),
            [
                {
                    "message_id": m.message_id,
                    "channel": m.channel,
                    "recipient": m.recipient,
                    "subject": m.subject,
                    "body": m.body,
                    "sent_at": now,
                }
                for m in fresh
            ],
        )


async def mailbox(
    conn: AsyncConnection, recipient: str | None, limit: int = 100
) -> list[dict[str, Any]]:
    query = select(dev_mailbox).order_by(dev_mailbox.c.id.desc()).limit(limit)
    if recipient:
        query = query.where(dev_mailbox.c.recipient == recipient)
    return [dict(r._mapping) for r in (await conn.execute(query)).all()]
