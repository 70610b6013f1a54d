"""HTTP for the centre's door under /api/v1/staff (roles centre_staff and admin; names fixed
by API.md, "Centre staff")."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from kontingent.checkin.schemas import CheckinIn, CheckinOut
from kontingent.checkin.service import Door
from kontingent.ratelimit.service import limited
from kontingent.services import Services
from kontingent.staff.audit import Channel
from kontingent.staff.guards import principal_of, staff_guard, staff_only
from kontingent.staff.model import Role

AnyRequest = Request[Any, Any, Any]


@post(
    "/checkins",
    status_code=200,
    guards=[staff_guard],
    opt={
        **staff_only(Role.centre_staff, Role.admin),
        **limited("centre_record"),
    },
    description="Check a person in at the door by `code` (typed) or `qr` (the text of the "
    "confirmation's QR code; forged or altered: 422 `qr_not_genuine`, not a ticket: 422 "
    "`qr_malformed`). Takes every appointment of the booking today, for all its persons. "
    "Another centre's booking: 403 `wrong_centre`; cancelled: 409 `booking_cancelled`; no "
    "appointment today: 409 `wrong_day`; unknown: 404 `unknown_code`. Checking in twice "
    "changes nothing and answers the same with `already: true`.",
)
async def check_in(
    services: NamedDependency[Services], request: AnyRequest, data: JSONBody[CheckinIn]
) -> CheckinOut:
    door = Door(services.db, services.clock, services.settings.secret_key)
    principal = principal_of(request)
    await services.limits.enforce(request.scope, "centre_record", principal.username)
    ip = services.limits.address_of(request.scope)
    done = await door.check_in(principal, data.code, data.qr, Channel.api, ip)
    return CheckinOut.of(done)


router = Router("/staff", route_handlers=[check_in], tags=["staff", "centre"])
