"""HTTP for contingent releases under /api/v1/admin/releases (role admin; names by API.md).

Scheduling and cancelling are limited per admin (`admin_release`) and audited in their own
transactions (admin/releases_service.py); reading the history is neither.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from kontingent.admin.releases_schemas import ReleaseIn, ReleaseOut, ReleasePage
from kontingent.ratelimit.service import limited
from kontingent.services import Services
from kontingent.staff.audit import Actor, Channel
from kontingent.staff.guards import principal_of, staff_guard, staff_only
from kontingent.staff.model import Role

AnyRequest = Request[Any, Any, Any]
ADMIN = staff_only(Role.admin)
MAX_PAGE = 200


async def _limited(services: Services, request: AnyRequest) -> Actor:
    principal = principal_of(request)
    await services.limits.enforce(request.scope, "admin_release", principal.username)
    return Actor.of(principal)


@post(
    "/",
    status_code=201,
    guards=[staff_guard],
    opt={**ADMIN, **limited("admin_release")},
    description="Release a contingent: for the vaccine, at every centre named (null: all), "
    "slots on each open day from `first_day` to `last_day` from the centre's opening hours, "
    "lanes and slot length (public holidays skipped unless opened), bookable from `at` "
    "(null: now, executed at once; else `scheduled` until the scheduler executes it at that "
    "minute). 409 `contingent_overlap` names each contingent of the vaccine already on one of "
    "those days; 422 says which field to fix.",
)
async def schedule(
    services: NamedDependency[Services], request: AnyRequest, data: JSONBody[ReleaseIn]
) -> ReleaseOut:
    actor = await _limited(services, request)
    ip = services.limits.address_of(request.scope)
    found = await services.releases.schedule(actor, data.wish(), Channel.api, ip)
    return ReleaseOut.of(found)


@get(
    "/",
    guards=[staff_guard],
    opt=ADMIN,
    description="The history of releases, newest first: who, when, how many slots and seats; "
    "`next` is the URL of the next older page.",
)
async def history(
    services: NamedDependency[Services],
    request: AnyRequest,
    before: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
) -> ReleasePage:
    page, more = await services.releases.history(before, limit)
    next_url = None
    if more is not None:
        next_url = f"{request.url.path}?{urlencode({'before': more, 'limit': limit})}"
    return ReleasePage([ReleaseOut.of(r) for r in page], next_url)


@get(
    "/{release_id:int}",
    guards=[staff_guard],
    opt=ADMIN,
    description="One release with its slots, seats and contingent per centre.",
)
async def one(services: NamedDependency[Services], release_id: FromPath[int]) -> ReleaseOut:
    return ReleaseOut.of(await services.releases.get(release_id))


@post(
    "/{release_id:int}/cancel",
    status_code=200,
    guards=[staff_guard],
    opt={**ADMIN, **limited("admin_release")},
    description="Withdraw a scheduled release before its minute: its slots (none booked yet) "
    "and contingents are removed, the release stays in the history as `cancelled`. 409 once "
    "its minute has come (`release_started`, `release_done`) or when cancelled already.",
)
async def cancel(
    services: NamedDependency[Services], request: AnyRequest, release_id: FromPath[int]
) -> ReleaseOut:
    actor = await _limited(services, request)
    ip = services.limits.address_of(request.scope)
    return ReleaseOut.of(await services.releases.cancel(actor, release_id, Channel.api, ip))


router = Router(
    "/admin/releases", route_handlers=[schedule, history, one, cancel], tags=["staff", "admin"]
)
