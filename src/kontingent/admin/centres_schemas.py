"""Wire formats of the admin's centres (`/api/v1/admin/centres`, names as API.md says).

Invariants kept here:
- Types and sizes only: what a value must mean (a known postcode, opening before closing,
  lanes and slot length in range) is checked by the use case, which names the field and
  says what to send (centres_model.py), for the API and the pages alike.
- Hours are the whole week: a weekday left out of `hours` is closed.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from kontingent.admin.centres_closures import Closed
from kontingent.admin.centres_model import MAX_REASON, WEEKDAYS
from kontingent.admin.centres_service import CentreFields, CentreView, Outcome

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Clock = Annotated[str, msgspec.Meta(max_length=5, examples=["08:00"], description="HH:MM")]
Text = Annotated[str, msgspec.Meta(max_length=200)]
SmallInt = Annotated[int, msgspec.Meta(ge=-1000, le=1000)]
Lat = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Lon = Annotated[float, msgspec.Meta(ge=-180, le=180)]


class HoursIn(msgspec.Struct, forbid_unknown_fields=True):
    weekday: Weekday
    opens: Clock
    closes: Clock


Week = Annotated[list[HoursIn], msgspec.Meta(max_length=7)]


class ClosureIn(msgspec.Struct, forbid_unknown_fields=True):
    day: date
    reason: Annotated[str, msgspec.Meta(max_length=MAX_REASON)] = ""


class ClosuresIn(msgspec.Struct, forbid_unknown_fields=True):
    add: Annotated[list[ClosureIn], msgspec.Meta(max_length=31)] = []
    remove: Annotated[list[date], msgspec.Meta(max_length=31)] = []


class CentreIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Text
    postcode: Annotated[str, msgspec.Meta(max_length=10, examples=["33602"])]
    city: Text
    lanes: SmallInt
    slot_minutes: SmallInt
    hours: Week
    street: Text = ""
    lat: Lat | None = None
    lon: Lon | None = None

    def fields(self) -> CentreFields:
        return CentreFields(
            self.name, self.street, self.postcode, self.city, self.lat, self.lon, self.lanes,
            self.slot_minutes, week_of(self.hours),
        )  # fmt: skip


class CentrePatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Text | None = None
    street: Text | None = None
    postcode: Annotated[str, msgspec.Meta(max_length=10)] | None = None
    city: Text | None = None
    lat: Lat | None = None
    lon: Lon | None = None
    lanes: SmallInt | None = None
    slot_minutes: SmallInt | None = None
    hours: Week | None = None
    closures: ClosuresIn | None = None
    # Close days that have bookings, cancelling them (each person is told): the confirmation.
    cancel_bookings: bool = False
    # Say what the change would do (slots added, removed, kept; bookings of days to close)
    # and write nothing.
    dry_run: bool = False

    def fields(self) -> CentreFields:
        return CentreFields(
            self.name, self.street, self.postcode, self.city, self.lat, self.lon, self.lanes,
            self.slot_minutes, None if self.hours is None else week_of(self.hours),
        )  # fmt: skip


def week_of(hours: list[HoursIn]) -> dict[int, tuple[str, str]]:
    return {WEEKDAYS.index(h.weekday): (h.opens, h.closes) for h in hours}


class HoursOut(msgspec.Struct):
    weekday: str
    opens: str
    closes: str


class ClosureOut(msgspec.Struct):
    day: date
    reason: str
    created_by: str


class CentreOut(msgspec.Struct):
    id: int
    name: str
    district: str
    street: str
    postcode: str
    city: str
    lat: float
    lon: float
    lanes: int
    slot_minutes: int
    hours: list[HoursOut]
    closures: list[ClosureOut]

    @classmethod
    def of(cls, v: CentreView) -> CentreOut:
        hours = [
            HoursOut(WEEKDAYS[d], f"{h.opens:%H:%M}", f"{h.closes:%H:%M}")
            for d, h in sorted(v.hours.items())
        ]
        closures = [ClosureOut(c.day, c.reason, c.created_by) for c in v.closures]
        return cls(
            v.id, v.name, v.district, v.street, v.postcode, v.city, v.lat, v.lon, v.lanes,
            v.slot_minutes, hours, closures,
        )  # fmt: skip


class SlotCounts(msgspec.Struct):
    added: int
    removed: int
    resized: int
    kept_booked: int  # booked slots kept although they no longer fit (closed to new bookings)


class ClosedOut(msgspec.Struct):
    day: date
    cancelled: list[str]  # the codes of the bookings cancelled


class CentreChangeOut(msgspec.Struct):
    centre: CentreOut
    dry_run: bool
    slots: SlotCounts
    closures_added: list[ClosedOut]
    closures_removed: list[date]
    # On a dry run: the codes of the bookings on each day to close (ISO day -> codes).
    closure_bookings: dict[str, list[str]]

    @classmethod
    def of(
        cls,
        outcome: Outcome,
        closed: list[Closed],
        opened: list[date],
        pending: dict[str, list[str]],
    ) -> CentreChangeOut:
        return cls(
            CentreOut.of(outcome.centre), outcome.dry_run, SlotCounts(**outcome.slots),
            [ClosedOut(c.day, c.cancelled) for c in closed], opened, pending,
        )  # fmt: skip
