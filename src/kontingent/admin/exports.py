"""CSV exports for admins: the appointments of a centre and day, and the statistics.

Invariants kept here:
- Every export is audited (`bookings_exported`, `stats_exported`) in a transaction of its
  own, committed before the first byte leaves: personal data never leaves unrecorded, even
  when the download is broken off.
- The files open in a German Excel as they are: UTF-8 with a byte-order mark, `;` between
  fields, one header line. A cell that a spreadsheet would run as a formula (starting with
  =, @, a tab, or + and - followed by more than a number) gets a leading apostrophe.
- The bookings list is streamed page by page (exports_repository.py): memory stays the size
  of one page, whatever the campaign's size.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.admin import exports_repository as repo
from kontingent.admin.stats_model import Figures
from kontingent.clock import BERLIN, Clock
from kontingent.db import Database
from kontingent.errors import NotFound
from kontingent.staff import audit
from kontingent.staff.audit import Actor, Entry
from kontingent.staff.model import Principal

BOM = "\ufeff"
BOOKING_HEADER = (
    "starts_at", "centre", "code", "booking_status", "channel", "vaccine", "dose",
    "appointment_status", "first_name", "last_name", "birth_date", "postcode", "city",
    "street", "house_number", "phone", "email", "booked_at",
)  # fmt: skip
STATS_HEADER = ("section", "item", "figure", "value")


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M")
    text = str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (
        text[:1] in ("+", "-") and not text[1:].replace(" ", "").isdigit()
    ):
        return "'" + text
    return text


def lines(rows: Iterable[Sequence[object]], first: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows([cell(v) for v in row] for row in rows)
    return (BOM if first else "") + out.getvalue()


def _booking_row(r: Any) -> tuple[object, ...]:
    return (
        r.starts_at, r.centre, r.code, r.status, r.channel, r.vaccine_code, r.dose,
        r.appointment_status, r.first_name, r.last_name, r.birth_date, r.postcode, r.city,
        r.street, r.house_number, r.phone, r.email, r.created_at,
    )  # fmt: skip


def stats_rows(f: Figures) -> list[tuple[object, ...]]:
    """The statistics as one long table: (section, item, figure, value)."""
    rows: list[tuple[object, ...]] = [
        ("total", "", name, getattr(f, name))
        for name in ("bookings", "persons", "appointments_booked", "first_doses",
                     "second_doses", "appointments_free")
    ]  # fmt: skip
    rows += [("channel", k, "bookings", n) for k, n in f.by_channel.items()]
    rows += [("vaccine", k, "appointments_booked", n) for k, n in f.by_vaccine.items()]
    for c in f.by_centre:
        rows += [
            ("centre", c.name, "bookings", c.bookings),
            ("centre", c.name, "appointments_booked", c.appointments_booked),
            ("centre", c.name, "appointments_free", c.appointments_free),
        ]
    for h in f.cohorts:
        share = "" if h.share is None else f"{h.share:.4f}".replace(".", ",")
        rows += [
            ("cohort", h.name, "persons", h.persons),
            ("cohort", h.name, "population", h.population),
            ("cohort", h.name, "share", share or (h.note or "")),
        ]
    return rows


class Exports:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock

    async def _record(self, entry: Entry) -> None:
        async def work(conn: AsyncConnection) -> None:
            await audit.record(conn, entry, self.clock.now())

        await self.db.run_write(work)

    async def bookings(
        self, who: Principal, channel: str, ip: str | None, centre_id: int | None,
        day: date | None,
    ) -> AsyncIterator[str]:  # fmt: skip
        """Audit the export, then give the CSV's chunks (the audit is done before the first)."""
        if centre_id is not None:
            async with self.db.read() as conn:
                if not await repo.centre_exists(conn, centre_id):
                    raise NotFound(
                        f"there is no centre {centre_id}: see GET /api/v1/centres",
                        code="unknown_centre",
                    )
        details = {"centre_id": centre_id, "date": None if day is None else day.isoformat()}
        target = f"centre {centre_id or 'all'} day {day or 'all'}"
        await self._record(Entry(Actor.of(who), "bookings_exported", channel, target, ip, details))
        return self._booking_chunks(centre_id, day)

    async def _booking_chunks(self, centre_id: int | None, day: date | None) -> AsyncIterator[str]:
        yield lines([BOOKING_HEADER], first=True)
        after = None
        while True:
            async with self.db.read() as conn:
                page = await repo.appointments_page(conn, centre_id, day, after)
            if not page:
                return
            yield lines(_booking_row(r) for r in page)
            after = (page[-1].starts_at, page[-1].id)

    async def statistics(
        self, who: Principal, channel: str, ip: str | None, figures: Figures
    ) -> str:
        await self._record(Entry(Actor.of(who), "stats_exported", channel, "statistics", ip))
        return lines([STATS_HEADER], first=True) + lines(stats_rows(figures))
