"""The outbox relay: delivers what use cases queued in their own transactions.

Invariants kept here:
- At-least-once: a message is marked sent only after its transport accepted it; a relay that
  dies in between leaves it to be claimed again when its lease runs out. Every try carries the
  message's stable id, so the receiver can drop a duplicate.
- A message that keeps failing, fails permanently, or outlives its validity is parked with its
  last error and logged (visible, never dropped); `requeue_parked` gives it new tries.
- E-mail to one recipient domain never exceeds its budget; a deferred message is not a failure.
- Channels are relayed independently: a slow mail server does not hold PINs back.
- Delivery never runs inside a use case: a booking commits whether or not a gateway is up.
- The day-before reminder is queued once per booked appointment, however many relays run,
  and never sent once its booking was cancelled or moved, even if it was queued before.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.notifications import repository as repo
from kontingent.notifications.model import (
    DEFAULT_CAP,
    DomainBudget,
    Failure,
    Message,
    RecipientCap,
    RetryPolicy,
    masked,
    needs_reminder,
    recipient_domain,
    reminder_messages,
    reminder_window_end,
)

log = structlog.get_logger(__name__)

# Longer than any transport's timeout, so a live relay finishes before another may reclaim.
LEASE = timedelta(seconds=120)
REMINDER_BATCH = 500
EXPIRED = Failure("expired: its validity ran out before it could be delivered", permanent=True)


class Transport(Protocol):
    async def deliver(self, messages: Sequence[Message]) -> list[Failure | None]:
        """Deliver `messages`; for each, None when accepted or why not."""
        ...

    async def aclose(self) -> None:
        """Release connections; the transport may be used again afterwards."""
        ...


class DevMailbox:
    """Delivers into the dev mailbox table, shown at /api/v1/dev/messages in demo mode."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def deliver(self, messages: Sequence[Message]) -> list[Failure | None]:
        async def work(conn: AsyncConnection) -> None:
            await repo.deliver_to_mailbox(conn, messages, self.clock.now())

        await self.db.run_write(work)
        return [None] * len(messages)

    async def aclose(self) -> None:
        return None


