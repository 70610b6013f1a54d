"""New booking for a caller, steps 3 and 4: the offers (home district's centre first, then
the nearest with free pairs, both dates side by side), then the persons, then book.

Invariants kept here:
- Offers come from `AgentDesk.offers` and the booking is `AgentDesk.book`: the console has no
  booking path of its own (one atomic use case for web and phone, audited there).
- The persons typed on the details form are kept in the desk cookie on every POST (a draft),
  so a refusal, or an offer taken meanwhile, never loses the agent's typing; the draft is
  dropped once the booking is made.
- A double submit books once: the form carries an idempotency key.
- The birth dates are those of step 1: they are shown, not typed again.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Response, get, post

from kontingent.agent.console import CHANNEL, AnyRequest, Console
from kontingent.agent.new import answers
from kontingent.agent.offer_views import centre_choices
from kontingent.agent.pages import AGENTS
from kontingent.agent.service import AgentOffers, OfferQuery
from kontingent.booking.service import SlotTaken
from kontingent.errors import KontingentError, NotFound
from kontingent.i18n import N_
from kontingent.inventory.pairing import PARTS
from kontingent.ratelimit.service import limited
from kontingent.staff.guards import staff_guard
from kontingent.web import forms
from kontingent.web.choose import offer_summary
from kontingent.web.couples import german_date

OFFERS = "/agent/new/offers"
DETAILS = "/agent/new/details"
PART_TEXT = {
    "morning": N_("agent.part.morning"),
    "afternoon": N_("agent.part.afternoon"),
    "evening": N_("agent.part.evening"),
}


def wish_of(console: Console) -> dict[str, str]:
    """The offers page's filter as asked: vaccine, day (DD.MM.YYYY) and part of day."""
    query = console.request.query_params
    return {k: (query.get(k) or "")[:20] for k in ("vaccine", "day", "part")}


def query_of(console: Console, wish: dict[str, str]) -> tuple[OfferQuery, dict[str, str]]:
    """The use case's query for the desk's persons and the filter, and what is wrong with it."""
    desk, errors = console.desk, {}
    day = None
    if wish["day"]:
        try:
            day = date.fromisoformat(forms.iso_date(wish["day"]))
        except ValueError:
            errors["day"] = console.t("err.date.format")
    part = wish["part"] if wish["part"] in PARTS else None
    query = OfferQuery(
        birth_date=date.fromisoformat(desk.born or ""), postcode=desk.postcode or "",
        persons=desk.persons, vaccine=wish["vaccine"] or None,
        partner_birth_date=date.fromisoformat(desk.born2) if desk.born2 else None,
        day=day, part=part,
    )  # fmt: skip
    return query, errors


async def offers_of(console: Console, query: OfferQuery) -> AgentOffers:
    username = console.principal.username
    await console.services.limits.enforce(console.request.scope, "agent_offers", username)
    return await console.agent_desk.offers(console.principal, query, CHANNEL, console.ip)


async def offers_page(
    console: Console,
    found: AgentOffers | None,
    wish: dict[str, str],
    errors: dict[str, str],
    *,
    take: str,
    heading: str,
    step: int | None,
    vaccine_codes: list[str],
) -> Response[Any]:
    """The offers screen, for a new booking and for a rebooking (`take`: where an offer's
    button leads, its key and vaccine appended)."""
    catalogue = await console.services.inventory.catalogue()
    choices = centre_choices(found, catalogue, console.t) if found else []
    wish = {**wish, "vaccine": wish["vaccine"] or (found.vaccine or "" if found else "")}
    return console.render(
        "agent_offers.html", title=heading, heading=heading, step=step, errors=errors,
        choices=choices, take=take, wish=wish, action=console.request.url.path,
        vaccines=[catalogue.vaccines[c] for c in vaccine_codes if c in catalogue.vaccines],
        parts=[(p, console.t(k)) for p, k in PART_TEXT.items()],
        persons=console.desk.persons,
    )  # fmt: skip


@get(OFFERS, guards=[staff_guard], opt={**AGENTS, **limited("agent_offers")})
async def step_three(request: AnyRequest) -> Response[Any]:
    console = Console(request)
    if (done := _after_booking(console)) is not None:
        return done
    wish = wish_of(console)
    query, errors = query_of(console, wish)
    found, catalogue = None, await console.services.inventory.catalogue()
    try:
        found = await offers_of(console, query)
    except KontingentError as exc:
        errors.update(forms.messages(exc, console.t))
    if found is not None and not found.eligible:  # step 2 says why, in plain words
        return console.redirect("/agent/new/check")
    codes = found.vaccines if found else (await answers(console, catalogue))[1]
    return await offers_page(
        console, found, wish, errors, take=DETAILS,
        heading=console.t("agent.offers.title"), step=3, vaccine_codes=codes,
    )  # fmt: skip


def _people(console: Console, draft: dict[str, str]) -> list[dict[str, str]]:
    desk = console.desk
    people = forms.from_flat(draft, desk.persons)
    for person, born in zip(people, (desk.born, desk.born2), strict=False):
        person["birth_date"] = german_date(born)
        person["postcode"] = person["postcode"] or (desk.postcode or "")
    if len(people) == 2 and not draft:
        people[1][forms.SAME_ADDRESS] = "1"  # a couple mostly lives together
    return people


