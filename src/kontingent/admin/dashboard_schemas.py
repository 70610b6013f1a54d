"""Wire format of `GET /api/v1/admin/dashboard` (API.md is silent on it: named here).

Times are Europe/Berlin with their offset, as everywhere in the API.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from kontingent.admin.dashboard_model import Outbox, Snapshot
from kontingent.clock import BERLIN
from kontingent.inventory.schemas import maybe_berlin


class ChannelCounts(msgspec.Struct):
    web: int
    phone: int
    on_site: int


class MinuteOut(msgspec.Struct):
    minute: datetime
    web: int
    phone: int
    on_site: int


class FreePairsOut(msgspec.Struct):
    centre_id: int
    centre: str
    vaccine: str
    pairs: int


class QueueOut(msgspec.Struct):
    mode: str
    guarding: bool
    paused: bool
    waiting: int
    admission_rate: float
    admitted_per_s: float


class OutboxOut(msgspec.Struct):
    channel: str
    pending: int
    oldest_pending_at: datetime | None
    oldest_age_s: int | None  # how long the oldest unsent message has waited
    retrying: int  # unsent after a failed attempt
    parked: int  # given up on (failed permanently, too often, or expired)
    parked_last_hour: int

    @classmethod
    def of(cls, o: Outbox, now: datetime) -> OutboxOut:
        oldest = o.oldest_pending_at
        age = None if oldest is None else max(0, int((now - oldest).total_seconds()))
        return cls(
            o.channel, o.pending, maybe_berlin(oldest), age, o.retrying, o.parked,
            o.parked_last_hour,
        )  # fmt: skip


class ForecastOut(msgspec.Struct):
    free_pairs: int
    due_pairs: int
    bookings_per_minute: float
    gone_at: datetime | None


class ReleaseOut(msgspec.Struct):
    id: int
    at: datetime
    vaccine: str
    status: str
    seats: int


class DashboardOut(msgspec.Struct):
    at: datetime
    bookings_per_minute: list[MinuteOut]
    bookings_last_hour: ChannelCounts
    free_pairs: list[FreePairsOut]
    queue: QueueOut
    outbox: list[OutboxOut]
    forecast: ForecastOut
    releases_today: list[ReleaseOut]

    @classmethod
    def of(cls, s: Snapshot) -> DashboardOut:
        return cls(
            at=s.at.astimezone(BERLIN),
            bookings_per_minute=[MinuteOut(m.at.astimezone(BERLIN), **m.counts) for m in s.minutes],
            bookings_last_hour=ChannelCounts(**s.totals),
            free_pairs=[FreePairsOut(f.centre_id, f.centre, f.vaccine, f.pairs) for f in s.free],
            queue=QueueOut(
                s.queue.mode,
                s.queue.guarding,
                s.queue.paused,
                s.queue.waiting,
                s.queue.admission_rate,
                round(s.queue.admitted_per_s, 2),
            ),
            outbox=[OutboxOut.of(o, s.at) for o in s.outbox],
            forecast=ForecastOut(
                s.forecast.free_pairs,
                s.forecast.due_pairs,
                round(s.forecast.bookings_per_minute, 2),
                maybe_berlin(s.forecast.gone_at),
            ),
            releases_today=[
                ReleaseOut(r.id, r.at.astimezone(BERLIN), r.vaccine, r.status, r.seats)
                for r in s.releases
            ],
        )
