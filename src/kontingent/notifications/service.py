"""The outbox relay: delivers what use cases queued in their own transactions.

Invariants kept here:
- At-least-once: a message is marked sent only after its transport accepted it; a relay that
  dies in between leaves it to be claimed again when its lease runs out. Every try carries the
  message's stable id, so the receiver can drop a duplicate.
- A crash repeats at most the messages in flight: each outcome is committed before its sender
  takes the next message, so at most the transport's `concurrency` (its connections) are
  ever sent and not yet recorded. Outcomes that finish together share one write (group
  commit), not one each.
- A channel that keeps failing gets one probe at a time, not a batch (its `Breaker` is open);
  when a delivery goes through again the channel's messages waiting out a backoff become due
  at once (PINs first, as claims go by priority), instead of after backoffs that grew while
  the channel was down. A probe taken ahead of its backoff keeps its schedule and its try.
- A round takes no message after half its lease, so no other relay can claim one of its
  messages while it still sends it.
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
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.notifications import repository as repo
from kontingent.notifications.messages import reminder_messages
from kontingent.notifications.model import (
    DEFAULT_CAP,
    Breaker,
    DomainBudget,
    Failure,
    Message,
    RecipientCap,
    RetryPolicy,
    masked,
    needs_reminder,
    recipient_domain,
    reminder_window_end,
)
from kontingent.notifications.outcomes import Outcomes, Recorder

log = structlog.get_logger(__name__)

# Longer than any transport's timeout, so a live relay finishes before another may reclaim.
LEASE = timedelta(seconds=120)
REMINDER_BATCH = 500
EXPIRED = Failure("expired: its validity ran out before it could be delivered", permanent=True)


class Transport(Protocol):
    # How many messages it sends at once (its connections): the relay's in-flight window.
    concurrency: int

    async def send(self, message: Message) -> Failure | None:
        """Deliver one message; None when accepted, else why not."""
        ...

    async def aclose(self) -> None:
        """Release connections; the transport may be used again afterwards."""
        ...


class DevMailbox:
    """Delivers into the dev mailbox table, shown at /api/v1/dev/messages in demo mode."""

    # One at a time, in the order claimed: the mailbox then lists a resent PIN after the one
    # it replaces, and whoever reads "the newest PIN" reads the valid one.
    concurrency = 1

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def send(self, message: Message) -> Failure | None:
        async def work(conn: AsyncConnection) -> None:
            await repo.deliver_to_mailbox(conn, [message], self.clock.now())

        await self.db.run_write(work)
        return None

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
    released: int = 0  # claimed, then put back unsent (the breaker opened, or the lease ran low)
    recovered: bool = False  # a delivery closed the channel's breaker


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
        self.breakers = {channel: Breaker() for channel in self.transports}
        self.wake = asyncio.Event()
        self._stopping = asyncio.Event()

    async def run_once(self) -> int:
        """One round per channel, side by side; the number of messages delivered."""
        rounds = await asyncio.gather(*(self.run_channel(c) for c in self.transports))
        return sum(r.sent for r in rounds)

    async def run_channel(self, channel: str) -> Round:
        """Claim one batch of `channel` (one probe while its breaker is open), send what may
        go now through the in-flight window, and record each outcome as it comes."""
        now = self.clock.now()
        breaker = self.breakers[channel]
        if breaker.is_open and not breaker.take_probe(now):
            return Round()  # the channel is down and its next probe is not due yet
        claimed = await self.db.run_write(partial(self._claim, channel, now, breaker.is_open))
        result = Round(claimed=len(claimed))
        if not claimed:
            return result
        recorder = Recorder(partial(self._write, channel))
        live = []
        for c in claimed:
            if c.expires_at is None or c.expires_at > now:
                live.append(c)
            else:
                self._note(channel, c, EXPIRED, recorder, result)
        go, deferred = self._budget(channel, live, now)
        recorder.stage(deferred=deferred)
        result.deferred = len(deferred)
        unsent = await self._send_all(channel, go, recorder, result)
        recorder.stage(deferred=[(c.id, now) for c in unsent])
        result.released = len(unsent)
        await recorder.flush()
        return result

    async def _claim(
        self, channel: str, now: datetime, probe: bool, conn: AsyncConnection
    ) -> list[repo.Claimed]:
        if probe:
            one = await repo.claim_probe(conn, channel, now, self.lease)
            taken = [] if one is None else [one]
        else:
            taken = await repo.claim(conn, channel, self.batch, now, self.lease)
        dropped = await repo.drop_stale_reminders(conn, taken, now)
        if dropped:
            log.info("stale_reminders_dropped", channel=channel, count=len(dropped))
        return [c for c in taken if c.id not in dropped]

    async def _send_all(
        self, channel: str, go: list[repo.Claimed], recorder: Recorder, result: Round
    ) -> list[repo.Claimed]:
        """Send `go` with at most the transport's `concurrency` in flight; each sender has its
        message's outcome committed before it takes the next. Once the channel's breaker
        opens no more are taken (a probe round sends its one), nor after half the lease (a
        slow channel: the rest could be claimed again by another relay meanwhile, and a send
        begun by then has the other half to finish); those not sent are returned."""
        transport, breaker = self.transports[channel], self.breakers[channel]
        todo, probing = deque(go), breaker.is_open
        deadline = self.clock.now() + self.lease / 2

        async def sender() -> None:
            while todo and (probing or not breaker.is_open) and self.clock.now() < deadline:
                claimed = todo.popleft()
                try:
                    failure = await transport.send(claimed.message)
                except Exception as exc:  # a transport that raises fails the message
                    log.exception("transport_failed", transport=type(transport).__name__)
                    failure = Failure(f"{type(exc).__name__}: {exc}")
                self._note(channel, claimed, failure, recorder, result)
                await recorder.flush()

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(max(1, transport.concurrency), len(go))):
                    group.create_task(sender())
        except* Exception as failed:  # recording failed (the database): the round stops
            raise failed.exceptions[0] from None
        return list(todo)

    def _note(
        self,
        channel: str,
        claimed: repo.Claimed,
        failure: Failure | None,
        recorder: Recorder,
        result: Round,
    ) -> None:
        """Stage one message's outcome and tell the channel's breaker about it."""
        breaker = self.breakers[channel]
        if failure is None:
            result.sent += 1
            recovered = breaker.succeeded()
            result.recovered = result.recovered or recovered
            recorder.stage(sent=claimed.id, pull=recovered)
            return
        now = self.clock.now()  # backoff counts from the failed try, however long it took
        if not failure.permanent:  # a permanent one is the message's fault, not the channel's
            was_open = breaker.is_open
            breaker.failed(now)
            if not was_open and breaker.is_open:
                log.warning("channel_breaker_opened", channel=channel, error=failure.reason)
        outcome = self._outcome(claimed, failure, now)
        result.failed += 1
        result.parked += outcome.retry_at is None
        recorder.stage(failed=outcome)
        _log_failure(claimed, outcome)

    async def _write(self, channel: str, outcomes: Outcomes) -> None:
        now = self.clock.now()
        if self.db.has_driver and outcomes.only_sent():  # the common case
            await self.db.run_driver(partial(repo.mark_sent_pg, ids=outcomes.sent, now=now))
            return

        async def work(conn: AsyncConnection) -> int:
            await repo.mark_sent(conn, outcomes.sent, now)
            await repo.mark_failed(conn, outcomes.failed, now)
            await repo.defer(conn, outcomes.deferred)
            return await repo.retry_now(conn, channel, now) if outcomes.pull else 0

        pulled = await self.db.run_write(work)
        if outcomes.pull:
            log.info("channel_recovered", channel=channel, due_now=pulled)

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
        if failure.permanent:
            return repo.Failed(claimed.id, failure.reason, None)
        if claimed.early_until is not None:  # a probe's failure is the channel's
            return repo.Failed(claimed.id, failure.reason, claimed.early_until, counted=False)
        return repo.Failed(
            claimed.id, failure.reason, self.policy.retry_at(claimed.attempts, now, self.rng)
        )

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
            if done.claimed < self.batch and not done.recovered:  # caught up: wait for work
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


def _log_failure(claimed: repo.Claimed, outcome: repo.Failed) -> None:
    """A structured log that names the message without spelling out its recipient."""
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