@get(DETAILS, guards=[staff_guard], opt=AGENTS)
async def step_four(request: AnyRequest) -> Response[Any]:
    console = Console(request)
    if (done := _after_booking(console)) is not None:
        return done
    key = request.query_params.get("offer", "")
    vaccine = request.query_params.get("vaccine", "")[:20]
    slots = forms.parse_offer(key)
    if slots is None or forms.persons_in(slots) != console.desk.persons:
        return console.redirect(OFFERS, note="offer")
    try:
        card, centre, address, offered = await offer_summary(console.portal, slots)
    except NotFound:
        return console.redirect(OFFERS, note="taken")
    kept = console.portal.round_for(details_page(key, vaccine))
    draft = {**(console.desk.draft or {}), **(kept.values if kept else {})}
    return console.render(
        "agent_details.html", title=console.t("agent.details.title"), kept=kept,
        people=_people(console, draft), phone=draft.get("phone", ""),
        offer=card, centre=centre, address=address, vaccine=vaccine or offered,
        request_id=secrets.token_urlsafe(16), summary_for=console.desk.persons,
        change_url=f"{OFFERS}?vaccine={vaccine or offered}",
    )  # fmt: skip


def details_page(key: str, vaccine: str) -> str:
    return f"{DETAILS}?{urlencode({'offer': key, 'vaccine': vaccine})}"


@post(DETAILS, guards=[staff_guard], opt={**AGENTS, **limited("agent_booking")})
async def book(request: AnyRequest) -> Response[Any]:
    console = Console(request)
    if (done := _after_booking(console)) is not None:
        return done
    desk = console.desk
    form = await request.form()
    key, vaccine = forms.text_of(form, "offer"), forms.text_of(form, "vaccine")[:20]
    slots = forms.parse_offer(key)
    if slots is None or forms.persons_in(slots) != desk.persons:
        return console.redirect(OFFERS, note="offer")
    people = forms.person_values(form, desk.persons)
    typed = {**forms.flat(people), "phone": forms.text_of(form, "phone")}
    console.save(draft=forms.shown(typed))
    errors = _missing(console, people, typed["phone"])
    if errors:
        return console.fail(details_page(key, vaccine), errors, typed)
    persons = _for_domain(console, people, typed["phone"])
    try:
        await console.services.limits.enforce(
            request.scope, "agent_booking", console.principal.username
        )
        view = await console.agent_desk.book(
            console.principal, persons, slots, forms.text_of(form, "request_id") or None,
            CHANNEL, console.ip, language=console.portal.lang, vaccine=vaccine or None,
        )  # fmt: skip
    except SlotTaken:
        return console.redirect(OFFERS, vaccine=vaccine, note="taken")
    except KontingentError as exc:
        return console.fail(details_page(key, vaccine), refusals(console, exc), typed)
    console.save(draft=None, born=None, born2=None, postcode=None, booked=view.code)
    return console.redirect(f"/agent/bookings/{view.code}", note="booked")


def refusals(console: Console, exc: KontingentError) -> dict[str, str]:
    """The use case's refusal by form field; the caller's number is the one `phone` field
    (any number, mobile or landline, where the portal's words ask for a mobile)."""
    found = forms.messages(exc, console.t)
    if exc.code == "invalid_phone":
        return {"phone": console.t("agent.err.phone")}
    return {("phone" if k.endswith(".phone") else k): v for k, v in found.items()}


def _after_booking(console: Console) -> Response[Any] | None:
    """A step asked for again once the call's booking is made (the back button, a double
    submit): its screen, not an empty step 1; None while the booking is still to make."""
    desk = console.desk
    if desk.born and desk.postcode:
        return None
    if desk.booked:
        return console.redirect(f"/agent/bookings/{desk.booked}")
    return console.redirect("/agent/new", note="restart")


REQUIRED = ("first_name", "last_name", "street", "house_number", "postcode", "city")


def _missing(console: Console, people: list[dict[str, str]], phone: str) -> dict[str, str]:
    """Empty required fields and overlong ones; a person with "same address" needs none."""
    flat: dict[str, str] = {}
    required = []
    for i, person in enumerate(people):
        skip = forms.ADDRESS_FIELDS if person.get(forms.SAME_ADDRESS) else ()
        for name in REQUIRED:
            flat[f"p{i}.{name}"] = person.get(name, "")
            if name not in skip:
                required.append(f"p{i}.{name}")
        flat[f"p{i}.email"] = person.get("email", "")
    errors = forms.check({**flat, "phone": phone}, console.t, [*required, "phone"])
    if "phone" in errors and not phone:
        errors["phone"] = console.t("err.missing", label=console.t("agent.field.phone"))
    return errors


def _for_domain(console: Console, people: list[dict[str, str]], phone: str) -> list[dict[str, str]]:
    """The persons as the use case takes them: step 1's birth dates, the caller's number."""
    desk = console.desk
    persons = forms.for_domain(forms.same_address(people))
    for person, born in zip(persons, (desk.born, desk.born2), strict=False):
        person["birth_date"] = born or ""
        person["phone"] = phone
    return persons


routes = [step_three, step_four, book]
