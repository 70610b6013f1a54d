"""HTTP: reference data, offers, the public availability feed and single slots."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from kontingent.clock import BERLIN
from kontingent.inventory.schemas import (
    AlternativeOut,
    AvailabilityOut,
    CentreOut,
    OfferOut,
    OffersOut,
    SlotOut,
    VaccineOut,
    maybe_berlin,
)
from kontingent.inventory.service import Inventory
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
) -> OffersOut:
    await services.limits.enforce(request.scope, "offers")
    view = await services.inventory.offers(centre_id, vaccine, persons, limit)
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


@get("/availability")
async def availability(inventory: NamedDependency[Inventory]) -> list[AvailabilityOut]:
    return [
        AvailabilityOut(centre.id, centre.name, vaccine.code, free, maybe_berlin(release))
        for centre, vaccine, free, release in await inventory.feed()
    ]


@get("/slots/{slot_id:int}")
async def slot(inventory: NamedDependency[Inventory], slot_id: FromPath[int]) -> SlotOut:
    row = await inventory.slot(slot_id)
    return SlotOut(
        row.id,
        row.centre_id,
        row.vaccine_code,
        row.starts_at.astimezone(BERLIN),
        row.capacity,
        row.booked,
    )


router = Router(
    "/",
    route_handlers=[list_centres, list_vaccines, centre_offers, availability, slot],
    tags=["inventory"],
)
