"""HTTP for hotline agents under /api/v1/agent (role agent; names fixed by API.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, Router, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from kontingent.agent.service import AgentDesk, Search
from kontingent.booking.schemas import BookingOut
from kontingent.ratelimit.service import limited
from kontingent.services import Services
from kontingent.staff.audit import Channel
from kontingent.staff.guards import principal_of, staff_guard, staff_only
from kontingent.staff.model import Role

AnyRequest = Request[Any, Any, Any]


@get(
    "/bookings",
    guards=[staff_guard],
    opt={**staff_only(Role.agent), **limited("agent_lookup")},
    description="A caller's bookings: by `code`, by `last_name` and `birth_date`, or by "
    "`phone` (one way per request). Each search is written to the audit log with the codes "
    "found.",
)
async def find_bookings(
    services: NamedDependency[Services],
    request: AnyRequest,
    code: Annotated[str | None, QueryParameter(max_length=20)] = None,
    last_name: Annotated[str | None, QueryParameter(max_length=100)] = None,
    birth_date: Annotated[date | None, QueryParameter(description="YYYY-MM-DD")] = None,
    phone: Annotated[str | None, QueryParameter(max_length=30)] = None,
) -> list[BookingOut]:
    principal = principal_of(request)
    await services.limits.enforce(request.scope, "agent_lookup", principal.username)
    desk = AgentDesk(services.db, services.clock)
    ip = services.limits.address_of(request.scope)
    search = Search(code, last_name, birth_date, phone)
    return [BookingOut.of(v) for v in await desk.find(principal, search, Channel.api, ip)]


router = Router("/agent", route_handlers=[find_bookings], tags=["staff", "agent"])
