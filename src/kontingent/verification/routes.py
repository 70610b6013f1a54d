"""HTTP: send a PIN to a phone, and trade the right PIN for a booking token."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, post
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody

from kontingent.inventory.schemas import berlin
from kontingent.ratelimit.service import RateLimits
from kontingent.verification.model import PIN_VALIDITY, normalise_phone
from kontingent.verification.schemas import PinIn, TokenOut, VerificationIn, VerificationOut
from kontingent.verification.service import Verification
from kontingent.waiting_room.service import WaitingRoom

# While the waiting room is on, these calls need the admission token of an admitted ticket.
Admission = Annotated[
    str | None,
    HeaderParameter(name="X-Admission", description="admission_token from GET /api/v1/queue"),
]


@post("/verifications", status_code=201)
async def start_verification(
    verification: NamedDependency[Verification],
    data: JSONBody[VerificationIn],
    limits: NamedDependency[RateLimits],
    request: Request[Any, Any, Any],
    waiting_room: NamedDependency[WaitingRoom],
    x_admission: Admission = None,
) -> VerificationOut:
    await waiting_room.require(x_admission)
    await limits.enforce(request.scope, "pin_send", normalise_phone(data.phone))
    sent = await verification.send_pin(data.phone)
    return VerificationOut(
        verification_id=sent.verification_id,
        expires_at=berlin(sent.expires_at),
        resend_after=berlin(sent.resend_after),
        valid_minutes=int(PIN_VALIDITY.total_seconds() // 60),
    )


@post("/verifications/{verification_id:str}", status_code=200)
async def confirm_pin(
    verification: NamedDependency[Verification],
    verification_id: FromPath[str],
    data: JSONBody[PinIn],
    limits: NamedDependency[RateLimits],
    request: Request[Any, Any, Any],
    waiting_room: NamedDependency[WaitingRoom],
    x_admission: Admission = None,
) -> TokenOut:
    await waiting_room.require(x_admission)
    await limits.enforce(request.scope, "pin_check", verification_id[:100])
    return TokenOut(await verification.check_pin(verification_id, data.pin.strip()))


router = Router("/", route_handlers=[start_verification, confirm_pin], tags=["verification"])
