"""HTTP: the CSV exports, for scripts (bearer token, under /api/v1) and from the statistics
page (session cookie).

Invariants kept here:
- Admins only (`staff_guard`, role admin); each export is audited, with the channel it came
  through (api or browser) and the caller's address, before it streams (exports.py).
- A bad query (a centre that does not exist, a day that is not YYYY-MM-DD) is refused with a
  4xx naming the parameter before anything is audited or sent.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, Router, get
from litestar.params import QueryParameter
from litestar.response import Stream

from kontingent.admin.exports import Exports
from kontingent.ratelimit.service import unlimited
from kontingent.services import Services
from kontingent.staff.audit import Channel
from kontingent.staff.guards import is_api_path, principal_of, staff_guard, staff_only
from kontingent.staff.model import Role

AnyRequest = Request[Any, Any, Any]
CSV = "text/csv; charset=utf-8"
OPT = {**staff_only(Role.admin), **unlimited("admins only; reads, each export audited")}
CentreId = Annotated[int | None, QueryParameter(ge=1, description="one centre (all: leave out)")]
Day = Annotated[date | None, QueryParameter(description="the appointments' day, YYYY-MM-DD")]


def _who(request: AnyRequest) -> tuple[Services, str, str | None]:
    services: Services = request.app.state.services
    channel = Channel.api if is_api_path(request.url.path) else Channel.browser
    return services, channel, services.limits.address_of(request.scope)


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


async def _bookings(request: AnyRequest, centre_id: int | None, day: date | None) -> Stream:
    services, channel, ip = _who(request)
    exports = Exports(services.db, services.clock)
    chunks = await exports.bookings(principal_of(request), channel, ip, centre_id, day)
    name = f"bookings-{centre_id or 'all'}-{day or 'all'}.csv"
    return Stream(chunks, media_type=CSV, headers=_attachment(name))


async def _stats(request: AnyRequest) -> Stream:
    services, channel, ip = _who(request)
    figures = await services.statistics.figures()
    text = await Exports(services.db, services.clock).statistics(
        principal_of(request), channel, ip, figures
    )
    return Stream([text], media_type=CSV, headers=_attachment("statistics.csv"))


_DESCRIBED = (
    "UTF-8 with a byte-order mark, `;` between fields (a German Excel opens it as it is); "
    "streamed; audited as `bookings_exported` before the first byte."
)


BOOKINGS_DOC = "The appointments (with booking and person) of a centre and day, by start time. "
STATS_DOC = (
    "The statistics of GET /api/v1/admin/stats as rows of section;item;figure;value, UTF-8 "
    "with a byte-order mark, `;` between fields; audited as `stats_exported`."
)


@get(
    "/admin/exports/bookings.csv",
    guards=[staff_guard],
    opt=OPT,
    media_type=CSV,
    description=BOOKINGS_DOC + _DESCRIBED,
)
async def bookings_csv(request: AnyRequest, centre_id: CentreId = None, date: Day = None) -> Stream:
    return await _bookings(request, centre_id, date)


@get(
    "/admin/exports/stats.csv", guards=[staff_guard], opt=OPT, media_type=CSV, description=STATS_DOC
)
async def stats_csv(request: AnyRequest) -> Stream:
    return await _stats(request)


@get("/admin/exports/bookings.csv", guards=[staff_guard], opt=OPT, media_type=CSV)
async def bookings_csv_page(
    request: AnyRequest, centre_id: CentreId = None, date: Day = None
) -> Stream:
    return await _bookings(request, centre_id, date)


@get("/admin/exports/stats.csv", guards=[staff_guard], opt=OPT, media_type=CSV)
async def stats_csv_page(request: AnyRequest) -> Stream:
    return await _stats(request)


api_router = Router("/", route_handlers=[bookings_csv, stats_csv], tags=["staff", "admin"])
pages = [bookings_csv_page, stats_csv_page]
