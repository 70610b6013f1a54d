"""The centre console's pages: the centres to choose from, a centre's day (check-in,
counters, the list by hour, vaccinations), and the CSV of a day. The no-show and print pages:
centre/missed.py.

Invariants kept here:
- Every page is for centre_staff and admins (`staff_only`), and every page under
  /centre/{centre_id} is guarded on that centre: staff of another centre get 403.
- An appointment named in a path must belong to the page's centre, else 404: a lane never
  records a person of another centre through its own page, nor an admin by a slip of the id.
- The check-in field takes what is typed and what a USB scanner types: a text starting
  with `KT1:` is a QR text (checked with the key, model.read_ticket), anything else a booking
  code. A check-in at the page's centre only (`Door.check_in(at=...)`).
- Every POST answers 303: the outcome (checked in, or why not) waits in the flow cookie for
  the day page, which shows it once in large type. The typed path needs no script.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from litestar import Response, Router, get, post
from litestar.params import FromPath
from litestar.static_files import create_static_files_router

from kontingent.centre import model
from kontingent.centre.console import AnyRequest, CentreConsole
from kontingent.centre.views import DayPage, day_page, parse_day, refusal
from kontingent.checkin.service import Door
from kontingent.errors import KontingentError, NotFound
from kontingent.i18n import N_
from kontingent.ratelimit.service import limited
from kontingent.staff.guards import public, staff_guard, staff_only
from kontingent.staff.model import Role
from kontingent.web import forms

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STAFF = staff_only(Role.centre_staff, Role.admin)
AT_CENTRE = staff_only(Role.centre_staff, Role.admin, centre_param="centre_id")
RECORDS = {**AT_CENTRE, **limited("centre_record")}
QR_PREFIX = "KT1:"
CSV_HEADER = {
    "start": N_("centre.csv.start"),
    "dose": N_("centre.csv.dose"),
    "code": N_("centre.csv.code"),
    "last_name": N_("centre.csv.last_name"),
    "first_name": N_("centre.csv.first_name"),
    "birth_date": N_("centre.csv.birth_date"),
    "vaccine": N_("centre.csv.vaccine"),
    "status": N_("centre.csv.status"),
    "batch": N_("centre.csv.batch"),
}


def day_path(centre_id: int, on: date | None = None, today: date | None = None) -> str:
    """The day page of a centre (today's without a date)."""
    return f"/centre/{centre_id}" if on is None or on == today else f"/centre/{centre_id}?date={on}"


@get("/centre", guards=[staff_guard], opt=STAFF)
async def centres(request: AnyRequest) -> Response[Any]:
    console = CentreConsole(request)
    catalogue = await console.services.inventory.catalogue()
    mine = [c for c in catalogue.centres.values() if console.principal.may_see_centre(c.id)]
    if len(mine) == 1:
        return console.redirect(day_path(mine[0].id))
    mine.sort(key=lambda c: c.name)
    return console.render("centre_index.html", title=console.t("centre.index.title"), centres=mine)


@get("/centre/{centre_id:int}", guards=[staff_guard], opt=AT_CENTRE)
async def day(request: AnyRequest, centre_id: FromPath[int]) -> Response[Any]:
    console = CentreConsole(request)
    on = parse_day(request.query_params.get("date"), console.desk.today())
    query = (request.query_params.get("q") or "")[:40]
    visits = await console.desk.day(console.principal, centre_id, on)
    page: DayPage = await day_page(console, centre_id, on, visits, query)
    kept = console.portal.round_for(day_path(centre_id, on, console.desk.today()))
    return console.render(
        "centre_day.html", title=page.title, page=page, kept=kept,
        typed=kept.values if kept else {}, batch=console.lane_batch(), query=query,
    )  # fmt: skip


@post("/centre/{centre_id:int}/checkin", guards=[staff_guard], opt=RECORDS)
async def check_in(request: AnyRequest, centre_id: FromPath[int]) -> Response[Any]:
    console = CentreConsole(request)
    text = forms.text_of(await request.form(), "code")[:128]
    back = day_path(centre_id)
    if not text:
        return console.fail(back, {"code": console.t("centre.err.missing_code")})
    code, qr = (None, text) if text.upper().startswith(QR_PREFIX) else (text, None)
    door = Door(console.services.db, console.services.clock, console.services.settings.secret_key)
    try:
        await console.limit()
        done = await door.check_in(
            console.principal, code, qr, console.acting.channel, console.ip, at=centre_id
        )
    except KontingentError as exc:
        return console.fail(back, {"code": refusal(exc, console.t)})
    names = ", ".join(f"{a.first_name} {a.last_name}" for a in done.appointments)
    key = N_("centre.checkin.already") if done.already else N_("centre.checkin.done")
    return console.fail(back, notice=console.t(key, code=done.code, names=names))


@post(
    "/centre/{centre_id:int}/appointments/{appointment_id:int}/vaccinated",
    guards=[staff_guard],
    opt=RECORDS,
)
async def vaccinated(
    request: AnyRequest, centre_id: FromPath[int], appointment_id: FromPath[int]
) -> Response[Any]:
    console = CentreConsole(request)
    form = await request.form()
    batch = forms.text_of(form, "batch")[: model.BATCH_MAX * 2]
    back = day_path(centre_id)
    field = f"batch-{appointment_id}"
    try:
        await console.limit()
        await of_centre(console, centre_id, appointment_id)
        done = await console.desk.vaccinate(console.acting, appointment_id, batch)
    except KontingentError as exc:
        return console.fail(back, {field: refusal(exc, console.t)}, {field: batch})
    console.remember_batch(done.batch or batch)
    name = f"{done.first_name} {done.last_name}"
    text = console.t("centre.vaccinated.done", name=name, batch=done.batch or "")
    return console.fail(back, notice=text)


async def of_centre(console: CentreConsole, centre_id: int, appointment_id: int) -> model.Visit:
    """The appointment, if it is one of this centre's; else NotFound (see the docstring)."""
    found = await console.desk.visit(console.principal, appointment_id)
    if found.centre_id != centre_id:
        raise NotFound("no such appointment at this centre", code="unknown_appointment")
    return found


@get("/centre/{centre_id:int}/day.csv", guards=[staff_guard], opt=AT_CENTRE)
async def day_csv(request: AnyRequest, centre_id: FromPath[int]) -> Response[Any]:
    console = CentreConsole(request)
    on = parse_day(request.query_params.get("date"), console.desk.today())
    visits = await console.desk.day(console.principal, centre_id, on)
    header = [console.t(CSV_HEADER[name]) for name in model.CSV_FIELDS]
    response = Response(
        model.csv_text(visits, header).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="centre-{centre_id}-{on}.csv"'},
    )
    return console.finish(response)


def static_files() -> Router:
    """The console's script, stylesheet and the vendored QR reader, at /static/centre."""
    return create_static_files_router(
        path="/static/centre", directories=[STATIC], include_in_schema=False,
        name="centre_static", opt=public("the centre console's script and stylesheet"),
    )  # fmt: skip


routes = [centres, day, check_in, vaccinated, day_csv]
