"""Property: whatever the arrivals, the in-process store lets people in as the rule says:
everyone who joined before the opening first (in an order drawn by lot), then everyone else
in order of arrival, at no more than the rate allows."""

from __future__ import annotations

import asyncio
import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from kontingent.waiting_room.model import score_for
from kontingent.waiting_room.store import MemoryWaitingRoom, Restore, Step

OPENS = 10_000.0
RATE = 3.0


async def _admission_order(offsets: list[float], seed: int) -> tuple[list[int], int]:
    """Indices of arrivals in the order they were admitted, and the most admitted in a step."""
    rng = random.Random(seed)
    store = MemoryWaitingRoom()
    await store.restore(Restore(-1e9, 0, False, None, 0.0, None))  # a new store: set up first
    arrivals = sorted(offsets)
    for i, offset in enumerate(arrivals):
        now = OPENS + offset
        step = Step(now, now >= OPENS, RATE, 1e9, OPENS)
        await store.join(str(i).zfill(6), score_for(now, OPENS, rng.random()), step)
    order: list[int] = []
    most, now = 0, OPENS + max(arrivals[-1], 0.0)
    while len(order) < len(arrivals):
        now += 1.0
        before = store.waiting
        for i in range(len(arrivals)):
            ticket = str(i).zfill(6)
            state = await store.poll(ticket, None, Step(now, True, RATE, 1e9, OPENS))
            if state.status == "admitted" and i not in order:
                order.append(i)
        most = max(most, before - store.waiting)
    return order, most


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=-120, max_value=120, allow_nan=False), min_size=1, max_size=40),
    st.integers(min_value=0, max_value=2**32),
)
def test_early_arrivals_first_then_first_come_first_served_at_the_rate(
    offsets: list[float], seed: int
) -> None:
    order, most = asyncio.run(_admission_order(offsets, seed))
    arrivals = sorted(offsets)
    early = {i for i, o in enumerate(arrivals) if o < 0}
    assert set(order[: len(early)]) == early
    late = order[len(early) :]
    assert late == sorted(late)
    assert most <= math.ceil(RATE)
