"""The waiting room's behaviour, the same scenarios against MemoryWaitingRoom and
RedisWaitingRoom (real Redis), with a fixed clock: nothing sleeps."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from kontingent.clock import FixedClock
from kontingent.errors import KontingentError, NotFound
from kontingent.waiting_room import tokens
from kontingent.waiting_room.model import (
    BURST_S,
    OVERLOAD_WINDOW_S,
    WINDOW_S,
    Mode,
    RoomConfig,
    far_ahead,
)
from kontingent.waiting_room.service import (
    AdmissionRefused,
    TicketExpired,
    WaitingRoom,
)
from kontingent.waiting_room.store import Step, TicketState, WaitingRoomStore
from tests.integration.waiting_room.conftest import OPENS, SECRET, RoomFactory


def _spearman(order: list[int]) -> float:
    n = len(order)
    d2 = sum((rank - i) ** 2 for i, rank in enumerate(order))
    return 1 - 6 * d2 / (n * (n * n - 1))


async def _join(room: WaitingRoom, clock: FixedClock, count: int, gap_s: float) -> list[str]:
    tickets = []
    for _ in range(count):
        tickets.append((await room.join()).ticket)
        clock.advance(timedelta(seconds=gap_s))
    return tickets


async def test_arrivals_before_the_opening_are_shuffled_at_the_opening(
    make_room: RoomFactory, clock: FixedClock
) -> None:
    room = make_room(rate=1.0)
    clock.set(OPENS - timedelta(minutes=5))
    early = await _join(room, clock, 200, gap_s=1.0)  # the first came 5 minutes early
    before = await room.status(early[0])
    assert before.status == "before_opening" and before.position is None
    assert before.estimated_wait_s is None and not before.admitted
    clock.set(OPENS)
    positions = [(await room.status(t)).position for t in early]
    assert sorted(positions) == list(range(1, 201))  # a place for each, no gaps
    rho = _spearman([p - 1 for p in positions if p is not None])
    assert abs(rho) < 0.3, rho  # 200 arrivals in order would give 1.0
    assert positions[0] != 1 or positions[1] != 2  # racing first gained nothing


async def test_arrivals_after_the_opening_queue_in_order_behind_the_early_ones(
    make_room: RoomFactory, clock: FixedClock
) -> None:
    room = make_room(rate=0.01)
    clock.set(OPENS - timedelta(seconds=30))
    early = await _join(room, clock, 20, gap_s=1.0)
    clock.set(OPENS + timedelta(seconds=1))
    late = await _join(room, clock, 20, gap_s=0.5)
    late_positions = [(await room.status(t)).position for t in late]
    assert late_positions == list(range(21, 41))
    assert {(await room.status(t)).position for t in early} == set(range(1, 21))


async def test_people_are_let_in_at_the_rate_and_see_who_is_served(
    make_room: RoomFactory, clock: FixedClock
) -> None:
    room = make_room(rate=10.0)
    clock.set(OPENS)
    tickets = await _join(room, clock, 100, gap_s=0.001)
    first = await room.status(tickets[0])
    assert first.serving == 0 and first.position == 1
    clock.set(OPENS + timedelta(seconds=1))
    assert (await room.status(tickets[0])).admitted
    assert not (await room.status(tickets[10])).admitted
    clock.set(OPENS + timedelta(seconds=3.5))
    view = await room.status(tickets[99])
    assert view.serving == 35 and view.position == 100 and not view.admitted
    assert view.waiting == 65
    for second in range(4, 11):  # the processes' syncs come every second
        clock.set(OPENS + timedelta(seconds=second))
        await room.stats()
    assert (await room.status(tickets[99])).admitted


async def test_an_admission_carries_a_token_for_its_own_ticket_only(
    make_room: RoomFactory, clock: FixedClock
) -> None:
    room = make_room(rate=10.0, ttl_s=120.0)
    clock.set(OPENS)
    one, two = await _join(room, clock, 2, gap_s=0.001)
    clock.advance(timedelta(seconds=1))
    view = await room.status(one)
    assert view.admitted and view.admission_token
    assert view.admission_expires_at == pytest.approx(clock.now().timestamp() + 120)
    assert (await room.require(view.admission_token, one)).ticket == one  # type: ignore[union-attr]
    with pytest.raises(AdmissionRefused) as caught:
        await room.require(view.admission_token, two)
    assert caught.value.code == "admission_invalid"
    with pytest.raises(AdmissionRefused) as caught:
        await room.require(None)
    assert caught.value.status == 403 and "POST /api/v1/queue" in caught.value.message
    clock.advance(timedelta(seconds=121))
    with pytest.raises(AdmissionRefused) as caught:
        await room.require(view.admission_token)
    assert caught.value.code == "admission_expired"


async def test_an_unused_admission_expires_and_its_place_is_given_to_the_next(
    make_room: RoomFactory, clock: FixedClock
) -> None:
    room = make_room(rate=0.1, ttl_s=5.0)
    clock.set(OPENS)
    tickets = await _join(room, clock, 5, gap_s=0.001)
    clock.advance(timedelta(seconds=10))  # one credit: the first is admitted
    assert (await room.status(tickets[0])).admitted
    clock.advance(timedelta(seconds=6))  # 0.6 credit of its own, +1 from the expired one
    with pytest.raises(TicketExpired) as caught:
        await room.status(tickets[0])
    assert caught.value.status == 410 and "POST /api/v1/queue" in caught.value.message
    assert (await room.status(tickets[1])).admitted
    clock.advance(timedelta(seconds=1))
    stats = await room.stats()
    assert stats.recycled == 1 and stats.expired == 1 and stats.serving == 2


async def test_an_admission_used_for_a_booking_is_not_recycled(
    make_room: RoomFactory, clock: FixedClock
) -> None:
    room = make_room(rate=0.1, ttl_s=5.0)
    clock.set(OPENS)
    tickets = await _join(room, clock, 5, gap_s=0.001)
    clock.advance(timedelta(seconds=10))
    token = (await room.status(tickets[0])).admission_token
    async with room.booking(token):
        pass  # booked
    clock.advance(timedelta(seconds=6))
    assert not (await room.status(tickets[1])).admitted  # 0.6 credit only
    assert (await room.stats()).recycled == 0


async def test_a_booking_under_the_room_gets_its_admissions_ticket_to_record(
    make_room: RoomFactory, clock: FixedClock
) -> None:
    room = make_room(rate=10.0)
    clock.set(OPENS)
    (ticket,) = await _join(room, clock, 1, gap_s=1.0)
    token = (await room.status(ticket)).admission_token
    assert token
    with pytest.raises(KontingentError, match="slot taken"):
        async with room.booking(token) as admission:
            assert admission == ticket  # the booking writes it: one admission, one booking
            raise KontingentError("slot taken", code="slot_taken")
    async with room.booking(token, ticket) as admission:
        assert admission == ticket  # refused, nothing used up: the retry passes the door
    with pytest.raises(AdmissionRefused):
        async with room.booking(token, tokens.new_ticket()):
            pytest.fail("another ticket's admission passed")
    await room.require(token)  # its own session may still look things up


async def test_all_processes_share_one_queue_and_the_operators_settings(
    make_room: RoomFactory, clock: FixedClock
) -> None:
    one, two = make_room(seed=1), make_room(seed=2)
    clock.set(OPENS)
    joined = []
    for room in (one, two, one):
        joined.append((await room.join()).ticket)
        clock.advance(timedelta(milliseconds=1))
    assert [(await two.status(t)).position for t in joined] == [1, 2, 3]
    await one.configure(rate=1000.0, mode=Mode.SCHEDULED)
    clock.advance(timedelta(seconds=1))
    assert two.config.rate == 10.0  # until its next refresh
    assert all([(await two.status(t)).admitted for t in joined])
    assert two.config.rate == 1000.0
    await one.configure(mode=Mode.OFF)
    clock.advance(timedelta(seconds=1))
    assert await two.require(None) is None  # the room is off everywhere


async def test_the_wait_is_estimated_once_the_admission_rate_is_steady(
    make_room: RoomFactory, clock: FixedClock
) -> None:
    room = make_room(rate=2.0)
    clock.set(OPENS)
    tickets = await _join(room, clock, 300, gap_s=0.001)
    assert (await room.status(tickets[-1])).estimated_wait_s is None
    for _ in range(WINDOW_S + 1):
        clock.advance(timedelta(seconds=1))
        view = await room.status(tickets[-1])
    assert view.estimated_wait_s == pytest.approx((300 - 62) / 2, abs=2)
    stats = await room.stats()
    assert stats.admitted_per_s == pytest.approx(2.0) and stats.waiting == 300 - 62


async def test_auto_mode_turns_the_room_on_under_load_and_off_when_calm(
    make_room: RoomFactory, clock: FixedClock
) -> None:
    room = make_room(mode=Mode.AUTO, opens_at=None, threshold=5.0, rate=100.0)
    refused = 0
    for _ in range(7):  # 20 guarded requests a second, four times the threshold
        for _ in range(20):
            try:
                assert await room.require(None) is None
            except AdmissionRefused:
                refused += 1
        clock.advance(timedelta(seconds=1))
    assert room.guarding() and refused > 0
    with pytest.raises(AdmissionRefused):
        await room.require(None)
    view = await room.join()
    clock.advance(timedelta(seconds=1))
    assert (await room.status(view.ticket)).admitted  # first come, first served
    for _ in range(8):  # calm: nobody waits, few requests
        clock.advance(timedelta(seconds=1))
        await room.stats()
    assert not room.guarding()
    assert await room.require(None) is None


class CountingStore:
    """The real store, with the polls that reach it counted."""

    def __init__(self, store: WaitingRoomStore) -> None:
        self._store = store
        self.polls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def poll(self, ticket: str, score: float | None, step: Step) -> TicketState:
        self.polls += 1
        return await self._store.poll(ticket, score, step)


async def test_polls_from_far_back_are_answered_without_the_store(
    store: WaitingRoomStore, clock: FixedClock
) -> None:
    counting = CountingStore(store)
    config = RoomConfig(Mode.SCHEDULED, OPENS.timestamp(), rate=20.0, ttl_s=300.0)
    room = WaitingRoom(counting, clock, SECRET, config, rng=random.Random(3))  # type: ignore[arg-type]
    clock.set(OPENS - timedelta(seconds=60))
    early = await _join(room, clock, 1500, gap_s=0.01)  # more than FRONT_SAMPLES: sampled
    clock.set(OPENS + timedelta(seconds=1))
    late = await _join(room, clock, 1500, gap_s=0.001)
    clock.advance(timedelta(seconds=1))
    truth = sorted((tokens.ticket_score(SECRET, t), t) for t in early + late)
    served = (await room.stats()).serving
    assert served == 70  # 3.5 s at 20/s, admitted by the joins and the syncs
    place = {t: served + rank + 1 for rank, (_, t) in enumerate(truth[served:])}

    views = [await room.status(t) for t in early + late]
    asked = counting.polls
    assert 0 < asked <= 2 * far_ahead(20.0)  # only the front of the line reached the store
    for view in views:
        if view.ticket in place:
            assert view.status == "waiting" and view.position is not None
            assert abs(place[view.ticket] - view.position) < 3  # 3: the samples' distance
            assert view.poll_after_s > 0 and view.waiting == 3000 - served
        else:
            assert view.admitted  # the first 70 of the drawn order
    near = [t for _, t in truth[served : served + 10]]
    assert [(await room.status(t)).position for t in near] == list(range(71, 81))  # exact
    assert counting.polls == asked + 10

    forged = tokens.scored_ticket("not the server's key" * 2, OPENS.timestamp())
    with pytest.raises(NotFound):
        await room.status(forged)
    with pytest.raises(NotFound):
        await room.status(tokens.new_ticket())  # the room is on: not a queue ticket
    assert counting.polls == asked + 10  # refused without asking the store


async def test_a_long_silence_does_not_let_a_crowd_in_at_once(
    make_room: RoomFactory, clock: FixedClock
) -> None:
    room = make_room(rate=10.0)
    clock.set(OPENS)
    tickets = await _join(room, clock, 300, gap_s=0.0)
    clock.advance(timedelta(seconds=60))  # nobody asked (or the store was paused) for a minute
    assert (await room.status(tickets[-1])).serving == 10 * BURST_S  # not 600
    clock.advance(timedelta(seconds=1))
    assert (await room.stats()).serving == 10 * BURST_S + 10  # then at the rate again


async def test_one_process_refusing_requests_as_overloaded_slows_admission_everywhere(
    store: WaitingRoomStore, clock: FixedClock
) -> None:
    refused = [0]  # requests the first process has refused as overloaded so far
    config = RoomConfig(Mode.SCHEDULED, OPENS.timestamp(), rate=40.0)
    busy = WaitingRoom(
        store, clock, SECRET, config, rng=random.Random(1), overloads=lambda: refused[0]
    )
    other = WaitingRoom(store, clock, SECRET, config, rng=random.Random(2))
    clock.set(OPENS)
    await _join(other, clock, 500, gap_s=0.0)
    for room in (busy, other):
        assert (await room.stats()).effective_rate == 40.0
    refused[0] = 3
    clock.advance(timedelta(seconds=1))
    assert (await busy.stats()).effective_rate == 10.0  # told at its next refresh
    served = (await other.stats()).serving
    assert (await other.stats()).effective_rate == 10.0  # and the other process sees it
    clock.advance(timedelta(seconds=1))
    now = await other.stats()
    assert now.serving == served + 10  # a quarter of the rate
    assert now.effective_rate == 13.0  # climbing back by 3 a second: a tenth of the other 30
    clock.advance(timedelta(seconds=4))  # 5 s without refusals: halfway back
    await busy.stats()
    assert (await other.stats()).effective_rate == 25.0
    clock.advance(timedelta(seconds=OVERLOAD_WINDOW_S - 5))  # no more refusals: full rate again
    await busy.stats()
    assert (await other.stats()).effective_rate == 40.0


async def test_while_the_room_is_off_no_token_is_handed_out_to_hoard_for_when_it_guards(
    make_room: RoomFactory, clock: FixedClock
) -> None:
    room = make_room(mode=Mode.OFF, opens_at=None)
    joined = await room.join()
    polled = await room.status("any-string-at-all")
    for view in (joined, polled):
        assert view.admitted and view.admission_token is None  # the door checks nothing now
    assert await room.require(None) is None
    await room.configure(mode=Mode.SCHEDULED)  # the room guards from now on
    with pytest.raises(AdmissionRefused):
        await room.require(None)
    with pytest.raises(NotFound):
        await room.status(joined.ticket)  # that ticket was never in the queue: join now
