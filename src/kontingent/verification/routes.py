"""HTTP: send a PIN to a phone, and trade the right PIN for a booking token."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, post
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody

from kontingent.inventory.schemas import berlin
from kontingent.ratelimit.service import limited
from kontingent.services import Services
from kontingent.verification.model import PIN_VALIDITY, normalise_phone
from kontingent.verification.schemas import PinIn, TokenOut, VerificationIn, VerificationOut

# While the waiting room is on, these calls need the admission token of an admitted ticket.
Admission = Annotated[
    str | None,
    HeaderParameter(name="X-Admission", description="admission_token from GET /api/v1/queue"),
]


@post("/verifications", status_code=201, opt=limited("pin_send"))
async def start_verification(
    services: NamedDependency[Services],
    data: JSONBody[VerificationIn],
    request: Request[Any, Any, Any],
    x_admission: Admission = None,
) -> VerificationOut:
    await services.waiting_room.require(x_admission)
    await services.limits.enforce(request.scope, "pin_send", normalise_phone(data.phone))
    sent = await services.verification.send_pin(data.phone, data.language)
    return VerificationOut(
        verification_id=sent.verification_id,
        expires_at=berlin(sent.expires_at),
        resend_after=berlin(sent.resend_after),
        valid_minutes=int(PIN_VALIDITY.total_seconds() // 60),
    )


@post("/verifications/{verification_id:str}", status_code=200, opt=limited("pin_check"))
async def confirm_pin(
    services: NamedDependency[Services],
    verification_id: FromPath[str],
    data: JSONBody[PinIn],
    request: Request[Any, Any, Any],
    x_admission: Admission = None,
) -> TokenOut:
    await services.waiting_room.require(x_admission)
    await services.limits.enforce(request.scope, "pin_check", verification_id[:100])
    return TokenOut(await services.verification.check_pin(verification_id, data.pin.strip()))


router = Router("/", route_handlers=[start_verification, confirm_pin], tags=["verification"])
