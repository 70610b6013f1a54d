"""The centre console's no-show pages (one person, or everyone not checked in at the day's
end) and the printable day list.

Invariants kept here:
- Marking a no-show takes two steps: a GET page that says whom it marks and asks, and only
  its POST acts. For a first dose with a booked second dose, the page asks whether to let
  the second dose go; "keep it" is the default, so only an explicit choice frees a seat.
- "Everyone not checked in" lists the people it would mark (booked, start passed) before
  anyone is marked; the POST marks those the rule takes at that moment (model.missed).
- The printed list is one line per person, a page per hour (print stylesheet), for any day;
  the day page links tomorrow's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from kontingent.centre import model
from kontingent.centre.console import AnyRequest, CentreConsole
from kontingent.centre.pages import AT_CENTRE, RECORDS, day_path, of_centre
from kontingent.centre.views import day_page, parse_day, refusal
from kontingent.errors import KontingentError
from kontingent.i18n import N_
from kontingent.staff.guards import staff_guard
from kontingent.web import forms

ONE = "/centre/{centre_id:int}/appointments/{appointment_id:int}/no-show"
ALL = "/centre/{centre_id:int}/no-shows"


@get(ONE, guards=[staff_guard], opt=AT_CENTRE)
async def ask_one(
    request: AnyRequest, centre_id: FromPath[int], appointment_id: FromPath[int]
) -> Response[Any]:
    console = CentreConsole(request)
    try:
        visit = await of_centre(console, centre_id, appointment_id)
        model.no_show(visit, console.portal.now)
    except KontingentError as exc:
        return console.fail(day_path(centre_id), {"code": refusal(exc, console.t)})
    second = await console.desk.second_dose_of(console.principal, appointment_id)
    return console.render(
        "centre_no_show.html", title=console.t("centre.no_show.title"), visit=visit,
        second=second, centre_id=centre_id, time=console.t.when(visit.starts_at),
        second_when=console.t.when(second.starts_at) if second else "",
    )  # fmt: skip


@post(ONE, guards=[staff_guard], opt=RECORDS)
async def mark_one(
    request: AnyRequest, centre_id: FromPath[int], appointment_id: FromPath[int]
) -> Response[Any]:
    console = CentreConsole(request)
    free = forms.text_of(await request.form(), "second_dose") == "free"
    back = day_path(centre_id)
    try:
        await console.limit()
        visit = await of_centre(console, centre_id, appointment_id)
        missed = await console.desk.no_show(console.acting, appointment_id, free)
    except KontingentError as exc:
        return console.fail(back, {"code": refusal(exc, console.t)})
    key = N_("centre.no_show.done_freed") if missed.freed else N_("centre.no_show.done")
    name = f"{visit.first_name} {visit.last_name}"
    return console.fail(back, notice=console.t(key, name=name))


@get(ALL, guards=[staff_guard], opt=AT_CENTRE)
async def ask_all(request: AnyRequest, centre_id: FromPath[int]) -> Response[Any]:
    console = CentreConsole(request)
    on = parse_day(request.query_params.get("date"), console.desk.today())
    visits = await console.desk.day(console.principal, centre_id, on)
    due = model.missed(visits, console.portal.now)
    page = await day_page(console, centre_id, on, due, "")
    return console.render(
        "centre_no_shows.html", title=console.t("centre.no_shows.title"), page=page,
        due=len(due),
    )  # fmt: skip


@post(ALL, guards=[staff_guard], opt=RECORDS)
async def mark_all(request: AnyRequest, centre_id: FromPath[int]) -> Response[Any]:
    console = CentreConsole(request)
    form = await request.form()
    on = parse_day(forms.text_of(form, "date"), console.desk.today())
    free = forms.text_of(form, "second_doses") == "free"
    back = day_path(centre_id, on, console.desk.today())
    try:
        await console.limit()
        missed = await console.desk.no_show_all(console.acting, centre_id, on, free)
    except KontingentError as exc:
        return console.fail(back, {"code": refusal(exc, console.t)})
    text = console.t("centre.no_shows.done", n=len(missed.no_show), freed=len(missed.freed))
    return console.fail(back, notice=text)


@get(
    "/centre/{centre_id:int}/print",
    guards=[staff_guard],
    opt=AT_CENTRE,
)
async def printable(request: AnyRequest, centre_id: FromPath[int]) -> Response[Any]:
    console = CentreConsole(request)
    tomorrow = console.desk.today() + timedelta(days=1)
    on = parse_day(request.query_params.get("date"), tomorrow)
    visits = await console.desk.day(console.principal, centre_id, on)
    page = await day_page(console, centre_id, on, visits, "")
    title = console.t("centre.print.title", centre=page.centre, day=page.day_text)
    return console.render("centre_print.html", title=title, page=page)


routes = [ask_one, mark_one, ask_all, mark_all, printable]
