"""The waiting room's rules, free of I/O: who stands where, how fast people are let in, how
often a waiting person should ask again, and when a wait can honestly be estimated.

Invariants kept here:
- Order is by score, lowest first. A ticket drawn before the opening minute gets a score in
  [opens_at - 1, opens_at): uniformly random and independent of when it was drawn, so racing
  to be first before the opening gains nothing. A ticket drawn at or after the opening gets
  its join time as score (>= opens_at): after everyone who came early, in order of arrival.
- Admission is a token bucket: credit grows at the effective rate while the room admits,
  never before the opening. It holds at most BURST_S seconds' worth (one second's with nobody
  waiting), so neither an idle room nor a pause of the store saves up a burst of admissions;
  an expired, unused admission gives its credit back (within the same cap).
- The effective rate is the operator's rate, capped by what bookings show the service
  sustains once enough bookings were measured (SUSTAIN_FACTOR times the observed rate), and
  cut to a quarter at once when any process refuses requests as overloaded, climbing back
  over OVERLOAD_WINDOW_S quiet seconds.
- All times are unix seconds (floats) from the injected clock; nothing here reads the time.

The Redis adapter runs the same rules as Lua (stores/redis.py); the behaviour suite runs one
scenario against both adapters.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum


class Mode(StrEnum):
    OFF = "off"
    SCHEDULED = "scheduled"  # guards from now on, admits from the opening minute
    AUTO = "auto"  # guards while load is above the threshold (or people still wait)


# Counters are kept per second for this long; rates are read over the window.
WINDOW_S = 30
KEEP_S = 60
# A measured booking rate caps admission only once this many bookings were seen in the
# window and the room has admitted this long: before that the measure is noise.
SUSTAIN_MIN_BOOKINGS = WINDOW_S
SUSTAIN_WARMUP_S = 60.0
# Admit up to this many times the observed booking rate: not every admitted person books,
# and the service must be allowed to show it can do more.
SUSTAIN_FACTOR = 2.0
SUSTAIN_FLOOR_SHARE = 0.25  # the cap never drops below this share of the operator's rate
# A request refused as overloaded (a database pool wait ran out) in any process cuts
# admission to the floor at once (the bookings measure lags by a whole journey); from there
# it climbs back in a straight line over this many quiet seconds, so that it does not jump
# back to the full rate and overload the service again.
OVERLOAD_WINDOW_S = 10
# Auto mode: on above the threshold (guarded requests per second over AUTO_WINDOW_S), off
# again only when nobody waits and the load fell below half of it.
AUTO_WINDOW_S = 5
BURST_S = 5.0  # the bucket holds at most this many seconds of admissions
POLL_MIN_S, POLL_MAX_S = 2.0, 120.0
# The snapshot each process reads once a second holds the scores of every k-th waiting ticket
# (at most this many), so that a poll from far back can be answered without the store.
FRONT_SAMPLES = 1024
# "Far back": at least this many people certainly ahead in the snapshot, and at least this
# many seconds of admissions at the current rate. Nearer the front the store is asked, so
# admissions, expiry and exact places near the front always come from the store.
FAR_MIN_AHEAD = 100
FAR_MIN_S = 4.0
MAX_ESTIMATE_CV = 0.5  # per-second admissions vary more than this: no estimate
# A store that came back empty: the bar a process puts back is the one it saw this long ago,
# so that a person admitted just before the loss who had not yet fetched the admission
# rejoins too (they ask every POLL_MIN_S or so near the front) and is admitted again.
REJOIN_LAG_S = 10.0
# ... and an auto room it finds on stays on this long: everyone waiting has asked by then.
REJOIN_HOLD_S = POLL_MAX_S


@dataclass(frozen=True, slots=True)
class RoomConfig:
    """What the operator decides; shared by all processes through the store."""

    mode: Mode = Mode.OFF
    opens_at: float | None = None  # unix seconds; None: admits from the start
    rate: float = 50.0  # admissions per second
    ttl_s: float = 900.0  # how long an admission may be used
    threshold: float = 200.0  # auto mode: guarded requests per second

    def with_changes(self, **changes: object) -> RoomConfig:
        return replace(self, **changes)  # type: ignore[arg-type]


def score_for(joined_at: float, opens_at: float | None, draw: float) -> float:
    """The queue score of a ticket joining at `joined_at`; `draw` is uniform in [0, 1)."""
    if opens_at is not None and joined_at < opens_at:
        return opens_at - 1.0 + draw
    return joined_at


def admits(config: RoomConfig, auto_on: bool, now: float) -> bool:
    """Whether the room lets people in at `now` (it may guard without admitting yet)."""
    if config.mode is Mode.SCHEDULED:
        return config.opens_at is None or now >= config.opens_at
    return config.mode is Mode.AUTO and auto_on


def guards(config: RoomConfig, auto_on: bool) -> bool:
    """Whether verification and booking need an admission. A scheduled room guards before
    its opening too: nobody gets in ahead of the draw."""
    if config.mode is Mode.SCHEDULED:
        return True
    return config.mode is Mode.AUTO and auto_on


def auto_decision(
    on: bool, load_per_s: float, waiting: int, threshold: float, held: bool = False
) -> bool:
    """Auto mode with hysteresis, so the room does not flap at the threshold. `held`: a
    store that came back empty keeps an auto room on for a while (REJOIN_HOLD_S), because
    the people who waited rejoin only when they next ask."""
    if not on:
        return load_per_s > threshold
    return held or waiting > 0 or load_per_s > threshold / 2


def effective_rate(
    rate: float,
    bookings_in_window: int,
    admitting_for_s: float,
    overload_quiet_s: int | None = None,
) -> float:
    """The operator's rate, capped by the booking rate the service has shown it sustains, and
    cut after the service refused requests as overloaded: to the floor in the second it did,
    back up in a straight line over OVERLOAD_WINDOW_S seconds without (`overload_quiet_s`:
    whole seconds since the last such second; None: none that recent)."""
    capped = rate
    if bookings_in_window >= SUSTAIN_MIN_BOOKINGS and admitting_for_s >= SUSTAIN_WARMUP_S:
        sustained = SUSTAIN_FACTOR * bookings_in_window / WINDOW_S
        capped = min(rate, max(sustained, rate * SUSTAIN_FLOOR_SHARE))
    if overload_quiet_s is None or overload_quiet_s >= OVERLOAD_WINDOW_S:
        return capped
    back = SUSTAIN_FLOOR_SHARE + (1 - SUSTAIN_FLOOR_SHARE) * overload_quiet_s / OVERLOAD_WINDOW_S
    return min(capped, rate * back)


def quiet_seconds(counts: list[int]) -> int | None:
    """Whole seconds since the last second with a count (`counts`: one per second, oldest
    first, the current second last); None when all are 0."""
    for age, count in enumerate(reversed(counts)):
        if count > 0:
            return age
    return None


@dataclass(frozen=True, slots=True)
class Bucket:
    credit: float
    at: float  # time credit was last brought forward


def accrue(bucket: Bucket, now: float, rate: float, waiting: int) -> Bucket:
    """Credit brought forward to `now` (callers only accrue while the room admits)."""
    credit = bucket.credit + max(0.0, now - bucket.at) * rate
    credit = min(credit, max(1.0, rate * (BURST_S if waiting else 1.0)))
    return Bucket(credit, max(now, bucket.at))


def observed_rate(counts: list[int]) -> float:
    """Admissions per second over the window (`counts`: one per second, oldest first)."""
    return sum(counts) / len(counts) if counts else 0.0


def steady_rate(counts: list[int]) -> float | None:
    """The admission rate over the window (`counts`: one per second, oldest first), or None
    while it is unstable (too little history, too uneven to extrapolate, or nobody let in)."""
    if len(counts) < WINDOW_S // 2:
        return None
    mean = observed_rate(counts)
    if mean <= 0:
        return None
    spread = math.sqrt(sum((c - mean) ** 2 for c in counts) / len(counts))
    return None if spread / mean > MAX_ESTIMATE_CV else mean


def wait_at(ahead: int, steady: float | None, rate_cap: float) -> float | None:
    """Seconds until a person with `ahead` people in front is admitted at the `steady` rate
    (`steady_rate`), or None while there is none to go by."""
    if steady is None or rate_cap <= 0:
        return None
    return ahead / min(steady, rate_cap)


def poll_after(ahead: int | None, rate: float, until_open_s: float, rng: random.Random) -> float:
    """How long a waiting person's page should wait before asking again: short near the
    front, growing with the square root of the distance (a million waiting ask about
    8,000 times a second, not a million), never later than a third of the expected wait,
    and jittered by +-20 % so pages loaded together do not come back together."""
    if ahead is None:  # before the opening: come back around it, spread out
        base = min(max(until_open_s, POLL_MIN_S), 60.0)
    else:
        base = max(POLL_MIN_S, math.sqrt(ahead) / 2)
        if rate > 0:
            base = min(base, max(POLL_MIN_S, ahead / rate / 3))
        base = min(base, POLL_MAX_S)
    return round(base * rng.uniform(0.8, 1.2), 1)


def rejoin_floor(hint: float | None, opens_at: float | None, now: float) -> float:
    """The bar for a store that came back empty when no process saw it before: the highest
    admission score the database shows as used (`hint`, a lower bound of the true one), and
    never below the current opening's draws (opens_at - 1). Knowing neither: `now`, so that
    nobody from before can rejoin ahead of anyone, and only tickets drawn since join."""
    known = [x for x in (hint, None if opens_at is None else opens_at - 1.0) if x is not None]
    return max(known) if known else now


def far_ahead(rate: float) -> int:
    """How many people must certainly be ahead for a poll to be answered from the snapshot."""
    return max(FAR_MIN_AHEAD, math.ceil(rate * FAR_MIN_S))


def rank_in(front: Sequence[float], every: int, waiting: int, score: float) -> tuple[int, int]:
    """(fewest, most likely) waiting people ahead of a ticket with `score`, from a snapshot
    holding the scores at ranks 0, every, 2 * every, ... of the `waiting` people in line.
    The fewest is certain for a ticket in line; the likely one is interpolated between the
    two samples around the score (scores of one group are spread evenly: uniform draws
    before the opening, arrival times after it)."""
    j = bisect.bisect_left(front, score)  # samples with a lower score
    if j == 0:
        return 0, 0
    fewest = (j - 1) * every + 1  # the sample at rank (j - 1) * every is ahead, and all before it
    if j == len(front):
        return fewest, max(fewest, waiting - 1)
    low, high = front[j - 1], front[j]
    share = (score - low) / (high - low) if high > low else 0.5
    return fewest, max(fewest, min(waiting - 1, (j - 1) * every + round(share * every)))


def position_of(served: int, rank: int) -> int:
    """A person's number in line: everyone admitted so far, then those ahead, then them."""
    return served + rank + 1
