"""Contingent releases: what an operator asks for, and the slots it makes at each centre.

Invariants kept here (pure functions, standard library and the inventory's pure model only):
- A release is one vaccine on whole local days (Europe/Berlin) `first_day`..`last_day`, at
  most MAX_DAYS days and MAX_SLOTS slots; days before today or outside the campaign's
  booking window are refused, and so is a release minute earlier than the current minute
  or after anything it makes could still be booked. Each refusal names the field to fix.
- A centre's slots of a day start at its opening time, `slot_minutes` apart, each ending by
  its closing time (`slot_starts`, as the demo seed makes them); a weekday without opening
  hours and a closed day (a public holiday nobody opened, or a day an admin closed;
  inventory/closures.py) get none.
- Every slot seats `slot_capacity(lanes, slot_minutes)`; the phone share is spread over the
  centre's slots in start order by `phone_reserve`, as for every other contingent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from kontingent.clock import BERLIN
from kontingent.errors import InvalidInput
from kontingent.inventory.model import day_bounds, phone_reserve, slot_capacity, slot_starts

MAX_DAYS = 92  # a quarter of a year per release: deliveries were promised week by week
MAX_SLOTS = 100_000  # all 27 demo centres for 92 days are 90,000 slots


class Status:
    scheduled = "scheduled"
    done = "done"
    cancelled = "cancelled"


@dataclass(frozen=True, slots=True)
class ReleaseWish:
    """What an operator asks for. `centre_ids` None: every centre; `at` None: now;
    `lanes` None: each centre's lanes; `phone_share_percent` None: the configured share."""

    vaccine: str
    centre_ids: tuple[int, ...] | None
    first_day: date
    last_day: date
    at: datetime | None = None
    lanes: int | None = None
    phone_share_percent: int | None = None

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


@dataclass(frozen=True, slots=True)
class CentreHours:
    """What a centre's slots are made from: lanes, slot length, hours per weekday (0 Monday)."""

    id: int
    name: str
    lanes: int
    slot_minutes: int
    hours: Mapping[int, tuple[time, time]]


@dataclass(frozen=True, slots=True)
class CentrePlan:
    """The slots a release makes at one centre, in start order, with their phone reserve."""

    centre_id: int
    name: str
    starts: tuple[datetime, ...]
    capacity: int
    reserved: tuple[int, ...]

    @property
    def slots(self) -> int:
        return len(self.starts)

    @property
    def seats(self) -> int:
        return self.capacity * len(self.starts)

    @property
    def phone_seats(self) -> int:
        return sum(self.reserved)


@dataclass(frozen=True, slots=True)
class Window:
    """The campaign's booking window and today's local day, as the checks need them."""

    booking_from: datetime
    booking_until: datetime
    now: datetime


def check_wish(wish: ReleaseWish, window: Window) -> datetime:
    """Refuse a wish whose days or minute cannot be released; the release minute."""
    if wish.first_day > wish.last_day:
        raise _refused("last_day", "days_order", "the last day is before the first day: swap them")
    if wish.days > MAX_DAYS:
        raise _refused(
            "last_day", "too_many_days",
            f"a release covers at most {MAX_DAYS} days, not {wish.days}: split it",
            max=MAX_DAYS,
        )  # fmt: skip
    today = window.now.astimezone(BERLIN).date()
    if wish.first_day < today:
        raise _refused(
            "first_day", "day_past", f"the first day {wish.first_day} is past: start at {today}",
            today=today.isoformat(),
        )  # fmt: skip
    first, last = _window_days(window)
    if wish.first_day < first or wish.last_day > last:
        raise _refused(
            "last_day" if wish.last_day > last else "first_day", "outside_window",
            f"the days must lie in the campaign's booking window, {first} to {last}",
            first=first.isoformat(), last=last.isoformat(),
        )  # fmt: skip
    return _check_minute(wish, window)


def _check_minute(wish: ReleaseWish, window: Window) -> datetime:
    at = wish.at or window.now
    if at.tzinfo is None:
        raise _refused(
            "at", "minute_offset",
            "give the release minute with its offset, like 2026-01-12T08:00+01:00",
        )  # fmt: skip
    if at < window.now.replace(second=0, microsecond=0):
        raise _refused(
            "at", "minute_past", "the release minute is past: give a later one, or none for now"
        )
    end = min(day_bounds(wish.last_day, wish.last_day)[1], window.booking_until)
    if at >= end:
        raise _refused(
            "at", "minute_late", "the release minute is after the last day could be booked"
        )
    return at


def _window_days(window: Window) -> tuple[date, date]:
    first = window.booking_from.astimezone(BERLIN).date()
    last = (window.booking_until - timedelta(microseconds=1)).astimezone(BERLIN).date()
    return first, last


def _refused(field: str, reason: str, message: str, **values: object) -> InvalidInput:
    """A refusal naming the field to fix and the rule (`reason`, for the page's words)."""
    return InvalidInput(message, code="invalid_release", field=field, reason=reason, **values)


def plan_centre(
    centre: CentreHours,
    wish: ReleaseWish,
    closed: Callable[[date], bool],
    percent: int,
) -> CentrePlan:
    """The slots of one centre on the wish's open days, with their share for the phone."""
    starts: list[datetime] = []
    for offset in range(wish.days):
        day = wish.first_day + timedelta(days=offset)
        hours = centre.hours.get(day.weekday())
        if hours is None or closed(day):
            continue
        starts.extend(slot_starts(day, hours[0], hours[1], centre.slot_minutes))
    lanes = centre.lanes if wish.lanes is None else min(wish.lanes, centre.lanes)
    capacity = slot_capacity(lanes, centre.slot_minutes)
    reserved = phone_reserve((capacity for _ in starts), percent)
    return CentrePlan(centre.id, centre.name, tuple(starts), capacity, tuple(reserved))


def check_size(plans: Sequence[CentrePlan]) -> None:
    total = sum(p.slots for p in plans)
    if total == 0:
        raise InvalidInput(
            "no centre chosen is open on those days: choose other days or centres",
            code="nothing_to_release",
            field="first_day",
        )
    if total > MAX_SLOTS:
        raise InvalidInput(
            f"this release would make {total} slots, more than {MAX_SLOTS}: "
            "release fewer days or centres at a time",
            code="release_too_large",
            field="last_day",
            total=total,
            max=MAX_SLOTS,
        )
