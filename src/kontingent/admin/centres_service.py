"""The admin's use cases on centres: list and show them, create one, change one; a change of
lanes, slot length or hours makes the centre's future slots follow (closed days:
centres_closures.py).

Invariants kept here:
- Everything is checked before anything is written; a refusal (422 `invalid_centre`) names
  every field to fix, with the text keys the pages translate (`details.problems`).
- A postcode must be one of the region's (the `postcodes` table): it decides the centre's
  district.
- One change is one transaction: the centre's row, its hours, the slots that follow and the
  audit row (`centre.create`, `centre.update`, with what the slots came to) commit together
  or not at all. A dry run makes the same plan from the same rows in a read transaction
  (no locks), and writes nothing.
- The slots follow from tomorrow on (today's appointments are under way); booked seats are
  never touched (centres_model.py says how).
- After a change every process reads the centres anew and drops its availability readings
  (`Inventory.catalogue_changed`, announced over Redis; without it within a second, through
  the catalogue's version raised in the change's transaction): a rare act of an admin, so
  one read more per key everywhere is the price of nobody offering a slot that went.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.admin import centres_repository as repo
from kontingent.admin.centres_model import (
    WEEKDAYS,
    Follow,
    Hours,
    Layout,
    Problem,
    SlotPlan,
    hours_problems,
    number_problems,
    plan_slots,
)
from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.errors import InvalidInput, NotFound
from kontingent.i18n import N_, Translator
from kontingent.inventory import catalogue_version
from kontingent.inventory.model import local_day
from kontingent.inventory.service import Inventory
from kontingent.staff import audit
from kontingent.staff.audit import Actor, Entry

if TYPE_CHECKING:
    from kontingent.services import Services

MAX_TEXT = {"name": 200, "street": 200, "city": 100}
# The texts of centres_model.py's problems (a pure module: it names the keys, this lists
# them for `make messages`).
PROBLEM_TEXTS = (
    N_("admin.centres.err.coordinates"),
    N_("admin.centres.err.lanes"),
    N_("admin.centres.err.missing"),
    N_("admin.centres.err.order"),
    N_("admin.centres.err.postcode"),
    N_("admin.centres.err.slot_minutes"),
    N_("admin.centres.err.text"),
    N_("admin.centres.err.time"),
    N_("admin.centres.err.too_short"),
)
NO_SLOTS = ("added", "removed", "resized", "kept_booked")


@dataclass(frozen=True, slots=True)
class By:
    """Who acts, through which channel and from where: what each audit row names."""

    actor: Actor
    channel: str
    ip: str | None

    def entry(self, action: str, centre_id: int, **details: Any) -> Entry:
        return Entry(self.actor, action, self.channel, f"centre:{centre_id}", self.ip, details)


@dataclass(frozen=True, slots=True)
class CentreFields:
    """A centre's settings as sent; None: not sent (a change leaves it as it is; a new
    centre needs all but the coordinates). `hours`: weekday -> ("HH:MM", "HH:MM")."""

    name: str | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    lat: float | None = None
    lon: float | None = None
    lanes: int | None = None
    slot_minutes: int | None = None
    hours: Mapping[int, tuple[str, str]] | None = None


@dataclass(frozen=True, slots=True)
class CentreView:
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
    hours: Mapping[int, Hours]
    closures: list[Any] = field(default_factory=list)  # closed_days rows ahead


@dataclass(frozen=True, slots=True)
class Outcome:
    """A change made (or, `dry_run`, planned): the centre after it and what the slots came to."""

    centre: CentreView
    slots: Mapping[str, int]
    dry_run: bool


def refuse(problems: Sequence[Problem]) -> InvalidInput:
    """The 422 of a form with problems, worded in English for the API; the pages translate
    `details.problems` themselves."""
    en = Translator("en")
    fields = {p.field: en(p.key, **p.params) for p in problems}
    summary = "; ".join(f"{k}: {v}" for k, v in fields.items())
    listed = [{"field": p.field, "key": p.key, "params": dict(p.params)} for p in problems]
    return InvalidInput(
        f"fix these fields: {summary}", code="invalid_centre", fields=fields, problems=listed
    )


class AdminCentres:
    def __init__(self, db: Database, clock: Clock, inventory: Inventory, lead: timedelta) -> None:
        self.db = db
        self.clock = clock
        self.inventory = inventory
        self.lead = lead  # the phone reserve's release lead: new slots within it keep none

    @classmethod
    def of(cls, services: Services) -> AdminCentres:
        lead = timedelta(hours=services.settings.phone_release_hours)
        return cls(services.db, services.clock, services.inventory, lead)

    async def list(self) -> list[CentreView]:
        async with self.db.read() as conn:
            rows = await repo.centre_rows(conn)
            hours = await repo.hours_of(conn, [r.id for r in rows])
        return [view_of(r, hours[r.id]) for r in rows]

    async def get(self, centre_id: int) -> CentreView:
        async with self.db.read() as conn:
            return await self.load(conn, centre_id, with_closures=True)

    async def load(
        self, conn: AsyncConnection, centre_id: int, *, with_closures: bool = False
    ) -> CentreView:
        rows = await repo.centre_rows(conn, centre_id)
        if not rows:
            raise NotFound(
                f"there is no centre {centre_id}: see GET /api/v1/admin/centres",
                code="unknown_centre",
            )
        hours = (await repo.hours_of(conn, [centre_id]))[centre_id]
        view = view_of(rows[0], hours)
        if with_closures:
            closures = await repo.closures_of(conn, centre_id, local_day(self.clock.now()))
            view = replace(view, closures=closures)
        return view

    async def create(self, fields: CentreFields, by: By) -> CentreView:
        missing = [
            Problem(name, "admin.centres.err.missing")
            for name in ("name", "postcode", "city", "lanes", "slot_minutes", "hours")
            if getattr(fields, name) is None
        ]
        if missing:
            raise refuse(missing)
        assert fields.slot_minutes is not None and fields.hours is not None
        hours, problems = _checked(fields, fields.slot_minutes)

        async def work(conn: AsyncConnection) -> tuple[int, int]:
            values = await _address(conn, fields, problems, new=True)
            centre_id = await repo.insert_centre(conn, values)
            await repo.replace_hours(conn, centre_id, hours)
            details = {k: v for k, v in values.items() if k not in ("lat", "lon")}
            await audit.record(
                conn, by.entry("centre.create", centre_id, **details), self.clock.now()
            )
            return centre_id, await catalogue_version.bump(conn)

        centre_id, version = await self.db.run_write(work)
        self.changed(version)
        return await self.get(centre_id)

    async def change(
        self, centre_id: int, fields: CentreFields, by: By, *, dry_run: bool = False
    ) -> Outcome:
        if fields == CentreFields():  # closed days only (centres_closures.py)
            return Outcome(await self.get(centre_id), dict.fromkeys(NO_SLOTS, 0), dry_run)
        now = self.clock.now()

        async def work(conn: AsyncConnection) -> tuple[SlotPlan, int | None]:
            before = await self.load(conn, centre_id)
            slot_minutes = (
                before.slot_minutes if fields.slot_minutes is None else fields.slot_minutes
            )
            hours, problems = _checked(fields, slot_minutes)
            values = await _address(conn, fields, problems, new=False)
            if fields.hours is None:
                hours = dict(before.hours)
            lanes = before.lanes if fields.lanes is None else fields.lanes
            layout = Layout(lanes, slot_minutes, hours)
            plan = await self.follow(
                conn, centre_id, layout_of(before), layout, now, lock=not dry_run
            )
            if dry_run:
                return plan, None
            await repo.update_centre(conn, centre_id, values)
            if fields.hours is not None:
                await repo.replace_hours(conn, centre_id, hours)
            counts = await repo.apply_plan(conn, centre_id, plan)
            changed = {**_shown(values), **({"hours": _hours_text(hours)} if fields.hours else {})}
            entry = by.entry("centre.update", centre_id, changed=changed, slots=counts)
            await audit.record(conn, entry, now)
            return plan, await catalogue_version.bump(conn)

        if dry_run:  # read only: a preview holds no lock that bookings would wait for
            async with self.db.read() as conn:
                plan, _ = await work(conn)
        else:
            plan, version = await self.db.run_write(work)
            self.changed(version)
        after = await self.get(centre_id)
        return Outcome(after, plan.counts, dry_run)

    async def follow(
        self,
        conn: AsyncConnection,
        centre_id: int,
        old: Layout,
        new: Layout,
        now: datetime,
        days: tuple[date, date] | None = None,
        *,
        lock: bool = True,
    ) -> SlotPlan:
        """The plan that makes the centre's slots from tomorrow on (or of `days` only, first
        and last) fit `new`, made from its slots locked in this transaction."""
        tomorrow = local_day(now) + timedelta(days=1)
        first, last = days or (tomorrow, date.max)
        existing = await repo.future_slots(conn, centre_id, min(first, tomorrow), lock=lock)
        follow = Follow(
            old=old,
            new=new,
            covers=await repo.covers(conn, centre_id, first),
            closed=await repo.closed_set(conn, centre_id),
            first_day=first,
            reserve_after=now + self.lead,
            last_day=last,
        )
        return plan_slots(follow, existing)

    def changed(self, version: int | None) -> None:
        """Every process reads the centres anew and drops its readings (`version`: the
        catalogue's, raised by the change; None: nothing was changed)."""
        if version is not None:
            self.inventory.catalogue_changed(version=version)


def _checked(fields: CentreFields, slot_minutes: int) -> tuple[dict[int, Hours], list[Problem]]:
    problems = number_problems(fields.lanes, fields.slot_minutes)
    hours: dict[int, Hours] = {}
    if fields.hours is not None:
        hours, wrong = hours_problems(fields.hours, slot_minutes)
        problems += wrong
    for name, limit in MAX_TEXT.items():
        value = getattr(fields, name)
        if value is not None and not 0 < len(value.strip()) <= limit:
            problems.append(Problem(name, "admin.centres.err.text", {"max": limit}))
    return hours, problems


async def _address(
    conn: AsyncConnection, fields: CentreFields, problems: list[Problem], *, new: bool
) -> dict[str, Any]:
    """The centre's columns to write: the district from the postcode, the coordinates given
    or, for a new centre, those of a centre of its district. Raises with every problem."""
    values: dict[str, Any] = {
        k: v.strip() if isinstance(v, str) else v
        for k in ("name", "street", "postcode", "city", "lat", "lon", "lanes", "slot_minutes")
        if (v := getattr(fields, k)) is not None
    }
    if fields.postcode is not None:
        found = await repo.districts_of(conn, fields.postcode.strip())
        if not found:
            problems.append(Problem("postcode", "admin.centres.err.postcode",
                                    {"postcode": fields.postcode[:10]}))  # fmt: skip
        else:
            values["district_id"] = _district(found, fields.city)
    if new and "district_id" in values and (fields.lat is None or fields.lon is None):
        near = await repo.coordinates_in(conn, values["district_id"])
        if near is None:
            problems.append(Problem("lat", "admin.centres.err.coordinates"))
        else:
            values["lat"], values["lon"] = near
    if problems:
        raise refuse(problems)
    return values


def _district(found: Sequence[tuple[int, str]], city: str | None) -> int:
    """The district of a postcode; where it spans several, the one naming the city."""
    for district_id, places in found:
        if city and city.strip().lower() in places.lower():
            return district_id
    return found[0][0]


def _shown(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in ("lat", "lon")}


def _hours_text(hours: Mapping[int, Hours]) -> dict[str, str]:
    return {WEEKDAYS[d]: f"{h.opens:%H:%M}-{h.closes:%H:%M}" for d, h in sorted(hours.items())}


def view_of(row: Any, hours: Mapping[int, Hours]) -> CentreView:
    return CentreView(
        row.id, row.name, row.district, row.street, row.postcode, row.city, row.lat, row.lon,
        row.lanes, row.slot_minutes, dict(hours),
    )  # fmt: skip


def layout_of(view: CentreView) -> Layout:
    return Layout(view.lanes, view.slot_minutes, view.hours)
