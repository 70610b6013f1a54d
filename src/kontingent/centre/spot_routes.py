"""HTTP of the second dose on the spot under /api/v1/staff (roles centre_staff and admin;
names fixed by API.md, "Centre staff"). Limited per staff account, not per address: a
centre's desks share one address."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, JSONBody

from kontingent.centre.spot import SpotDesk
from kontingent.centre.spot_schemas import SecondDoseIn, SecondDoseOut
from kontingent.ratelimit.service import limited
from kontingent.services import Services
from kontingent.staff.audit import Channel
from kontingent.staff.guards import principal_of, staff_guard, staff_only
from kontingent.staff.model import Role

AnyRequest = Request[Any, Any, Any]
LIMIT = "second_dose"


@post(
    "/second-doses",
    status_code=201,
    guards=[staff_guard],
    opt={**staff_only(Role.centre_staff, Role.admin), **limited(LIMIT)},
    description="Book a second-dose appointment on the spot (channel `on_site`), inside the "
    "vaccine's interval from the first dose, at the centre's public seats nearest the "
    "recommended interval. By `code`: the persons of that booking whose first dose was "
    "recorded as given today (409 `first_dose_not_given` otherwise). Or by the person's "
    "data with `first_dose_date`, `vaccine` and `centre_id` (a first dose given elsewhere). "
    "409 `second_dose_held` (a second appointment exists), `first_dose_booked`, "
    "`doses_complete`, `no_second_dose_seat` (with `details.next_free`, the nearest later "
    "free day, or null); 422 `outside_interval`; 403 `wrong_centre`. An SMS (and an e-mail "
    "if given) confirms it; written to the audit log (`second_dose.book`).",
)
async def book_second_dose(
    services: NamedDependency[Services],
    request: AnyRequest,
    data: JSONBody[SecondDoseIn],
    idempotency_key: Annotated[
        str | None,
        HeaderParameter(
            name="Idempotency-Key",
            min_length=1,
            max_length=100,
            description="1 to 100 characters; per staff account",
        ),
    ] = None,
) -> SecondDoseOut:
    principal = principal_of(request)
    await services.limits.enforce(request.scope, LIMIT, principal.username)
    ip = services.limits.address_of(request.scope)
    booked = await SpotDesk.of(services).book(
        principal, data.request(), idempotency_key, Channel.api, ip
    )
    return SecondDoseOut.of(booked)


router = Router("/staff", route_handlers=[book_second_dose], tags=["staff", "centre"])
