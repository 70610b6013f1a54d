"""Cancelling and rebooking a caller's booking at the console, each after a confirmation.

Invariants kept here:
- The POSTs act through `AgentDesk.cancel` and `AgentDesk.rebook` (the citizens' use cases,
  audited there in their own transactions); the GET pages before them only show and ask.
- A rebooking offers new appointments for the same persons: their birth dates and the first
  person's postcode come from the booking itself, the vaccine stays the booking's, and the
  booking's own seats count as free (the rebooking frees them): keeping the first dose and
  moving the second is one of the choices.
- Every POST answers 303: done, to the booking's screen saying so; refused, back to the
  confirmation page with the reason at the top.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Response, get, post
from litestar.params import FromPath

from kontingent.agent.book import offers_of, offers_page, wish_of
from kontingent.agent.console import CHANNEL, AnyRequest, Console
from kontingent.agent.pages import AGENTS, one_booking
from kontingent.agent.service import OfferQuery
from kontingent.agent.views import booking_screen
from kontingent.booking.model import normalise_code
from kontingent.errors import KontingentError, NotFound
from kontingent.inventory.offers import HeldSeats
from kontingent.ratelimit.service import limited
from kontingent.staff.guards import staff_guard
from kontingent.web import forms
from kontingent.web.choose import offer_summary


@post(
    "/agent/bookings/{code:str}/cancel",
    guards=[staff_guard],
    opt={**AGENTS, **limited("agent_booking")},
)
async def cancel(request: AnyRequest, code: FromPath[str]) -> Response[Any]:
    console = Console(request)
    code = normalise_code(code) or code[:20]
    try:
        await console.services.limits.enforce(
            request.scope, "agent_booking", console.principal.username
        )
        await console.agent_desk.cancel(console.principal, code, CHANNEL, console.ip)
    except KontingentError as exc:
        return console.fail(f"/agent/bookings/{code}/cancel", forms.messages(exc, console.t))
    return console.redirect(f"/agent/bookings/{code}", note="cancelled")


@get(
    "/agent/bookings/{code:str}/rebook",
    guards=[staff_guard],
    opt={**AGENTS, **limited("agent_lookup", "agent_offers")},
)
async def rebook_offers(request: AnyRequest, code: FromPath[str]) -> Response[Any]:
    console = Console(request)
    view = await one_booking(console, normalise_code(code) or "")
    if view is None or view.status != "booked":
        return console.redirect(f"/agent/bookings/{code}")
    first = view.persons[0]
    wish = {**wish_of(console), "vaccine": view.vaccine}
    errors: dict[str, str] = {}
    query = OfferQuery(
        birth_date=first.birth_date, postcode=first.postcode, persons=len(view.persons),
        vaccine=view.vaccine,
        partner_birth_date=view.persons[1].birth_date if len(view.persons) > 1 else None,
        held=HeldSeats.by(view.centre_id, view.vaccine, view.appointments),
    )  # fmt: skip
    try:
        found = await offers_of(console, query)
    except KontingentError as exc:
        errors = forms.messages(exc, console.t)
        found = None
    return await offers_page(
        console, found, wish, errors, take=f"/agent/bookings/{view.code}/rebook/confirm",
        heading=console.t("agent.rebook.title", code=view.code), step=None,
        vaccine_codes=[view.vaccine],
    )  # fmt: skip


def _confirm_page(code: str, key: str) -> str:
    return f"/agent/bookings/{code}/rebook/confirm?{urlencode({'offer': key})}"


@get(
    "/agent/bookings/{code:str}/rebook/confirm",
    guards=[staff_guard],
    opt={**AGENTS, **limited("agent_lookup")},
)
async def rebook_confirm(request: AnyRequest, code: FromPath[str]) -> Response[Any]:
    console = Console(request)
    key = request.query_params.get("offer", "")
    slots = forms.parse_offer(key)
    view = await one_booking(console, normalise_code(code) or "")
    if view is None or slots is None:
        return console.redirect(f"/agent/bookings/{code}")
    try:
        card, centre, address, _ = await offer_summary(console.portal, slots)
    except NotFound:
        return console.redirect(f"/agent/bookings/{view.code}/rebook", note="taken")
    catalogue = await console.services.inventory.catalogue()
    return console.render(
        "agent_rebook.html", title=console.t("agent.rebook.confirm"),
        kept=console.portal.round_for(_confirm_page(view.code, key)),
        screen=booking_screen(view, catalogue, console.t),
        offer=card, centre=centre, address=address,
    )  # fmt: skip


@post(
    "/agent/bookings/{code:str}/rebook/confirm",
    guards=[staff_guard],
    opt={**AGENTS, **limited("agent_booking")},
)
async def rebook(request: AnyRequest, code: FromPath[str]) -> Response[Any]:
    console = Console(request)
    code = normalise_code(code) or code[:20]
    key = forms.text_of(await request.form(), "offer")
    slots = forms.parse_offer(key)
    if slots is None:
        return console.redirect(f"/agent/bookings/{code}/rebook", note="offer")
    try:
        await console.services.limits.enforce(
            request.scope, "agent_booking", console.principal.username
        )
        await console.agent_desk.rebook(console.principal, code, slots, CHANNEL, console.ip)
    except KontingentError as exc:
        return console.fail(_confirm_page(code, key), forms.messages(exc, console.t))
    return console.redirect(f"/agent/bookings/{code}", note="rebooked")


routes = [cancel, rebook_offers, rebook_confirm, rebook]
