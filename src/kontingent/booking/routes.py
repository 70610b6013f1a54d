"""HTTP: book an offer, look a booking up, cancel it."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Router, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from kontingent.booking.schemas import BookingIn, BookingOut
from kontingent.booking.service import Booking
from kontingent.services import Services
from kontingent.verification.routes import Admission

BirthDate = Annotated[str, QueryParameter(min_length=1, max_length=20, description="YYYY-MM-DD")]


@post("/bookings", status_code=201)
async def book(
    services: NamedDependency[Services],
    data: JSONBody[BookingIn],
    request: Request[Any, Any, Any],
    authorization: Annotated[
        str | None, HeaderParameter(name="Authorization", description="Bearer TOKEN")
    ] = None,
    idempotency_key: Annotated[
        str | None, HeaderParameter(name="Idempotency-Key", description="1 to 100 characters")
    ] = None,
    x_admission: Admission = None,
) -> BookingOut:
    claims = services.verification.read_token(authorization)
    await services.limits.enforce(request.scope, "booking", claims.phone)
    persons = [
        {k: v for k, v in msgspec.structs.asdict(p).items() if v is not None} for p in data.persons
    ]
    # Under the room the admission is checked; the booking records it (one admission, one
    # booking), so only a booking that committed uses it up.
    async with services.waiting_room.booking(x_admission) as admission:
        view = await services.booking.book(
            claims, persons, data.slot_ids, idempotency_key, admission=admission
        )
    return BookingOut.of(view)


@get("/bookings/{code:str}")
async def find_booking(
    booking: NamedDependency[Booking], code: FromPath[str], birth_date: BirthDate
) -> BookingOut:
    return BookingOut.of(await booking.find(code, birth_date))


@delete("/bookings/{code:str}", status_code=200)
async def cancel_booking(
    booking: NamedDependency[Booking], code: FromPath[str], birth_date: BirthDate
) -> BookingOut:
    return BookingOut.of(await booking.cancel(code, birth_date))


router = Router("/", route_handlers=[book, find_booking, cancel_booking], tags=["booking"])
