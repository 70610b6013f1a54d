"""Pages to manage a booking: look it up with code and birth date, cancel it, rebook it.

Invariants kept here:
- A booking is shown only to whoever gave its code and a birth date of a person in it; the
  flow cookie remembers that pair for the pages that follow, and nothing else is trusted.
- The form's lookup passes the same throttle as the API's (booking/lookups.py): a code that
  saw too many wrong birth dates cools down, and the page says for how long.
- Cancelling takes two steps (a page that says what will happen, then a POST).
- Rebooking keeps the old appointments until the new ones are booked (one transaction in the
  booking service); a taken slot shows fresh offers again. It takes two steps like cancelling
  (a page with the old and the new appointments, then a POST), and no offer starts with the
  slot the booking starts with already.
- Rebooking takes seats, so while the waiting room guards it passes the room's door like a
  booking (cancelling frees seats and stays open).
- Rebooking and cancelling are limited per address and per booking (each sends messages);
  a refusal comes back on the same page, saying when to try again.
- Every POST is answered by a redirect (303): a refusal goes back to the form's own GET page,
  which shows it once with what was typed.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath

from kontingent.booking.model import normalise_code
from kontingent.booking.service import BookingView, SlotTaken
from kontingent.eligibility.service import EligibilityAnswer
from kontingent.errors import KontingentError, NotFound, RateLimited
from kontingent.ratelimit.service import limited
from kontingent.web import forms
from kontingent.web.choose import offer_summary
from kontingent.web.page import Portal, with_kept
from kontingent.web.queue import gate
from kontingent.web.session import Round
from kontingent.web.views import booking_card, choice, door_ticket

AnyRequest = Request[Any, Any, Any]


@get("/manage")
async def manage_form(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    values = {"code": "", "birth_date": ""}
    kept = portal.round_for("/manage")
    return portal.render(
        "manage.html", title=portal.t("manage.title"), kept=kept, values=with_kept(values, kept)
    )


@post("/manage", opt=limited("booking_lookup"))
async def manage_find(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    values = forms.read(await request.form(), ("code", "birth_date"))
    errors = forms.check(values, portal.t, ("code", "birth_date"))
    if not errors:
        born = forms.iso_date(values["birth_date"])
        try:
            # Throttled like the API: wrong birth dates per code, lookups per address.
            view = await portal.services.lookups.find(request.scope, values["code"], born)
        except KontingentError as exc:
            errors = forms.messages(exc, portal.t, "code")
        else:
            portal.save(manage=view.code, manage_born=born)
            return portal.redirect(f"/manage/{view.code}")
    return portal.fail("/manage", errors, values)


async def _managed(portal: Portal, code: str) -> BookingView | None:
    """The booking this person proved they may see, or None."""
    wanted = normalise_code(code)
    flow = portal.flow
    if wanted is None or flow.manage != wanted or not flow.manage_born:
        return None
    try:
        return await portal.services.booking.find(wanted, flow.manage_born)
    except KontingentError:
        return None


async def _still_booked(portal: Portal, code: str) -> BookingView | Response[Any]:
    """The booking this person may change, or the redirect that says why they cannot: back
    to the lookup when not proven, to the booking when it is cancelled."""
    view = await _managed(portal, code)
    if view is None:
        return portal.redirect("/manage", note="manage")
    if view.status != "booked":
        return portal.redirect(f"/manage/{view.code}")
    return view


@get("/manage/{code:str}")
async def manage_view(request: AnyRequest, code: FromPath[str]) -> Response[Any]:
    portal = Portal(request)
    view = await _managed(portal, code)
    if view is None:
        return portal.redirect("/manage", note="manage")
    catalogue = await portal.services.inventory.catalogue()
    return portal.render(
        "manage_view.html",
        title=portal.t("manage.view.title"),
        booking=booking_card(view, catalogue, portal.t),
        ticket=door_ticket(view, portal.settings.secret_key, portal.t),
    )


@get("/manage/{code:str}/cancel")
async def cancel_confirm(request: AnyRequest, code: FromPath[str]) -> Response[Any]:
    portal = Portal(request)
    view = await _still_booked(portal, code)
    if not isinstance(view, BookingView):
        return view  # not proven, or nothing left to change: where the person can see why
    catalogue = await portal.services.inventory.catalogue()
    return portal.render(
        "cancel_confirm.html",
        title=portal.t("cancel.title"),
        kept=portal.round_for(f"/manage/{view.code}/cancel"),
        booking=booking_card(view, catalogue, portal.t),
    )


@post("/manage/{code:str}/cancel", opt=limited("cancel"))
async def cancel(request: AnyRequest, code: FromPath[str]) -> Response[Any]:
    portal = Portal(request)
    view = await _managed(portal, code)
    if view is None:
        return portal.redirect("/manage", note="manage")
    assert portal.flow.manage_born is not None
    try:
        await portal.services.limits.enforce(request.scope, "cancel", view.code)
    except RateLimited as exc:
        # A cancelled booking has no cancel page any more: its own page says it then.
        page = f"/manage/{view.code}" + ("/cancel" if view.status == "booked" else "")
        return portal.fail(page, forms.messages(exc, portal.t))
    await portal.services.booking.cancel(view.code, portal.flow.manage_born)
    return portal.redirect(f"/manage/{view.code}", note="cancelled")


async def _eligibility(portal: Portal, view: BookingView) -> EligibilityAnswer:
    """As at booking time; for a postcode spanning districts, the district of the booked
    centre when it is one of them (the person chose a place then), else the first."""
    first, eligibility = view.persons[0], portal.services.eligibility
    catalogue = await portal.services.inventory.catalogue()
    booked = catalogue.centres[view.centre_id].district_id
    parts = [p for p in await eligibility.parts(first.postcode) if p.district_id is not None]
    district = next((p.name for p in parts if p.district_id == booked), None)
    if district is None and parts:
        district = parts[0].name
    return await eligibility.check(first.birth_date.isoformat(), first.postcode, district)


async def _rebook_page(
    portal: Portal,
    view: BookingView,
    kept: Round | None,
) -> Response[Any]:
    t = portal.t
    answer = await _eligibility(portal, view)
    persons = len(view.persons)
    offers = await choice(
        portal.services.inventory,
        answer,
        view.vaccine,
        persons,
        t,
        exclude=frozenset(a.slot_id for a in view.appointments if a.dose == 1),
    )
    catalogue = await portal.services.inventory.catalogue()
    return portal.render(
        "choose.html",
        title=t("rebook.title"),
        kept=kept,
        heading=t("rebook.title"),
        intro=t("rebook.intro"),
        show_filter=False,
        vaccines=[catalogue.vaccines[view.vaccine]],
        vaccine=view.vaccine,
        persons=persons,
        centres=offers.centres,
        nothing_free=offers.nothing_free,
        next_release=offers.next_release,
        waitlist_url=None,
        action=f"/manage/{view.code}/rebook/confirm",
        method="get",
        hidden={},
        button=t("rebook.take"),
        booking_for=None,
        partner=None,
        back_url=f"/manage/{view.code}",
        back_label=t("rebook.back"),
    )


@get("/manage/{code:str}/rebook")
async def rebook_choose(request: AnyRequest, code: FromPath[str]) -> Response[Any]:
    portal = Portal(request)
    view = await _still_booked(portal, code)
    if not isinstance(view, BookingView):
        return view  # not proven, or nothing left to change: where the person can see why
    if (held := await gate(portal, f"/manage/{view.code}/rebook")) is not None:
        return held  # taking other seats is a booking: it waits its turn in a rush
    return await _rebook_page(portal, view, portal.round_for(f"/manage/{view.code}/rebook"))


@get("/manage/{code:str}/rebook/confirm")
async def rebook_confirm(request: AnyRequest, code: FromPath[str]) -> Response[Any]:
    """The second step: the appointments given up and the new ones, and one button."""
    portal = Portal(request)
    view = await _still_booked(portal, code)
    if not isinstance(view, BookingView):
        return view  # not proven, or nothing left to change: where the person can see why
    key = request.query_params.get("offer", "")
    slot_ids = forms.parse_offer(key)
    if slot_ids is None or forms.persons_in(slot_ids) != len(view.persons):
        return portal.fail(f"/manage/{view.code}/rebook", {forms.FORM: portal.t("err.offer_gone")})
    try:
        offer, centre, address, _ = await offer_summary(portal, slot_ids)
    except NotFound:
        return portal.fail(f"/manage/{view.code}/rebook", {forms.FORM: portal.t("err.offer_gone")})
    catalogue = await portal.services.inventory.catalogue()
    return portal.render(
        "rebook_confirm.html",
        title=portal.t("rebook.confirm.title"),
        booking=booking_card(view, catalogue, portal.t),
        offer=offer,
        centre_name=centre,
        centre_address=address,
    )


@post("/manage/{code:str}/rebook", opt=limited("rebook"))
async def rebook(request: AnyRequest, code: FromPath[str]) -> Response[Any]:
    portal = Portal(request)
    view = await _managed(portal, code)
    if view is None:
        return portal.redirect("/manage", note="manage")
    if (held := await gate(portal, f"/manage/{view.code}/rebook")) is not None:
        return held
    page = f"/manage/{view.code}/rebook"
    slot_ids = forms.parse_offer(forms.text_of(await request.form(), "offer"))
    if slot_ids is None:
        return portal.fail(page, {forms.FORM: portal.t("err.offer_gone")})
    assert portal.flow.manage_born is not None
    try:
        await portal.services.limits.enforce(request.scope, "rebook", view.code)
        await portal.services.booking.rebook(view.code, portal.flow.manage_born, slot_ids)
    except SlotTaken:
        return portal.fail(page, notice=portal.t("rebook.taken"))
    except KontingentError as exc:
        return portal.fail(page, forms.messages(exc, portal.t))
    return portal.redirect(f"/manage/{view.code}", note="rebooked")


routes = [
    manage_form,
    manage_find,
    manage_view,
    cancel_confirm,
    cancel,
    rebook_choose,
    rebook_confirm,
    rebook,
]
