"""HTTP for a centre's staff under /api/v1/staff (roles centre_staff and admin; names fixed by
API.md, "Centre staff"): the day list (JSON or CSV), a vaccination, no-shows.

Invariants kept here:
- Every route admits centre_staff and admin only; a route naming a centre in its path is
  guarded on it (`centre_param`), one naming an appointment is checked on the
  appointment's centre by the service.
- Every route that records something enforces `centre_record` per staff account (the
  staff of a centre share its few addresses) and is audited by the service.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from kontingent.centre.model import CSV_FIELDS, csv_text
from kontingent.centre.schemas import NoShowIn, NoShowOut, NoShowsIn, VaccinatedIn, VisitOut
from kontingent.centre.service import Acting, CentreDesk
from kontingent.ratelimit.service import limited
from kontingent.services import Services
from kontingent.staff.audit import Channel
from kontingent.staff.guards import principal_of, staff_guard, staff_only
from kontingent.staff.model import Role

AnyRequest = Request[Any, Any, Any]
CENTRE = staff_only(Role.centre_staff, Role.admin)
RECORD = "centre_record"


def desk(services: Services) -> CentreDesk:
    return CentreDesk(services.db, services.clock, services.inventory)


async def acting(services: Services, request: AnyRequest) -> Acting:
    """The staff member acting, once their `centre_record` limit let this request through."""
    principal = principal_of(request)
    await services.limits.enforce(request.scope, RECORD, principal.username)
    return Acting(principal, Channel.api, services.limits.address_of(request.scope))


@get(
    "/centres/{centre_id:int}/appointments",
    guards=[staff_guard],
    opt=staff_only(Role.centre_staff, Role.admin, centre_param="centre_id"),
    description="The centre's appointments of `date` (default today, Berlin) that are not "
    "cancelled, by start time: status `booked`, `checked_in`, `vaccinated` or `no_show`. "
    "`format=csv`: the same as `text/csv` that German Excel opens directly (UTF-8 with BOM, "
    "`;` between fields, dates DD.MM.YYYY). Another centre: 403 `wrong_centre`.",
    responses={
        200: ResponseSpec(
            data_container=list[VisitOut],
            description="The day's appointments (JSON), or the same as CSV with format=csv",
        )
    },
)
async def day_list(
    services: NamedDependency[Services],
    request: AnyRequest,
    centre_id: FromPath[int],
    date: Annotated[date | None, QueryParameter(description="YYYY-MM-DD")] = None,
    format: Annotated[Literal["json", "csv"], QueryParameter()] = "json",
) -> Response[Any]:
    centres = desk(services)
    on = date or centres.today()
    visits = await centres.day(principal_of(request), centre_id, on)
    if format == "csv":
        name = f"centre-{centre_id}-{on.isoformat()}.csv"
        return Response(
            csv_text(visits, CSV_FIELDS).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return Response([VisitOut.of(v) for v in visits])


@post(
    "/appointments/{appointment_id:int}/vaccinated",
    status_code=200,
    guards=[staff_guard],
    opt={**CENTRE, **limited(RECORD)},
    description="Record that the person of this appointment was vaccinated today, with the "
    "vaccine's `batch` number (Chargennummer: 3 to 20 letters, digits or `-`; else 422 "
    "`invalid_batch`). Dose and vaccine are the appointment's. Not today: 409 `wrong_day`; "
    "recorded before: 409 `already_vaccinated` / `already_no_show`; another centre: 403 "
    "`wrong_centre`. Audited.",
)
async def vaccinated(
    services: NamedDependency[Services],
    request: AnyRequest,
    appointment_id: FromPath[int],
    data: JSONBody[VaccinatedIn],
) -> VisitOut:
    who = await acting(services, request)
    return VisitOut.of(await desk(services).vaccinate(who, appointment_id, data.batch))


@post(
    "/appointments/{appointment_id:int}/no-show",
    status_code=200,
    guards=[staff_guard],
    opt={**CENTRE, **limited(RECORD)},
    description="Mark a booked appointment whose start has passed as a no-show (checked "
    "in or not begun: 409 `not_booked` / `not_yet_due`). With `free_second_dose: true` "
    "for a first dose, the person's booked second-dose appointment is let go too and its "
    "seat is bookable at once; without it the second dose stays booked. Audited.",
)
async def no_show(
    services: NamedDependency[Services],
    request: AnyRequest,
    appointment_id: FromPath[int],
    data: JSONBody[NoShowIn],
) -> NoShowOut:
    who = await acting(services, request)
    missed = await desk(services).no_show(who, appointment_id, data.free_second_dose)
    return NoShowOut.of(missed)


@post(
    "/centres/{centre_id:int}/no-shows",
    status_code=200,
    guards=[staff_guard],
    opt={
        **staff_only(Role.centre_staff, Role.admin, centre_param="centre_id"),
        **limited(RECORD),
    },
    description="At the day's end: mark everyone of `date` not checked in whose appointment "
    "began as a no-show (`free_second_doses: true` lets their booked second doses go too). "
    "Answers the appointments marked; none is fine. Each is audited.",
)
async def no_shows(
    services: NamedDependency[Services],
    request: AnyRequest,
    centre_id: FromPath[int],
    data: JSONBody[NoShowsIn],
) -> NoShowOut:
    who = await acting(services, request)
    centres = desk(services)
    return NoShowOut.of(
        await centres.no_show_all(who, centre_id, data.date, data.free_second_doses)
    )


router = Router(
    "/staff", route_handlers=[day_list, vaccinated, no_show, no_shows], tags=["staff", "centre"]
)
