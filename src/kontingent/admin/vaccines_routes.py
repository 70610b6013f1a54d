"""HTTP: `GET|POST /api/v1/admin/vaccines`, `GET|PATCH /api/v1/admin/vaccines/{code}`.

Admins only; every POST and PATCH is limited per admin (`admin_settings`) and audited.
"""

from __future__ import annotations

from litestar import Router, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from kontingent.admin.campaign_routes import ADMINS, CHANGES, AnyRequest, acting
from kontingent.admin.vaccines_schemas import VaccineIn, VaccineList, VaccineOut, VaccinePatch
from kontingent.admin.vaccines_service import VaccineRules
from kontingent.services import Services
from kontingent.staff.guards import staff_guard

UNTOUCHED = (
    "Bookings already made keep their dates: a new interval or age limit applies to offers "
    "and bookings from now on."
)


def vaccine_rules(services: Services) -> VaccineRules:
    return VaccineRules(services.db, services.clock, services.inventory)


@get("/vaccines", guards=[staff_guard], opt=ADMINS, description="Every vaccine.")
async def list_vaccines(services: NamedDependency[Services]) -> VaccineList:
    return VaccineList([VaccineOut.of(r) for r in await vaccine_rules(services).all()])


@get("/vaccines/{code:str}", guards=[staff_guard], opt=ADMINS, description="One vaccine.")
async def show_vaccine(services: NamedDependency[Services], code: FromPath[str]) -> VaccineOut:
    return VaccineOut.of(await vaccine_rules(services).one(code))


@post(
    "/vaccines",
    guards=[staff_guard],
    opt=CHANGES,
    description="Add a vaccine: 1 or 2 doses; a two-dose vaccine's interval in days with "
    "interval_min_days <= interval_recommended_days <= interval_max_days; age limits 0 to "
    "120. 409 `vaccine_exists` for a code in use. Audited.",
)
async def add_vaccine(
    services: NamedDependency[Services], request: AnyRequest, data: JSONBody[VaccineIn]
) -> VaccineOut:
    who = await acting(services, request)
    return VaccineOut.of(await vaccine_rules(services).add(data.rule(), who))


@patch(
    "/vaccines/{code:str}",
    guards=[staff_guard],
    opt=CHANGES,
    description="Change the fields the body names (null clears an age limit or the "
    f"recommended interval), checked as a whole. {UNTOUCHED} Audited.",
)
async def change_vaccine(
    services: NamedDependency[Services],
    request: AnyRequest,
    code: FromPath[str],
    data: JSONBody[VaccinePatch],
) -> VaccineOut:
    who = await acting(services, request)
    return VaccineOut.of(await vaccine_rules(services).change(code, data.changes(), who))


router = Router(
    "/admin",
    route_handlers=[list_vaccines, show_vaccine, add_vaccine, change_vaccine],
    tags=["staff", "admin"],
)
