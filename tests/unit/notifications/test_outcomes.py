"""Recording a relay round's outcomes (kontingent.notifications.outcomes), with an in-memory
write: each flush returns only once its outcomes are written, senders that finish together
share one write, and a failed write fails the flushes after it."""

from __future__ import annotations

import asyncio

import pytest

from kontingent.notifications.outcomes import Outcomes, Recorder


class Writes:
    """An in-memory store whose writes each wait for the test to let them finish."""

    def __init__(self) -> None:
        self.done: list[Outcomes] = []
        self.started = asyncio.Event()
        self.go = asyncio.Event()
        self.fail = False

    async def write(self, outcomes: Outcomes) -> None:
        self.started.set()
        await self.go.wait()
        if self.fail:
            raise ConnectionError("database gone")
        self.done.append(outcomes)


async def test_a_flush_returns_once_its_outcome_is_written() -> None:
    writes = Writes()
    recorder = Recorder(writes.write)
    recorder.stage(sent=1)
    flush = asyncio.create_task(recorder.flush())
    await writes.started.wait()
    assert not flush.done() and writes.done == []
    writes.go.set()
    await flush
    assert [o.sent for o in writes.done] == [[1]]


async def test_outcomes_that_finish_during_a_write_share_the_next_one() -> None:
    writes = Writes()
    recorder = Recorder(writes.write)
    recorder.stage(sent=1)
    first = asyncio.create_task(recorder.flush())
    await writes.started.wait()
    later = []
    for outbox_id in (2, 3, 4):  # three senders finish while the first write is under way
        recorder.stage(sent=outbox_id)
        later.append(asyncio.create_task(recorder.flush()))
    writes.go.set()
    await asyncio.gather(first, *later)
    assert [o.sent for o in writes.done] == [[1], [2, 3, 4]]


async def test_a_failed_write_fails_the_flushes_after_it() -> None:
    writes = Writes()
    writes.fail = True
    writes.go.set()
    recorder = Recorder(writes.write)
    recorder.stage(sent=1)
    with pytest.raises(ConnectionError):
        await recorder.flush()
    recorder.stage(sent=2)
    with pytest.raises(RuntimeError, match="earlier write"):
        await recorder.flush()
    assert writes.done == []
