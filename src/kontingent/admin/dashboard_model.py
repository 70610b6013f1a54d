"""The dashboard's figures as plain values, and the arithmetic on them.

Invariants kept here:
- Pure: standard library only, no I/O; the clock's minute is given, never read.
- The minute series always holds every minute of the window, in order, with a count for each
  channel in CHANNELS (0 where nothing was booked): a chart's axis never skips a quiet minute.
- The forecast says nothing it cannot back: no bookings in the rate window, or nothing free
  and nothing due, gives no time (None), never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

CHANNELS = ("web", "phone", "on_site")
WINDOW_MINUTES = 60  # bookings per minute are shown for the last hour
RATE_MINUTES = 15  # the booking rate of the forecast: the mean of the last quarter hour
FREE_DAYS = 14  # free pairs are counted for first doses in the next two weeks


@dataclass(frozen=True, slots=True)
class Minute:
    at: datetime  # the minute's start, UTC
    counts: Mapping[str, int]  # channel -> bookings made in it


@dataclass(frozen=True, slots=True)
class FreePairs:
    centre_id: int
    centre: str
    vaccine: str
    pairs: int  # offers for one person (a pair, or one appointment of a one-dose vaccine)


@dataclass(frozen=True, slots=True)
class Outbox:
    channel: str
    pending: int
    oldest_pending_at: datetime | None
    retrying: int  # pending after a failed attempt
    parked: int  # given up on: failed permanently, too often, or expired
    parked_last_hour: int


@dataclass(frozen=True, slots=True)
class Queue:
    mode: str
    guarding: bool
    paused: bool
    waiting: int
    admission_rate: float  # per second, as set
    admitted_per_s: float  # as observed over the last 30 s


@dataclass(frozen=True, slots=True)
class Forecast:
    free_pairs: int
    due_pairs: int  # pairs of releases still due today
    bookings_per_minute: float  # over the last RATE_MINUTES
    gone_at: datetime | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    at: datetime
    minutes: list[Minute]
    free: list[FreePairs]
    queue: Queue
    outbox: list[Outbox]
    forecast: Forecast
    totals: dict[str, int] = field(default_factory=dict)  # channel -> bookings in the window
    releases: list[TodaysRelease] = field(default_factory=list)  # today's, in minute order


@dataclass(frozen=True, slots=True)
class TodaysRelease:
    """A contingent release whose minute is today: scheduled, or done by the scheduler."""

    id: int
    at: datetime
    vaccine: str
    status: str  # "scheduled" or "done"
    seats: int


def minute_of(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def minute_series(
    now: datetime, counted: Iterable[tuple[datetime, str, int]], minutes: int = WINDOW_MINUTES
) -> list[Minute]:
    """Every minute of the last `minutes` (the current one last) with its counts per channel;
    `counted` holds (minute, channel, bookings) rows, channels outside CHANNELS dropped."""
    last = minute_of(now)
    first = last - timedelta(minutes=minutes - 1)
    table = {first + timedelta(minutes=i): dict.fromkeys(CHANNELS, 0) for i in range(minutes)}
    for at, channel, n in counted:
        row = table.get(minute_of(at))
        if row is not None and channel in row:
            row[channel] += n
    return [Minute(at, counts) for at, counts in table.items()]


def totals_of(minutes: Iterable[Minute]) -> dict[str, int]:
    totals = dict.fromkeys(CHANNELS, 0)
    for minute in minutes:
        for channel, n in minute.counts.items():
            totals[channel] += n
    return totals


def booking_rate(minutes: list[Minute], window: int = RATE_MINUTES) -> float:
    """Bookings per minute over the last `window` whole minutes (the current one left out:
    it has only begun)."""
    whole = minutes[-window - 1 : -1] if len(minutes) > window else minutes[:-1]
    if not whole:
        return 0.0
    return sum(sum(m.counts.values()) for m in whole) / len(whole)


def forecast(now: datetime, free_pairs: int, due_pairs: int, rate: float) -> Forecast:
    """When the free pairs (and those released later today) are gone at the current rate."""
    supply = free_pairs + due_pairs
    gone_at = None
    if rate > 0 and supply > 0:
        gone_at = minute_of(now + timedelta(minutes=supply / rate))
    return Forecast(free_pairs, due_pairs, rate, gone_at)
