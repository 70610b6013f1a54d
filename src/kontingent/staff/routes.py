"""HTTP: staff tokens for scripts, and the audit log for admins.

Tokens authenticate API calls only (`Authorization: Bearer`); the staff pages use their
session cookie (pages.py). See guards.py for who may call what.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Router, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from kontingent.errors import InvalidInput
from kontingent.ratelimit.service import limited, unlimited
from kontingent.services import Services
from kontingent.staff import audit
from kontingent.staff.audit import Channel
from kontingent.staff.guards import ALL_ROLES, principal_of, public, staff_guard, staff_only
from kontingent.staff.model import Role, SessionKind
from kontingent.staff.schemas import AuditItem, AuditPage, TokenIn, TokenOut, TokenRevoked

AnyRequest = Request[Any, Any, Any]


@post(
    "/auth/token",
    status_code=200,
    opt={**public("logging in"), **limited("staff_login")},
    description="A staff token for `Authorization: Bearer`. A wrong user name or password "
    "answers 401 `login_failed` (the same for both); five wrong passwords lock the name for "
    "15 minutes (429 `login_locked` with Retry-After).",
)
async def issue_token(
    services: NamedDependency[Services], request: AnyRequest, data: JSONBody[TokenIn]
) -> TokenOut:
    await services.limits.enforce(request.scope, "staff_login")
    ip = services.limits.address_of(request.scope)
    login = await services.staff.login(
        data.username, data.password, SessionKind.api, Channel.api, ip
    )
    return TokenOut.of(login)


@delete(
    "/auth/token",
    status_code=200,
    guards=[staff_guard],
    opt={**staff_only(*ALL_ROLES), **unlimited("ends the caller's own session, once")},
    description="Revoke the token this request carries.",
)
async def revoke_token(services: NamedDependency[Services], request: AnyRequest) -> TokenRevoked:
    ip = services.limits.address_of(request.scope)
    await services.staff.logout(principal_of(request), Channel.api, ip)
    return TokenRevoked()


def _filters(
    user: str | None,
    action: str | None,
    target: str | None,
    since: datetime | None,
    until: datetime | None,
    before: int | None,
    limit: int,
) -> audit.Filters:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(
                f"{name}: give the time with its offset, like 2026-01-12T09:00+01:00"
            )
    return audit.Filters(user, action, target, since, until, before, limit)


@get(
    "/admin/audit",
    guards=[staff_guard],
    opt=staff_only(Role.admin),
    description="The audit log, newest first; `next` is the URL of the next older page.",
)
async def audit_log(
    services: NamedDependency[Services],
    request: AnyRequest,
    user: Annotated[str | None, QueryParameter(max_length=64, description="user name")] = None,
    action: Annotated[str | None, QueryParameter(max_length=40, description="e.g. login")] = None,
    target: Annotated[str | None, QueryParameter(max_length=200)] = None,
    since: Annotated[datetime | None, QueryParameter(description="ISO 8601 with offset")] = None,
    until: Annotated[datetime | None, QueryParameter(description="ISO 8601 with offset")] = None,
    before: Annotated[int | None, QueryParameter(ge=1, description="from `next`")] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=audit.MAX_PAGE)] = 50,
) -> AuditPage:
    filters = _filters(user, action, target, since, until, before, limit)
    rows, more = await services.staff.audit_page(filters)
    return AuditPage([AuditItem.of(r) for r in rows], _next_url(request, more))


def _next_url(request: AnyRequest, before: int | None) -> str | None:
    if before is None:
        return None
    query = {k: v for k, v in request.query_params.items() if k != "before"}
    query["before"] = str(before)
    return f"{request.url.path}?{urlencode(query)}"


router = Router("/", route_handlers=[issue_token, revoke_token, audit_log], tags=["staff"])
