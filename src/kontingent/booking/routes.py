"""HTTP: book an offer, look a booking up, cancel it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, Router, delete, get, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter

from kontingent.booking.model import CODE_PATTERN
from kontingent.booking.schemas import BookingIn, BookingOut
from kontingent.booking.service import Booking
from kontingent.services import Services
from kontingent.verification.routes import Admission
from kontingent.wire import words

BirthDate = Annotated[date, QueryParameter(description="YYYY-MM-DD")]
Code = Annotated[
    str,
    PathParameter(pattern=CODE_PATTERN, description=words(CODE_PATTERN)),
]


@post("/bookings", status_code=201)
async def book(
    services: NamedDependency[Services],
    data: JSONBody[BookingIn],
    request: Request[Any, Any, Any],
    authorization: Annotated[
        str | None, HeaderParameter(name="Authorization", description="Bearer TOKEN")
    ] = None,
    idempotency_key: Annotated[
        str | None,
        HeaderParameter(
            name="Idempotency-Key", min_length=1, max_length=100, description="1 to 100 characters"
        ),
    ] = None,
    x_admission: Admission = None,
) -> BookingOut:
    claims = services.verification.read_token(authorization)
    await services.limits.enforce(request.scope, "booking", claims.phone)
    persons = [p.as_fields() for p in data.persons]
    # Under the room the admission is checked and spent (once) before the booking runs.
    async with services.waiting_room.booking(x_admission, idempotency_key):
        view = await services.booking.book(claims, persons, data.slot_ids, idempotency_key)
    return BookingOut.of(view)


@get("/bookings/{code:str}")
async def find_booking(
    booking: NamedDependency[Booking], code: Code, birth_date: BirthDate
) -> BookingOut:
    return BookingOut.of(await booking.find(code, birth_date.isoformat()))


@delete("/bookings/{code:str}", status_code=200)
async def cancel_booking(
    booking: NamedDependency[Booking], code: Code, birth_date: BirthDate
) -> BookingOut:
    return BookingOut.of(await booking.cancel(code, birth_date.isoformat()))


router = Router("/", route_handlers=[book, find_booking, cancel_booking], tags=["booking"])
