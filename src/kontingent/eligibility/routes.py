"""HTTP: the eligibility check."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from kontingent.eligibility.schemas import EligibilityIn, EligibilityOut, FirstDoseDaysOut
from kontingent.inventory.schemas import maybe_berlin
from kontingent.ratelimit.service import limited
from kontingent.services import Services


@post("/eligibility", status_code=200, opt=limited("eligibility"))
async def check_eligibility(
    services: NamedDependency[Services],
    data: JSONBody[EligibilityIn],
    request: Request[Any, Any, Any],
) -> EligibilityOut:
    await services.limits.enforce(request.scope, "eligibility")
    answer = await services.eligibility.check(
        data.birth_date.isoformat(), data.postcode, data.district
    )
    d = answer.decision
    return EligibilityOut(
        eligible=d.eligible,
        vaccines=d.vaccines,
        centres=answer.centre_names,
        opens_at=maybe_berlin(d.opens_at),
        reasons=d.reasons,
        centre_ids=d.centres,
        district=answer.district,
        first_dose_days=[
            FirstDoseDaysOut(code, r.first, r.last)
            for code, ranges in d.first_dose_days.items()
            for r in ranges
        ],
    )


router = Router("/", route_handlers=[check_eligibility], tags=["eligibility"])
