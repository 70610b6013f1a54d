"""HTTP: reference data, offers, the public availability feed and single slots."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from litestar import Request, Response, Router, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, HeaderParameter, QueryParameter

from kontingent.clock import BERLIN
from kontingent.inventory.schemas import (
    AlternativeOut,
    AvailabilityOut,
    CentreOut,
    DayOut,
    DaysOut,
    OfferOut,
    OffersOut,
    SlotOut,
    VaccineOut,
    maybe_berlin,
)
from kontingent.inventory.service import Inventory, OffersView
from kontingent.inventory.week import read_week
from kontingent.services import Services


@get("/centres")
async def list_centres(inventory: NamedDependency[Inventory]) -> list[CentreOut]:
    catalogue = await inventory.catalogue()
    return [CentreOut.of(c) for c in catalogue.centres.values()]


@get("/vaccines")
async def list_vaccines(inventory: NamedDependency[Inventory]) -> list[VaccineOut]:
    catalogue = await inventory.catalogue()
    return [VaccineOut.of(v) for v in catalogue.vaccines.values()]


@get("/centres/{centre_id:int}/offers")
async def centre_offers(
    services: NamedDependency[Services],
    centre_id: FromPath[int],
    vaccine: Annotated[str, QueryParameter(min_length=1, max_length=40)],
    request: Request[Any, Any, Any],
    persons: Annotated[int, QueryParameter(ge=1, le=2)] = 1,
    limit: Annotated[int, QueryParameter(ge=1, le=50)] = 10,
    day: Annotated[
        date | None, QueryParameter(description="only first doses on this local day")
    ] = None,
    part: Annotated[
        Literal["morning", "afternoon", "evening"] | None,
        QueryParameter(description="only first doses before 12:00, 12:00-17:00 or from 17:00"),
    ] = None,
) -> OffersOut:
    """Plain reads are answered in front of the framework, alike (inventory/fast_reads.py)."""
    await services.limits.enforce(request.scope, "offers")
    view = await services.inventory.offers(centre_id, vaccine, persons, limit, day=day, part=part)
    return offers_out(view)


def offers_out(view: OffersView) -> OffersOut:
    return OffersOut(
        centre=CentreOut.of(view.centre),
        vaccine=VaccineOut.of(view.vaccine),
        offers=[OfferOut.of(o) for o in view.offers],
        next_release_at=maybe_berlin(view.next_release_at),
        alternatives=[
            AlternativeOut(a.centre.id, a.centre.name, a.distance_km, a.free_offers)
            for a in view.alternatives
        ],
    )


@get(
    "/centres/{centre_id:int}/days",
    description="Per day of one week, how many pairs (one-dose vaccines: appointments) could "
    "be booked with the first dose that day, or why none: the portal's week view. `from`: any "
    "day of the week wanted (default: this week); weeks run from this one to the one 31 days "
    "ahead, and a day outside them gives the nearest.",
)
async def centre_days(
    services: NamedDependency[Services],
    centre_id: FromPath[int],
    vaccine: Annotated[str, QueryParameter(min_length=1, max_length=40)],
    request: Request[Any, Any, Any],
    persons: Annotated[int, QueryParameter(ge=1, le=2)] = 1,
    from_: Annotated[
        date | None, QueryParameter(name="from", description="a day of the week wanted")
    ] = None,
) -> DaysOut:
    await services.limits.enforce(request.scope, "offers")
    centre, found = await services.inventory.lookup(centre_id, vaccine)
    catalogue = await services.inventory.catalogue()
    week = await read_week(services.inventory, catalogue, centre, found, from_, persons)
    return DaysOut(
        centre.id,
        found.code,
        persons,
        week.start,
        week.previous,
        week.next,
        [DayOut(d.day, d.state.value, d.free) for d in week.days],
    )


@get(
    "/availability",
    responses={304: ResponseSpec(None, description="Unchanged since the ETag in If-None-Match")},
)
async def availability(
    services: NamedDependency[Services],
    if_none_match: Annotated[
        str | None, HeaderParameter(name="If-None-Match", max_length=200)
    ] = None,
) -> Response[list[AvailabilityOut]]:
    """Free offers per centre and vaccine, rebuilt at most every `feed_ttl_s` seconds from
    seats per day; poll it with If-None-Match (304 while nothing changed)."""
    reading = await services.inventory.feed()
    max_age = max(1, round(services.settings.feed_ttl_s))
    headers = {"ETag": reading.etag, "Cache-Control": f"public, max-age={max_age}"}
    if if_none_match is not None and reading.etag in if_none_match.split(","):
        # A 304 carries no body at all (Litestar refuses even an empty list for it).
        return Response(None, status_code=304, headers=headers)  # type: ignore[arg-type]
    body = [
        AvailabilityOut(
            r.centre.id,
            r.centre.name,
            r.vaccine.code,
            r.free_offers,
            r.free_seats,
            r.first_free_day,
            maybe_berlin(r.next_release_at),
        )
        for r in reading.rows
    ]
    return Response(body, headers=headers)


@get(
    "/slots/{slot_id:int}",
    description="One slot. `capacity` counts the seats open to everyone: seats the phone "
    "share keeps for the hotline are never shown (nor can they be inferred), as in the "
    "offers and the feed; `capacity - booked` is what a web booking may take.",
)
async def slot(inventory: NamedDependency[Inventory], slot_id: FromPath[int]) -> SlotOut:
    row = await inventory.slot(slot_id)
    return SlotOut(
        row.id,
        row.centre_id,
        row.vaccine_code,
        row.starts_at.astimezone(BERLIN),
        row.public_capacity,
        row.booked,
    )


router = Router(
    "/",
    route_handlers=[list_centres, list_vaccines, centre_offers, centre_days, availability, slot],
    tags=["inventory"],
)