@dataclass(slots=True)
class Round:
    """What one claim-deliver-record round of one channel did."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    parked: int = 0
    deferred: int = 0


class Relay:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        transports: Mapping[str, Transport],
        batch: int = 200,
        *,
        policy: RetryPolicy | None = None,
        email_budget: DomainBudget | None = None,
        lease: timedelta = LEASE,
        rng: random.Random | None = None,
        cap: RecipientCap = DEFAULT_CAP,
    ) -> None:
        self.db = db
        self.clock = clock
        self.transports = dict(transports)
        self.batch = batch
        self.policy = policy or RetryPolicy()
        self.email_budget = email_budget
        self.lease = lease
        self.rng = rng or random.Random()
        self.cap = cap  # reminders count against their recipient's cap like any message
        self.wake = asyncio.Event()
        self._stopping = asyncio.Event()

    async def run_once(self) -> int:
        """One round per channel, side by side; the number of messages delivered."""
        rounds = await asyncio.gather(*(self.run_channel(c) for c in self.transports))
        return sum(r.sent for r in rounds)

    async def run_channel(self, channel: str) -> Round:
        """Claim one batch of `channel`, deliver what may go now, record every outcome."""
        now = self.clock.now()

        async def claim(conn: AsyncConnection) -> list[repo.Claimed]:
            taken = await repo.claim(conn, channel, self.batch, now, self.lease)
            dropped = await repo.drop_stale_reminders(conn, taken, now)
            if dropped:
                log.info("stale_reminders_dropped", channel=channel, count=len(dropped))
            return [c for c in taken if c.id not in dropped]

        claimed = await self.db.run_write(claim)
        result = Round(claimed=len(claimed))
        if not claimed:
            return result
        expired = [c for c in claimed if c.expires_at is not None and c.expires_at <= now]
        live = [c for c in claimed if c.expires_at is None or c.expires_at > now]
        go, deferred = self._budget(channel, live, now)
        failures = await self._deliver(self.transports[channel], go)
        failures += [EXPIRED] * len(expired)
        after = self.clock.now()  # backoff counts from the failed try, however long it took
        failed: list[tuple[repo.Claimed, repo.Failed]] = [
            (c, self._outcome(c, failure, after))
            for c, failure in zip(go + expired, failures, strict=True)
            if failure is not None
        ]
        sent = [c.id for c, failure in zip(go, failures, strict=False) if failure is None]
        await self._record(sent, [f for _, f in failed], deferred)
        _log_failures(failed)
        result.sent, result.deferred = len(sent), len(deferred)
        result.failed = len(failed)
        result.parked = sum(1 for _, f in failed if f.retry_at is None)
        return result

    def _budget(
        self, channel: str, claimed: list[repo.Claimed], now: datetime
    ) -> tuple[list[repo.Claimed], list[tuple[int, datetime]]]:
        """Split e-mail into what its domain's budget lets go now and what must wait."""
        if channel != "email" or self.email_budget is None:
            return claimed, []
        plan = self.email_budget.split(
            [recipient_domain(c.message.recipient) for c in claimed], now
        )
        go = [c for c, wait in zip(claimed, plan, strict=True) if wait is None]
        later = [(c.id, now + wait) for c, wait in zip(claimed, plan, strict=True) if wait]
        return go, later

    def _outcome(self, claimed: repo.Claimed, failure: Failure, now: datetime) -> repo.Failed:
        retry_at = None
        if not failure.permanent:
            retry_at = self.policy.retry_at(claimed.attempts, now, self.rng)
        return repo.Failed(claimed.id, failure.reason, retry_at)

    async def _deliver(
        self, transport: Transport, group: list[repo.Claimed]
    ) -> list[Failure | None]:
        if not group:
            return []
        try:
            return await transport.deliver([c.message for c in group])
        except Exception as exc:  # a transport failing as a whole fails each message
            log.exception("transport_failed", transport=type(transport).__name__)
            return [Failure(f"{type(exc).__name__}: {exc}")] * len(group)

    async def _record(
        self, sent: list[int], failed: list[repo.Failed], deferred: list[tuple[int, datetime]]
    ) -> None:
        now = self.clock.now()

        async def work(conn: AsyncConnection) -> None:
            await repo.mark_sent(conn, sent, now)
            await repo.mark_failed(conn, failed, now)
            await repo.defer(conn, deferred)

        await self.db.run_write(work)

    async def send_reminders(self) -> int:
        """Queue the reminders due now; the number of messages queued."""
        queued = 0
        while True:
            batch = await self.db.run_write(partial(self._remind, now=self.clock.now()))
            queued += batch[1]
            if batch[0] < REMINDER_BATCH:
                return queued

    async def _remind(self, conn: AsyncConnection, now: datetime) -> tuple[int, int]:
        due = await repo.due_reminders(conn, now, reminder_window_end(now), REMINDER_BATCH)
        mine = await repo.mark_reminded(conn, [d.appointment_id for d in due], now)
        messages: list[Message] = []
        for reminder in due:
            if reminder.appointment_id in mine and needs_reminder(reminder):
                messages += reminder_messages(reminder)
        queued = await repo.enqueue_once(conn, messages, now, self.cap)
        if queued:
            log.info("reminders_queued", appointments=len(mine), messages=len(queued))
        return len(due), len(queued)

    async def requeue_parked(self) -> int:
        now = self.clock.now()
        return await self.db.run_write(lambda conn: repo.requeue_parked(conn, now))

    async def run_forever(self, idle_s: float = 0.5, reminders_every_s: float = 60.0) -> None:
        """Relay every channel and queue reminders until `stop()` (each loop finishes its round)
        or cancellation (a round cut short is redelivered after its lease); then close."""
        self._stopping.clear()
        try:
            async with asyncio.TaskGroup() as group:
                for channel in self.transports:
                    group.create_task(self._channel_loop(channel, idle_s))
                group.create_task(self._reminder_loop(reminders_every_s))
        finally:
            await self.aclose()

    def stop(self) -> None:
        """Ask `run_forever` to return once the rounds in flight are recorded."""
        self._stopping.set()

    async def _channel_loop(self, channel: str, idle_s: float) -> None:
        while not self._stopping.is_set():
            try:
                done = await self.run_channel(channel)
            except Exception:
                log.exception("relay_round_failed", channel=channel)
                done = Round()
            if done.claimed < self.batch:  # caught up: wait for more work
                await self._pause(idle_s, self.wake)
                self.wake.clear()

    async def _reminder_loop(self, every_s: float) -> None:
        while not self._stopping.is_set():
            try:
                await self.send_reminders()
            except Exception:
                log.exception("reminders_failed")
            await self._pause(every_s)

    async def _pause(self, seconds: float, wake: asyncio.Event | None = None) -> None:
        """Wait `seconds`, less when woken or asked to stop."""
        waits = [asyncio.ensure_future(self._stopping.wait())]
        if wake is not None:
            waits.append(asyncio.ensure_future(wake.wait()))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()

    async def aclose(self) -> None:
        for transport in {id(t): t for t in self.transports.values()}.values():
            with contextlib.suppress(Exception):
                await transport.aclose()


# How long sent messages stay in the outbox: long enough to answer "did my confirmation go
# out?" on the hotline, short enough that the table does not grow with every PIN of the rush.
SENT_RETENTION = timedelta(days=30)
PURGE_BATCH = 5000


async def purge_sent(db: Database, older_than: datetime, batch: int = PURGE_BATCH) -> int:
    """Delete outbox rows sent before `older_than`; the number deleted. Unsent and parked rows
    are kept whatever their age. Works in batches of `batch` rows, one short transaction
    each, so relays claiming meanwhile never wait long. Reminders stay queued once: that is
    kept by `appointments.reminded_at`, not by the sent rows."""
    total = 0
    while True:
        deleted = await db.run_write(partial(repo.delete_sent, before=older_than, limit=batch))
        total += deleted
        if deleted < batch:
            if total:
                log.info("sent_messages_purged", count=total, before=older_than.isoformat())
            return total


def _log_failures(failed: list[tuple[repo.Claimed, repo.Failed]]) -> None:
    """Structured logs that name each message without spelling out its recipient."""
    for claimed, outcome in failed:
        fields = {
            "outbox_id": claimed.id,
            "message_id": claimed.message.message_id,
            "channel": claimed.message.channel,
            "to": masked(claimed.message.recipient),
            "attempts": claimed.attempts,
            "error": outcome.error,
        }
        if outcome.retry_at is None:
            log.error("message_parked", **fields)
        else:
            log.warning("delivery_failed", retry_at=outcome.retry_at.isoformat(), **fields)
