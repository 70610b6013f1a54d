"""HTTP for hotline agents under /api/v1/agent (role agent; names fixed by API.md).

Every route enforces a limit per agent, not per address: a call centre's agents share a few
addresses. Bookings pass by the citizens' waiting room (the agent is authenticated and limited
on its own) and need no SMS PIN.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, Router, delete, get, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, JSONBody, QueryParameter

from kontingent.agent.offers import OfferQuery
from kontingent.agent.schemas import AgentBookingIn, AgentBookingOut, AgentOffersOut, RebookIn
from kontingent.agent.service import AgentDesk, Search
from kontingent.booking.routes import Code
from kontingent.ratelimit.service import limited
from kontingent.services import Services
from kontingent.staff.audit import Channel
from kontingent.staff.guards import principal_of, staff_guard, staff_only
from kontingent.staff.model import Principal, Role

AnyRequest = Request[Any, Any, Any]
AGENT = staff_only(Role.agent)


@get(
    "/bookings",
    guards=[staff_guard],
    opt={**AGENT, **limited("agent_lookup")},
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
) -> list[AgentBookingOut]:
    principal = await _limited(services, request, "agent_lookup")
    ip = services.limits.address_of(request.scope)
    search = Search(code, last_name, birth_date, phone)
    found = await AgentDesk.of(services).find(principal, search, Channel.api, ip)
    return [AgentBookingOut.of(v) for v in found]


@get(
    "/offers",
    guards=[staff_guard],
    opt={**AGENT, **limited("agent_offers")},
    description="Whether a caller may book (with the reasons in plain words when not), and "
    "offers: the home district's centre first, then the nearest centres with free offers "
    "for the persons asked for (distance from the home district's centre). Not audited: it "
    "holds no personal data.",
)
async def offers(
    services: NamedDependency[Services],
    request: AnyRequest,
    birth_date: Annotated[date, QueryParameter(description="YYYY-MM-DD")],
    postcode: Annotated[str, QueryParameter(pattern=r"^[0-9]{5}$", description="5 digits")],
    persons: Annotated[int, QueryParameter(ge=1, le=2)] = 1,
    vaccine: Annotated[str | None, QueryParameter(max_length=20)] = None,
    partner_birth_date: Annotated[
        date | None, QueryParameter(description="a couple's second person, YYYY-MM-DD")
    ] = None,
    district: Annotated[
        str | None,
        QueryParameter(max_length=100, description="where the postcode spans districts"),
    ] = None,
    rebook: Annotated[
        str | None,
        QueryParameter(
            max_length=20,
            description="a booking code: offers for moving it, its own seats counted as "
            "free (the rebooking frees them); the offer it holds is left out",
        ),
    ] = None,
) -> AgentOffersOut:
    principal = await _limited(services, request, "agent_offers")
    query = OfferQuery(
        birth_date, postcode, persons, vaccine, partner_birth_date, district=district
    )
    ip = services.limits.address_of(request.scope)
    desk = AgentDesk.of(services)
    return AgentOffersOut.of(await desk.offers(principal, query, Channel.api, ip, rebook=rebook))


@post(
    "/bookings",
    status_code=201,
    guards=[staff_guard],
    opt={**AGENT, **limited("agent_booking")},
    description="Book an offer for a caller (one person or a couple), body as "
    "`POST /api/v1/bookings`; the first person's `phone` is the caller's number, landline or "
    "mobile (an SMS goes only to a mobile). No SMS PIN, no waiting room; written to the "
    "audit log with the booking.",
)
async def book(
    services: NamedDependency[Services],
    request: AnyRequest,
    data: JSONBody[AgentBookingIn],
    idempotency_key: Annotated[
        str | None,
        HeaderParameter(
            name="Idempotency-Key",
            min_length=1,
            max_length=100,
            description="1 to 100 characters; per agent",
        ),
    ] = None,
) -> AgentBookingOut:
    principal = await _limited(services, request, "agent_booking")
    ip = services.limits.address_of(request.scope)
    view = await AgentDesk.of(services).book(
        principal, [p.as_fields() for p in data.persons], data.slot_ids, idempotency_key,
        Channel.api, ip, language=data.language, vaccine=data.vaccine,
    )  # fmt: skip
    return AgentBookingOut.of(view)


@delete(
    "/bookings/{code:str}",
    status_code=200,
    guards=[staff_guard],
    opt={**AGENT, **limited("agent_booking")},
    description="Cancel a caller's booking and free its slots (no birth date: the agent is "
    "authenticated); written to the audit log with the cancellation.",
)
async def cancel(
    services: NamedDependency[Services], request: AnyRequest, code: Code
) -> AgentBookingOut:
    principal = await _limited(services, request, "agent_booking")
    ip = services.limits.address_of(request.scope)
    return AgentBookingOut.of(await AgentDesk.of(services).cancel(principal, code, Channel.api, ip))


@post(
    "/bookings/{code:str}/rebook",
    status_code=200,
    guards=[staff_guard],
    opt={**AGENT, **limited("agent_booking")},
    description="Move a caller's booking to another offer for the same persons; the old slots "
    "are freed in the same transaction. 409 `slot_taken` with fresh offers when a new slot "
    "went meanwhile (the booking is unchanged then).",
)
async def rebook(
    services: NamedDependency[Services], request: AnyRequest, code: Code, data: JSONBody[RebookIn]
) -> AgentBookingOut:
    principal = await _limited(services, request, "agent_booking")
    ip = services.limits.address_of(request.scope)
    view = await AgentDesk.of(services).rebook(principal, code, data.slot_ids, Channel.api, ip)
    return AgentBookingOut.of(view)


async def _limited(services: Services, request: AnyRequest, action: str) -> Principal:
    """The agent calling, once its own limit for `action` let the request through."""
    principal = principal_of(request)
    await services.limits.enforce(request.scope, action, principal.username)
    return principal


router = Router(
    "/agent", route_handlers=[find_bookings, offers, book, cancel, rebook], tags=["staff", "agent"]
)
