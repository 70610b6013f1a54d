"""HTTP: book an offer, look a booking up, cancel it.

Looking up and cancelling take the birth date in a JSON body (`POST .../lookup`,
`POST .../cancel`): a query string lands in access logs and proxies. The older query forms
(`GET`/`DELETE /bookings/{code}?birth_date=`) keep working for one more release, marked
deprecated in the OpenAPI document and, on every answer, by a `Deprecation` header and a
`Link` to the call that replaces them. Both forms pass the same throttle (booking/lookups.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, Router, delete, get, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from kontingent.booking.model import CODE_PATTERN
from kontingent.booking.schemas import BirthDateIn, BookingIn, BookingOut
from kontingent.ratelimit.service import limited
from kontingent.services import Services
from kontingent.verification.routes import Admission
from kontingent.wire import words

AnyRequest = Request[Any, Any, Any]
BirthDate = Annotated[
    date,
    QueryParameter(
        description="YYYY-MM-DD. Deprecated: send it in the body of the POST form instead."
    ),
]
Code = Annotated[
    str,
    PathParameter(pattern=CODE_PATTERN, description=words(CODE_PATTERN)),
]
# RFC 9745: the query forms are deprecated since this date (2026-12-04), as a Unix time.
DEPRECATED_SINCE = b"@1796342400"


@post("/bookings", status_code=201, opt=limited("booking"))
async def book(
    services: NamedDependency[Services],
    data: JSONBody[BookingIn],
    request: AnyRequest,
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
    # Under the room the admission is checked; the booking records it (one admission, one
    # booking), so only a booking that committed uses it up.
    async with services.waiting_room.booking(x_admission) as admission:
        view = await services.booking.book(
            claims,
            persons,
            data.slot_ids,
            idempotency_key,
            admission=admission,
            language=data.language,
            vaccine=data.vaccine,
        )
    return BookingOut.of(view)


@post(
    "/bookings/{code:str}/lookup",
    status_code=200,
    opt=limited("booking_lookup"),
    description="The booking, for its code and the birth date of a person in it. Five wrong "
    "birth dates for one code start a cool-down that doubles with each further wrong one "
    "(429 `lookup_locked` with Retry-After); a wrong code answers like a wrong date.",
)
async def look_up_booking(
    services: NamedDependency[Services],
    request: AnyRequest,
    code: Code,
    data: JSONBody[BirthDateIn],
) -> BookingOut:
    return BookingOut.of(
        await services.lookups.find(request.scope, code, data.birth_date.isoformat())
    )


@post(
    "/bookings/{code:str}/cancel",
    status_code=200,
    opt=limited("booking_lookup", "cancel"),
    description="Cancel the booking and free its slots; code and birth date as for the "
    "lookup, and the same throttle.",
)
async def cancel_booking_with_body(
    services: NamedDependency[Services],
    request: AnyRequest,
    code: Code,
    data: JSONBody[BirthDateIn],
) -> BookingOut:
    return BookingOut.of(
        await services.lookups.cancel(request.scope, code, data.birth_date.isoformat())
    )


def deprecated_for(successor: str) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware: every answer of a deprecated query form (errors too: it sits inside the
    route's exception handling) says so and links the call replacing it."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            # Quoted: the path is decoded text and must not carry a line break into a header.
            link = f'<{quote(scope["path"])}/{successor}>; rel="successor-version"'.encode()

            async def send_noted(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = [*message.get("headers", ()), (b"deprecation", DEPRECATED_SINCE)]
                    message = {**message, "headers": [*headers, (b"link", link)]}
                await send(message)

            await app(scope, receive, send_noted)

        return handle

    return middleware


@get(
    "/bookings/{code:str}",
    deprecated=True,
    opt=limited("booking_lookup"),
    middleware=[deprecated_for("lookup")],
    description="Deprecated: use `POST /api/v1/bookings/{code}/lookup` with "
    '`{"birth_date": "YYYY-MM-DD"}`; this form puts the birth date into access logs.',
)
async def find_booking(
    services: NamedDependency[Services],
    request: AnyRequest,
    code: Code,
    birth_date: BirthDate,
) -> BookingOut:
    return BookingOut.of(await services.lookups.find(request.scope, code, birth_date.isoformat()))


@delete(
    "/bookings/{code:str}",
    status_code=200,
    deprecated=True,
    opt=limited("booking_lookup", "cancel"),
    middleware=[deprecated_for("cancel")],
    description="Deprecated: use `POST /api/v1/bookings/{code}/cancel` with "
    '`{"birth_date": "YYYY-MM-DD"}`; this form puts the birth date into access logs.',
)
async def cancel_booking(
    services: NamedDependency[Services],
    request: AnyRequest,
    code: Code,
    birth_date: BirthDate,
) -> BookingOut:
    return BookingOut.of(await services.lookups.cancel(request.scope, code, birth_date.isoformat()))


router = Router(
    "/",
    route_handlers=[
        book,
        look_up_booking,
        cancel_booking_with_body,
        find_booking,
        cancel_booking,
    ],
    tags=["booking"],
)
