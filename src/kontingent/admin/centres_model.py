"""Centres as an admin changes them: the checks of a centre's settings, and the plan that
makes a centre's future slots follow its lanes, slot length and opening hours.

Invariants kept here (pure functions, standard library only):
- A problem names its field and a text key (`admin.centres.err.*`) with its values, so the
  API and the pages say the same thing, each in its language.
- The plan never touches a booked seat: a slot with bookings is kept on its start even when
  it no longer fits the hours (its capacity lowered to what is booked, so nobody else books
  it), and a resized slot keeps at least its bookings. Only unbooked slots are removed.
- Capacities scale with lanes x slot length: a vaccine's slots get its current capacity
  times the new lanes and minutes over the old ones (at least one seat).
- The seats kept for the phone channel stay seats nobody holds (`booked + phone_reserved
  <= capacity`): the slots a plan adds or resizes get their contingent's share anew
  (`phone_reserve`), capped at their free seats, none within the release lead.
- Days come from what is planned already: days that have slots of a vaccine, and days a
  contingent of the centre and vaccine covers; a closed day (`closed`) plans no slot.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime, time, timedelta
from typing import Any

from kontingent.inventory.model import phone_reserve, slot_starts

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_LANES = 60
SLOT_MINUTES = (5, 240)  # the shortest and the longest slot
MAX_REASON = 200
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


@dataclass(frozen=True, slots=True)
class Hours:
    opens: time
    closes: time


@dataclass(frozen=True, slots=True)
class Layout:
    """What decides a centre's slots: lanes, slot length and the hours of each weekday it
    opens (0 = Monday; a weekday not in `hours` is closed)."""

    lanes: int
    slot_minutes: int
    hours: Mapping[int, Hours]

    def starts(self, day: date) -> list[datetime]:
        hours = self.hours.get(day.weekday())
        if hours is None:
            return []
        return slot_starts(day, hours.opens, hours.closes, self.slot_minutes)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing to fix: the field, the text key saying what, and its values."""

    field: str
    key: str
    params: Mapping[str, Any] = dataclass_field(default_factory=dict)


def parse_time(text: str) -> time | None:
    found = _TIME.fullmatch(text.strip())
    return time(int(found.group(1)), int(found.group(2))) if found else None


def weekday_of(name: str) -> int | None:
    return WEEKDAYS.index(name) if name in WEEKDAYS else None


def number_problems(lanes: int | None, slot_minutes: int | None) -> list[Problem]:
    problems = []
    if lanes is not None and not 1 <= lanes <= MAX_LANES:
        problems.append(Problem("lanes", "admin.centres.err.lanes", {"max": MAX_LANES}))
    lo, hi = SLOT_MINUTES
    if slot_minutes is not None and not lo <= slot_minutes <= hi:
        problems.append(
            Problem("slot_minutes", "admin.centres.err.slot_minutes", {"min": lo, "max": hi})
        )
    return problems


def hours_problems(
    texts: Mapping[int, tuple[str, str]], slot_minutes: int
) -> tuple[dict[int, Hours], list[Problem]]:
    """The hours of each weekday given as ("HH:MM", "HH:MM"), checked: both times readable,
    opening before closing, and room for at least one slot."""
    hours, problems = {}, []
    for day, (opens_text, closes_text) in sorted(texts.items()):
        name = WEEKDAYS[day]
        opens, closes = parse_time(opens_text), parse_time(closes_text)
        for which, value, text in (("opens", opens, opens_text), ("closes", closes, closes_text)):
            if value is None:
                problems.append(Problem(f"hours.{name}.{which}", "admin.centres.err.time",
                                        {"value": text[:10]}))  # fmt: skip
        if opens is None or closes is None:
            continue
        if opens >= closes:
            problems.append(Problem(f"hours.{name}", "admin.centres.err.order", {"day": name}))
        elif _minutes(closes) - _minutes(opens) < slot_minutes:
            problems.append(Problem(f"hours.{name}", "admin.centres.err.too_short",
                                    {"day": name, "minutes": slot_minutes}))  # fmt: skip
        else:
            hours[day] = Hours(opens, closes)
    return hours, problems


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


@dataclass(frozen=True, slots=True)
class SlotRow:
    """A future slot of the centre as on file."""

    id: int
    vaccine_code: str
    starts_at: datetime
    capacity: int
    booked: int
    phone_reserved: int
    contingent_id: int | None
    bookable_from: datetime | None
    day: date  # the local day of `starts_at`, as `slots.day` holds it


@dataclass(frozen=True, slots=True)
class Cover:
    """A contingent of the centre: its vaccine, days, release minute and phone share."""

    id: int
    vaccine_code: str
    first_day: date
    last_day: date
    release_at: datetime
    percent: int


@dataclass(frozen=True, slots=True)
class NewSlot:
    vaccine_code: str
    starts_at: datetime
    capacity: int
    contingent_id: int | None
    bookable_from: datetime | None
    phone_reserved: int = 0


@dataclass(frozen=True, slots=True)
class Resize:
    id: int
    capacity: int
    phone_reserved: int


@dataclass(frozen=True, slots=True)
class SlotPlan:
    """What following a change does: slots added, unbooked slots removed, slots resized,
    and booked slots kept although they no longer fit (closed to new bookings)."""

    added: list[NewSlot]
    removed: list[int]
    resized: list[Resize]
    kept: list[int]

    @property
    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "removed": len(self.removed),
            "resized": len(self.resized),
            "kept_booked": len(self.kept),
        }


