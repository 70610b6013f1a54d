"""HTTP: `GET|POST /api/v1/admin/cohorts`, `GET|PATCH /api/v1/admin/cohorts/{id}`.

Admins only; every POST and PATCH is limited per admin (`admin_settings`) and audited.
"""

from __future__ import annotations

from litestar import Router, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from kontingent.admin.campaign_routes import ADMINS, CHANGES, AnyRequest, acting
from kontingent.admin.cohorts_schemas import CohortIn, CohortList, CohortOut, CohortPatch
from kontingent.admin.cohorts_service import CohortRules
from kontingent.services import Services
from kontingent.staff.guards import staff_guard

WHEN = (
    "A change reaches every process at once (through Redis; without it within the "
    "catalogue's 5 s), and a cohort opens at its `opens_at` minute in every process."
)


def cohort_rules(services: Services) -> CohortRules:
    return CohortRules(services.db, services.clock, services.inventory)


@get("/cohorts", guards=[staff_guard], opt=ADMINS, description="Every cohort, by opening.")
async def list_cohorts(services: NamedDependency[Services]) -> CohortList:
    now = services.clock.now()
    found = await cohort_rules(services).all()
    return CohortList([CohortOut.of(i, rule, now) for i, rule in found])


@get("/cohorts/{cohort_id:int}", guards=[staff_guard], opt=ADMINS, description="One cohort.")
async def show_cohort(services: NamedDependency[Services], cohort_id: FromPath[int]) -> CohortOut:
    found = await cohort_rules(services).one(cohort_id)
    return CohortOut.of(*found, services.clock.now())


@post(
    "/cohorts",
    guards=[staff_guard],
    opt=CHANGES,
    description="Add a cohort: ages (`max_age` null: no upper limit), its vaccines, the "
    "minute it opens (with its offset) and `district_rule` (`own`: the home district's "
    f"centre; `region`: any centre). {WHEN} Audited.",
)
async def add_cohort(
    services: NamedDependency[Services], request: AnyRequest, data: JSONBody[CohortIn]
) -> CohortOut:
    who = await acting(services, request)
    found = await cohort_rules(services).add(data.rule(), who)
    return CohortOut.of(*found, services.clock.now())


@patch(
    "/cohorts/{cohort_id:int}",
    guards=[staff_guard],
    opt=CHANGES,
    description="Change the fields the body names, checked as a whole. Bookings already "
    f"made stay. {WHEN} Audited.",
)
async def change_cohort(
    services: NamedDependency[Services],
    request: AnyRequest,
    cohort_id: FromPath[int],
    data: JSONBody[CohortPatch],
) -> CohortOut:
    who = await acting(services, request)
    found = await cohort_rules(services).change(cohort_id, data.changes(), who)
    return CohortOut.of(*found, services.clock.now())


router = Router(
    "/admin",
    route_handlers=[list_cohorts, show_cohort, add_cohort, change_cohort],
    tags=["staff", "admin"],
)
