"""Bookings: who is booked, into which slots, under which code.

Invariants kept here (pure functions, standard library only but for the TR39 skeleton, which
comes from ICU through booking/lookalikes.py):
- The slot ids of a booking form exactly one offer: one slot per dose per person, one centre,
  one vaccine, every person's second dose inside the interval window, persons side by side.
- A booking code reads aloud unambiguously (no 0/O, no 1/I) and is drawn from a CSPRNG with
  60 bits, so guessing one is hopeless; lookups still need the birth date as well.
- Two bookings are for "the same person" when normalised names and birth date match. Names
  are compared without case, accents, spacing or punctuation, and by their confusables
  skeleton (Unicode TR39), so that `Erіka` with a Cyrillic `і` is `Erika` again. Case is folded
  before the skeleton, so case-insensitivity holds; look-alikes across case (capital `I` and
  small `l`, Greek capital `Ν` and `N`) are therefore not caught.
- A person key fits `persons.person_key` (PERSON_KEY_LENGTH): a longer one is replaced by its
  SHA-256, still equal for equal persons.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from kontingent.booking.lookalikes import skeleton
from kontingent.clock import BERLIN
from kontingent.errors import Conflict, InvalidInput
from kontingent.inventory.model import Appointment, Vaccine, is_valid_interval, local_day

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols: no 0, O, 1, I
CODE_LENGTH = 12
MAX_PERSONS = 2
PERSON_KEY_LENGTH = 300  # the column's width
# A booking code as the API takes it: three groups of four symbols of the alphabet, in either
# case, hyphens between them optional (normalise_code also allows spaces, for the portal).
CODE_PATTERN = r"^[2-9A-HJ-NP-Za-hj-np-z]{4}(?:-?[2-9A-HJ-NP-Za-hj-np-z]{4}){2}$"


@dataclass(frozen=True, slots=True)
class SlotInfo:
    id: int
    centre_id: int
    vaccine_code: str
    starts_at: datetime
    bookable_from: datetime | None

    def is_bookable(self, now: datetime, window_from: datetime, window_until: datetime) -> bool:
        """Released, still ahead and inside the booking window."""
        return self.refusal(now, window_from, window_until) is None

    def refusal(
        self, now: datetime, window_from: datetime, window_until: datetime
    ) -> tuple[str, str] | None:
        """Why this slot cannot be booked now, as (reason code, words), or None if it can."""
        if self.starts_at <= now:
            return "in_the_past", f"slot {self.id} ({_minute(self.starts_at)}) lies in the past"
        if self.bookable_from is None:
            return "not_released", f"slot {self.id} is not released yet: no contingent holds it"
        if self.bookable_from > now:
            return (
                "not_released",
                f"slot {self.id} is not released yet: its contingent opens at "
                f"{_minute(self.bookable_from)}",
            )
        if not window_from <= self.starts_at < window_until:
            return (
                "outside_booking_window",
                f"slot {self.id} ({_minute(self.starts_at)}) lies outside the booking window, "
                f"{_minute(window_from)} to {_minute(window_until)}",
            )
        return None


def _minute(at: datetime) -> str:
    return at.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True, slots=True)
class Person:
    first_name: str
    last_name: str
    birth_date: date
    postcode: str
    city: str
    street: str
    house_number: str
    phone: str
    email: str | None

    @property
    def key(self) -> str:
        return person_key(self.first_name, self.last_name, self.birth_date)


@dataclass(frozen=True, slots=True)
class BookingView:
    """A booking as the API and the portal show it (and as an idempotent replay stores it)."""

    code: str
    status: str
    centre_id: int
    vaccine: str
    persons: list[Person]
    appointments: list[Appointment]
    language: str = "de"  # its messages are written in it
    channel: str = "web"  # how it was made: web, phone (an agent for a caller)


class SlotTaken(Conflict):
    """A seat of the offer went meanwhile; `details["offers"]` carries fresh ones."""

    code = "slot_taken"


def new_code() -> str:
    # One read of the CSPRNG instead of twelve: 64 random bits, of which each symbol takes 5
    # (32 symbols), so every symbol is still uniform and independent.
    bits = int.from_bytes(secrets.token_bytes(8), "big")
    raw = "".join(CODE_ALPHABET[(bits >> (5 * i)) & 31] for i in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(text: str) -> str | None:
    """The canonical form of a code as typed or read aloud, or None if it cannot be one."""
    raw = re.sub(r"[\s\-]", "", text.upper())
    if len(raw) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def _letters(name: str) -> str:
    """Case, accents, spaces and punctuation folded away. NFKD also unfolds fullwidth and
    other compatibility forms, which may carry a case of their own (mathematical capitals)."""
    plain = unicodedata.normalize("NFKD", name).casefold()
    return "".join(ch for ch in unicodedata.normalize("NFKD", plain) if ch.isalpha())


@functools.lru_cache(maxsize=4096)
def _shape(letter: str) -> str:
    """A small letter as the Latin letter it looks like, else as its own TR39 skeleton.

    The small letter is asked first (Cyrillic і and е, Greek ο and α look like i, e, o, a), then
    its capital: many look-alikes of other scripts are capitals (Greek Ε and Τ, Cyrillic М and
    Т) whose small forms look like nothing Latin. A letter whose small form looks like one
    Latin letter and its capital like another goes by the small one: Greek ν counts as v, so a
    capital Ν is not taken for N; that miss is the price of comparing without case.
    """
    small = skeleton(letter)
    if small.isascii():
        return skeleton(small.casefold())  # Cherokee small letters' skeletons are capitals
    capital = skeleton(skeleton(letter.upper()).casefold())
    return capital if capital.isascii() else small


def _fold(name: str) -> str:
    # The skeleton may add combining marks (ł is l and a stroke): they go like accents do.
    # Its digits stay, since Cyrillic б becomes 6 and dropping it would merge other names.
    shape = unicodedata.normalize("NFD", "".join(_shape(ch) for ch in _letters(name)))
    return "".join(ch for ch in shape if not unicodedata.combining(ch)).casefold()


def person_key(first_name: str, last_name: str, birth_date: date) -> str:
    key = f"{_fold(first_name)}|{_fold(last_name)}|{birth_date.isoformat()}"
    if len(key) > PERSON_KEY_LENGTH:
        # Compatibility forms can grow a name many times over (NFKD of U+FDFA is 18 letters).
        return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def _reject(field: str, message: str, reason: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_offer", field=field, reason=reason)


def _check_shape(slots: Sequence[SlotInfo], vaccine: Vaccine, persons: int) -> None:
    want = vaccine.doses * persons
    if len(slots) != want:
        raise _reject(
            "slot_ids",
            f"an offer of {vaccine.name} for {persons} person(s) holds exactly {want} slot ids, "
            f"got {len(slots)}: send the slot ids of one offer",
            "wrong_slot_count",
        )
    if len({s.centre_id for s in slots}) != 1:
        raise _reject(
            "slot_ids", "all slots of an offer must be at the same centre", "mixed_centres"
        )
    if {s.vaccine_code for s in slots} != {vaccine.code}:
        raise _reject(
            "slot_ids", f"all slots of an offer must be for {vaccine.name}", "mixed_vaccines"
        )


def assign_appointments(
    slots: Sequence[SlotInfo], vaccine: Vaccine, persons: int
) -> list[Appointment]:
    """Check that `slots` (one entry per requested seat) form one offer and say who sits where.

    Slots are taken in time order: the earliest `persons` seats are the first doses, the next
    `persons` seats the second doses; person i gets the i-th seat of each dose.
    """
    _check_shape(slots, vaccine, persons)
    ordered = sorted(slots, key=lambda s: (s.starts_at, s.id))
    groups = [ordered[i * persons : (i + 1) * persons] for i in range(vaccine.doses)]
    for dose, group in enumerate(groups, start=1):
        # Side by side means one slot per dose for everybody, as every offer is made.
        if len({s.id for s in group}) != 1:
            raise _reject(
                "slot_ids",
                f"dose {dose} of all persons must be in the same slot, side by side",
                "not_side_by_side",
            )
    if vaccine.doses == 2:
        for person in range(persons):
            first, second = groups[0][person], groups[1][person]
            if first.starts_at == second.starts_at or not is_valid_interval(
                vaccine, first.starts_at, second.starts_at
            ):
                raise _reject(
                    "slot_ids",
                    f"the second dose of {vaccine.name} must be "
                    f"{vaccine.interval_min_days} to {vaccine.interval_max_days} days after the "
                    "first",
                    "interval_outside_window",
                )
    return [
        Appointment(slot.id, slot.starts_at, dose, person)
        for dose, group in enumerate(groups, start=1)
        for person, slot in enumerate(group)
    ]


def seats_per_slot(slot_ids: Sequence[int]) -> dict[int, int]:
    return dict(Counter(slot_ids))


@dataclass(frozen=True, slots=True)
class SecondDose:
    """A booking of second doses only (the centre's desk, issue 16): the first dose was given
    on `first_day`, here or elsewhere. `retire`: the booking id and person positions of the
    booking that held the first dose, whose persons stop being active in the new booking's
    transaction (one active booking per person). `fingerprint`: the desk's own request, what
    an Idempotency-Key is bound to (the slot is the service's choice, not the caller's)."""

    first_day: date
    fingerprint: str
    retire: tuple[int, tuple[int, ...]] | None = None


def assign_second_doses(
    slots: Sequence[SlotInfo], vaccine: Vaccine, persons: int, first_day: date
) -> list[Appointment]:
    """One dose-2 seat per person, side by side in one slot, inside the vaccine's interval
    counted from `first_day` (the day the first dose was given)."""
    if vaccine.doses != 2:
        raise _reject(
            "vaccine", f"{vaccine.name} has one dose: there is no second dose", "single_dose"
        )
    if len(slots) != persons or len({s.id for s in slots}) != 1:
        raise _reject(
            "slot_ids", "a second dose takes one slot, side by side for all", "wrong_slot_count"
        )
    slot = slots[0]
    lo, hi = vaccine.second_dose_days(first_day)
    if slot.vaccine_code != vaccine.code or not lo <= local_day(slot.starts_at).toordinal() <= hi:
        raise _reject(
            "slot_ids",
            f"the second dose of {vaccine.name} must be {vaccine.interval_min_days} to "
            f"{vaccine.interval_max_days} days after the first ({first_day.isoformat()})",
            "interval_outside_window",
        )
    return [Appointment(slot.id, slot.starts_at, 2, person) for person in range(persons)]
