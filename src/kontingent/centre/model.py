"""A centre's day as the console sees it: the people due, the counters, what a lane may record,
and the day list as CSV. Pure functions, no I/O.

Invariants kept here:
- An appointment moves forward only: `booked` → `checked_in` → `vaccinated`, or `booked` →
  `no_show`; `vaccinated` and `no_show` are final, and `cancelled` is never recorded here
  except for a second dose a no-show lets go (service.py). `vaccinate` and `no_show` say
  why a move is refused (409), so nothing half-recorded ever happens.
- A vaccination is recorded on the appointment's own day only (Berlin): a lane cannot book
  a dose into yesterday's or tomorrow's list by a slip of the date.
- A no-show is recorded only once the appointment's start has passed: someone still on the
  way is never marked as missing, and "everyone not checked in" at the day's end takes only
  appointments that began.
- A batch number (Chargennummer) is 3 to 20 letters, digits or `-`, stored in capitals: what
  the vial's label shows; anything else is refused saying so.
- The counters add up: expected = checked in + vaccinated + no-show + still to come, where
  "checked in" counts those waiting for their dose (not yet vaccinated).
- The CSV opens in German Excel with a double click: UTF-8 with a byte order mark, `;`
  between fields, CRLF line ends, dates as DD.MM.YYYY and times as HH:MM; no name cell
  starts like a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from kontingent.clock import BERLIN
from kontingent.errors import Conflict, InvalidInput
from kontingent.inventory.model import local_day

STATUSES = ("booked", "checked_in", "vaccinated", "no_show")
_BATCH = re.compile(r"[A-Z0-9-]{3,20}")
BATCH_MAX = 20
CSV_FIELDS = (
    "start", "dose", "code", "last_name", "first_name", "birth_date", "vaccine", "status",
    "batch",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Visit:
    """One person's appointment on a centre's day."""

    appointment_id: int
    booking_id: int
    centre_id: int
    starts_at: datetime
    dose: int
    code: str
    first_name: str
    last_name: str
    birth_date: date | None  # None once purged (retention/)
    vaccine: str  # code
    status: str  # one of STATUSES, or "cancelled"
    batch: str | None = None

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(BERLIN)


@dataclass(frozen=True, slots=True)
class Counters:
    expected: int
    checked_in: int  # waiting for their dose
    vaccinated: int
    no_show: int
    to_come: int


def normalise_batch(text: str) -> str:
    """The batch number as stored, or InvalidInput saying what a batch number looks like."""
    batch = text.strip().upper()
    if not _BATCH.fullmatch(batch):
        raise InvalidInput(
            "a batch number (Chargennummer) has 3 to 20 letters, digits or '-', as on "
            "the vial's label, like EX1234-A",
            code="invalid_batch",
            field="batch",
        )
    return batch


def vaccinate(visit: Visit, today: date) -> None:
    """Nothing, or Conflict saying why this visit cannot be recorded as vaccinated today."""
    if visit.status in ("vaccinated", "no_show", "cancelled"):
        raise Conflict(
            f"this appointment is already {visit.status.replace('_', '-')}: nothing changed",
            code=f"already_{visit.status}",
        )
    if local_day(visit.starts_at) != today:
        raise Conflict(
            f"this appointment is on {local_day(visit.starts_at).isoformat()}, not today: "
            "a vaccination is recorded on its day",
            code="wrong_day",
        )


def no_show(visit: Visit, now: datetime) -> None:
    """Nothing, or Conflict saying why this visit cannot be marked as a no-show now."""
    if visit.status != "booked":
        raise Conflict(
            f"this appointment is {visit.status.replace('_', ' ')}: only a booked one that "
            "nobody checked in can be marked as a no-show",
            code="not_booked",
        )
    if visit.starts_at > now:
        raise Conflict(
            "this appointment has not begun yet: mark it as a no-show after its start",
            code="not_yet_due",
        )


def missed(visits: Iterable[Visit], now: datetime) -> list[Visit]:
    """The visits "everyone not checked in" takes at `now`: booked, and begun."""
    return [v for v in visits if v.status == "booked" and v.starts_at <= now]


def counters(visits: Sequence[Visit]) -> Counters:
    held = [v for v in visits if v.status != "cancelled"]

    def n(status: str) -> int:
        return sum(1 for v in held if v.status == status)

    return Counters(
        len(held), n("checked_in"), n("vaccinated"), n("no_show"), n("booked")
    )  # fmt: skip


def by_hour(visits: Sequence[Visit]) -> list[tuple[int, list[Visit]]]:
    """The visits grouped by the local hour they begin, in order."""
    hours: dict[int, list[Visit]] = {}
    for visit in sorted(visits, key=lambda v: (v.starts_at, v.last_name, v.appointment_id)):
        hours.setdefault(visit.local_start.hour, []).append(visit)
    return sorted(hours.items())


def matches(visit: Visit, query: str) -> bool:
    """A search of the day view: part of the booking code or of a name, any case."""
    wanted = query.strip().casefold().replace("-", "")
    if not wanted:
        return True
    haystack = (visit.code.replace("-", ""), f"{visit.first_name} {visit.last_name}")
    return any(wanted in text.casefold() for text in haystack)


def csv_text(visits: Sequence[Visit], header: Sequence[str]) -> str:
    """The day list as German Excel reads it (BOM, `;`, CRLF); `header`: the column names in
    the reader's language, in the order of CSV_FIELDS."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for v in visits:
        born = v.birth_date.strftime("%d.%m.%Y") if v.birth_date else ""
        start = v.local_start.strftime("%d.%m.%Y %H:%M")
        names = [_cell(v.last_name), _cell(v.first_name)]
        writer.writerow([start, v.dose, v.code, *names, born, v.vaccine, v.status, v.batch or ""])
    return out.getvalue()


def _cell(text: str) -> str:
    """A typed text as a cell Excel shows as text: one starting like a formula gets a `'`
    (a name is checked at booking, but a day list must not run what anyone typed)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
