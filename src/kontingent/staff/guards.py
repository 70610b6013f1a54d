"""Who may call which route: every route says it is public or names the staff roles it admits.

Invariants kept here:
- A staff route carries `staff_guard` and names its roles in `opt` (`staff_only(...)`); any
  other route says why it is public (`public("...")`). A test walks every route the app
  registers and fails on one that does neither, so a new route cannot forget to decide.
- API paths (/api/...) authenticate with `Authorization: Bearer` only and pages with the
  session cookie only. A cookie never authenticates an API call: the API has no CSRF check,
  so a cookie there would let any site a staff member visits act in their name.
- No credentials: 401 on the API, a redirect to the login page for pages. The wrong role,
  or a centre that is not one of a centre_staff account's centres: 403. A route bound to a
  centre names the path parameter that holds it; a centre in a body is checked by the
  handler with `require_centre`.
- The guard leaves the principal in the request's state, where `principal_of` finds it;
  handlers never look at tokens themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from kontingent.errors import Forbidden, Unauthorized
from kontingent.staff.model import Principal, Role, SessionKind, parse_bearer

if TYPE_CHECKING:
    from kontingent.services import Services

STAFF_ROLES_OPT = "staff_roles"
CENTRE_PARAM_OPT = "staff_centre_param"
PUBLIC_OPT = "public"
SESSION_COOKIE = "kt_staff"
STATE_KEY = "staff_principal"
ALL_ROLES = (Role.agent, Role.centre_staff, Role.admin)


def public(reason: str) -> dict[str, str]:
    """A route's `opt`: anyone may call it, and why."""
    return {PUBLIC_OPT: reason}


def staff_only(*roles: Role, centre_param: str | None = None) -> dict[str, Any]:
    """A route's `opt`: the roles `staff_guard` admits, and the path parameter naming the
    centre a centre_staff account must be bound to."""
    opt: dict[str, Any] = {STAFF_ROLES_OPT: tuple(roles)}
    if centre_param is not None:
        opt[CENTRE_PARAM_OPT] = centre_param
    return opt


class LoginRequired(Unauthorized):
    """A staff page asked for without a live session: the answer is the login page."""

    code = "login_required"


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


async def staff_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    roles = handler.opt.get(STAFF_ROLES_OPT)
    if not roles:
        raise RuntimeError(f"{connection.scope['path']} is guarded but names no roles")
    principal = await _authenticate(connection)
    if principal.role not in roles:
        names = " or ".join(Role(r).value for r in roles)
        raise Forbidden(
            f"this needs the role {names}; the account {principal.username!r} is "
            f"{principal.role.value}",
            code="wrong_role",
        )
    param = handler.opt.get(CENTRE_PARAM_OPT)
    if param is not None:
        require_centre(principal, int(connection.path_params[param]))
    connection.scope.setdefault("state", {})[STATE_KEY] = principal


async def _authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    services: Services = connection.app.state.services
    if is_api_path(connection.scope["path"]):
        token = parse_bearer(connection.headers.get("authorization"))
        principal = await services.staff.authenticate(token, SessionKind.api)
        if principal is None:
            raise Unauthorized(
                "this needs a staff token: send Authorization: Bearer TOKEN with a token "
                "from POST /api/v1/auth/token (it may have expired or been revoked)"
            )
        return principal
    token = connection.cookies.get(SESSION_COOKIE)
    principal = await services.staff.authenticate(token, SessionKind.browser)
    if principal is None:
        raise LoginRequired("log in first")
    return principal


def require_centre(principal: Principal, centre_id: int) -> None:
    if not principal.may_see_centre(centre_id):
        raise Forbidden(
            f"the account {principal.username!r} is not bound to centre {centre_id}",
            code="wrong_centre",
        )


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.scope.get("state", {}).get(STATE_KEY)
    if not isinstance(principal, Principal):
        raise RuntimeError("principal_of on a route without staff_guard")
    return principal
