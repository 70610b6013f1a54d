"""Recording a relay round's outcomes as they come: group commit of one channel's sends.

Invariants kept here:
- `flush` returns only once everything staged before it is committed, so a sender that
  stages its message's outcome and flushes before taking the next message leaves at most one
  message sent but unrecorded: with `window` senders, a crash repeats at most `window`.
- Senders that finish while a write is under way share the next transaction: one write per
  group of concurrently finished sends, never one per message when they come together.
- A write that fails fails every later flush of the round as well (the round stops; what it
  could not record is delivered again after its lease, at least once), never silently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from kontingent.notifications import repository as repo


@dataclass(slots=True)
class Outcomes:
    """What one transaction records: sent, failed (retry or park) and put back."""

    sent: list[int] = field(default_factory=list)
    failed: list[repo.Failed] = field(default_factory=list)
    deferred: list[tuple[int, datetime]] = field(default_factory=list)  # try back given
    pull: bool = False  # the channel is back: its waiting messages become due now

    def only_sent(self) -> bool:
        return not (self.failed or self.deferred or self.pull)


class Recorder:
    """Stages outcomes and commits them through `write`, many per transaction."""

    def __init__(self, write: Callable[[Outcomes], Awaitable[None]]) -> None:
        self._write = write
        self._staged = Outcomes()
        self._count = 0  # stage calls so far
        self._done = 0  # stage calls committed so far (in the order staged)
        self._lock = asyncio.Lock()  # one write at a time; the waiters' items go in the next
        self._broken: BaseException | None = None

    def stage(
        self,
        *,
        sent: int | None = None,
        failed: repo.Failed | None = None,
        deferred: list[tuple[int, datetime]] | None = None,
        pull: bool = False,
    ) -> None:
        if sent is None and failed is None and not deferred and not pull:
            return
        staged = self._staged
        if sent is not None:
            staged.sent.append(sent)
        if failed is not None:
            staged.failed.append(failed)
        if deferred:
            staged.deferred += deferred
        staged.pull = staged.pull or pull
        self._count += 1  # a flush after this call waits for everything staged so far

    async def flush(self) -> None:
        """Return once everything staged so far is committed."""
        wanted = self._count
        async with self._lock:
            if self._broken is not None:
                raise RuntimeError("an earlier write of this round failed") from self._broken
            if self._done >= wanted:
                return  # the write that just finished carried it
            batch, upto = self._staged, self._count
            self._staged = Outcomes()
            try:
                await self._write(batch)
            except BaseException as exc:
                self._broken = exc
                raise
            self._done = upto
