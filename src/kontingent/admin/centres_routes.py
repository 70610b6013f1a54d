"""HTTP for the admin's centres under /api/v1/admin/centres (role admin; names as API.md).

Every change is limited per admin (`admin_centres`): a closure cancels bookings and sends
SMS and e-mail, and a slip in a script should not do that a thousand times.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from kontingent.admin.centres_closures import Change, change_centre
from kontingent.admin.centres_schemas import CentreChangeOut, CentreIn, CentreOut, CentrePatch
from kontingent.admin.centres_service import AdminCentres, By
from kontingent.ratelimit.service import limited
from kontingent.services import Services
from kontingent.staff.audit import Actor, Channel
from kontingent.staff.guards import principal_of, staff_guard, staff_only
from kontingent.staff.model import Role

AnyRequest = Request[Any, Any, Any]
ADMIN = staff_only(Role.admin)
ACTION = "admin_centres"


async def by_of(services: Services, request: AnyRequest, action: str | None = ACTION) -> By:
    """Who acts (an admin), once their own limit let the request through (`action`)."""
    principal = principal_of(request)
    if action is not None:
        await services.limits.enforce(request.scope, action, principal.username)
    ip = services.limits.address_of(request.scope)
    return By(Actor.of(principal), Channel.api, ip)


@get("/centres", guards=[staff_guard], opt=ADMIN, description="Every centre with its settings.")
async def list_centres(services: NamedDependency[Services]) -> list[CentreOut]:
    return [CentreOut.of(v) for v in await AdminCentres.of(services).list()]


@get(
    "/centres/{centre_id:int}",
    guards=[staff_guard],
    opt=ADMIN,
    description="One centre: address, lanes, slot length, opening hours per weekday (a "
    "weekday left out is closed) and the closed days ahead.",
)
async def get_centre(services: NamedDependency[Services], centre_id: FromPath[int]) -> CentreOut:
    return CentreOut.of(await AdminCentres.of(services).get(centre_id))


@post(
    "/centres",
    status_code=201,
    guards=[staff_guard],
    opt={**ADMIN, **limited(ACTION)},
    description="Add a centre. The postcode must be one of the region's: it decides the "
    "district. Without `lat`/`lon` the centre is placed where its district's centre is. "
    "Slots come with its contingents (releases). Audited as `centre.create`.",
)
async def create_centre(
    services: NamedDependency[Services], request: AnyRequest, data: JSONBody[CentreIn]
) -> CentreOut:
    by = await by_of(services, request)
    return CentreOut.of(await AdminCentres.of(services).create(data.fields(), by))


@patch(
    "/centres/{centre_id:int}",
    guards=[staff_guard],
    opt={**ADMIN, **limited(ACTION)},
    description="Change a centre; fields left out stay. `hours` is the whole week. From "
    "tomorrow on its slots follow lanes, slot length and hours: unbooked slots that no "
    "longer fit are removed, booked ones kept (closed to new bookings), new ones made for "
    "the days its contingents cover, capacities scaled with lanes x minutes (`slots` says "
    "how many). `closures.add` closes days: a day with bookings answers 409 "
    "`closure_has_bookings` listing them unless `cancel_bookings` is true, which cancels "
    "them and tells each person by SMS and e-mail with a link to book anew. `dry_run`: "
    "say what would happen, write nothing. Audited: `centre.update`, `centre.closure`.",
)
async def change(
    services: NamedDependency[Services],
    request: AnyRequest,
    centre_id: FromPath[int],
    data: JSONBody[CentrePatch],
) -> CentreChangeOut:
    by = await by_of(services, request)
    closures = data.closures
    wish = Change(
        data.fields(),
        [(c.day, c.reason.strip()) for c in closures.add] if closures else [],
        list(closures.remove) if closures else [],
        data.cancel_bookings,
        data.dry_run,
    )
    done = await change_centre(services, centre_id, wish, by)
    return CentreChangeOut.of(done.outcome, done.closed, done.opened, done.pending)


router = Router(
    "/admin",
    route_handlers=[list_centres, get_centre, create_centre, change],
    tags=["staff", "admin"],
)