@dataclass(frozen=True, slots=True)
class Follow:
    """The inputs of a plan besides the slots: the layouts before and after, the centre's
    contingents, its closed days, the first day the change applies to and where the phone
    reserve is released (no reserve for slots starting before `reserve_after`)."""

    old: Layout
    new: Layout
    covers: Sequence[Cover]
    closed: frozenset[date]
    first_day: date
    reserve_after: datetime
    last_day: date = date.max  # a closed day's plan covers that day alone


def plan_slots(follow: Follow, existing: Sequence[SlotRow]) -> SlotPlan:
    """The slots to add, remove, resize and keep so that the centre's slots from
    `follow.first_day` on fit `follow.new`. Linear in the slots given: a centre holds
    thousands of future slots, and an admin waits for the answer."""
    by_day: dict[tuple[str, date], list[SlotRow]] = {}
    for s in existing:
        if follow.first_day <= s.day <= follow.last_day:
            by_day.setdefault((s.vaccine_code, s.day), []).append(s)
    added: list[NewSlot] = []
    removed: list[int] = []
    resized: list[tuple[SlotRow, int]] = []
    kept: list[int] = []
    vaccines = {v for v, _ in by_day} | {c.vaccine_code for c in follow.covers}
    for vaccine in sorted(vaccines):
        # Scaled from every slot given, not only the days planned: a closed day's slots hold
        # no seats, and reopening it must give them back.
        capacity = _capacity([s for s in existing if s.vaccine_code == vaccine], follow)
        if capacity is None:
            continue  # nothing of this vaccine to scale from
        for day in _days({d for v, d in by_day if v == vaccine}, follow, vaccine):
            on_day = by_day.get((vaccine, day), [])
            wanted = set() if day in follow.closed else set(follow.new.starts(day))
            have = {s.starts_at for s in on_day}
            cover = _cover(follow.covers, vaccine, day, on_day)
            added += [NewSlot(vaccine, at, capacity, *cover) for at in sorted(wanted - have)]
            for slot in on_day:
                if slot.starts_at not in wanted:
                    (kept if slot.booked else removed).append(slot.id)
                elif slot.capacity != capacity:
                    resized.append((slot, capacity))
    return _with_reserves(follow, added, removed, resized, kept)


def _capacity(rows: Sequence[SlotRow], follow: Follow) -> int | None:
    if not rows:
        return None
    old, new = follow.old, follow.new
    reference = max(s.capacity for s in rows)
    scaled = reference * new.lanes * new.slot_minutes // (old.lanes * old.slot_minutes)
    return max(1, scaled)


def _days(days: set[date], follow: Follow, vaccine: str) -> list[date]:
    for cover in follow.covers:
        if cover.vaccine_code != vaccine:
            continue
        day = max(cover.first_day, follow.first_day)
        while day <= min(cover.last_day, follow.last_day):
            days.add(day)
            day += timedelta(days=1)
    return sorted(days)


def _cover(
    covers: Sequence[Cover], vaccine: str, day: date, on_day: Sequence[SlotRow]
) -> tuple[int | None, datetime | None]:
    """The contingent a new slot of the day joins: the one its other slots are in, else the
    newest that covers the day, else none (not released, as seeded slots before a release)."""
    for slot in on_day:
        if slot.contingent_id is not None:
            return slot.contingent_id, slot.bookable_from
    found = [c for c in covers if c.vaccine_code == vaccine and c.first_day <= day <= c.last_day]
    if found:
        newest = max(found, key=lambda c: c.id)
        return newest.id, newest.release_at
    return None, None


@dataclass(frozen=True, slots=True)
class Seats:
    """A slot the plan adds or resizes, as the phone share sees it."""

    starts_at: datetime
    contingent_id: int | None
    capacity: int
    booked: int


def _with_reserves(
    follow: Follow,
    added: list[NewSlot],
    removed: list[int],
    resized: list[tuple[SlotRow, int]],
    kept: list[int],
) -> SlotPlan:
    """Each contingent's share spread over the slots the plan adds or resizes (start order),
    as when a contingent is recorded, capped at the seats each has free."""
    percent = {c.id: c.percent for c in follow.covers}
    seats = [Seats(n.starts_at, n.contingent_id, n.capacity, 0) for n in added] + [
        Seats(s.starts_at, s.contingent_id, max(c, s.booked), s.booked) for s, c in resized
    ]
    reserves = reserves_of(seats, percent, follow.reserve_after)
    new_added = [
        NewSlot(n.vaccine_code, n.starts_at, n.capacity, n.contingent_id, n.bookable_from, r)
        for n, r in zip(added, reserves[: len(added)], strict=True)
    ]
    new_resized = [
        Resize(s.id, seat.capacity, r)
        for (s, _), seat, r in zip(
            resized, seats[len(added) :], reserves[len(added) :], strict=True
        )
    ]
    return SlotPlan(new_added, removed, new_resized, kept)


def reserves_of(seats: Sequence[Seats], percent: Mapping[int, int], after: datetime) -> list[int]:
    """The phone reserve of each of `seats` (in their order): its contingent's share spread
    in start order (`phone_reserve`), capped at its free seats; none before `after`."""
    found = [0] * len(seats)
    groups: dict[int, list[int]] = {}
    for i, seat in enumerate(seats):
        share = percent.get(seat.contingent_id) if seat.contingent_id is not None else None
        if share and seat.starts_at > after:
            groups.setdefault(seat.contingent_id, []).append(i)  # type: ignore[arg-type]
    for contingent, members in groups.items():
        members.sort(key=lambda i: seats[i].starts_at)
        shares = phone_reserve((seats[i].capacity for i in members), percent[contingent])
        for i, share in zip(members, shares, strict=True):
            found[i] = min(share, seats[i].capacity - seats[i].booked)
    return found
