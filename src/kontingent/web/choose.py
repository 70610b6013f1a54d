"""Pages of the booking itself: choose an offer, enter the persons, book, see the confirmation.

Invariants kept here:
- Only offers with room for the persons asked for are shown, always with both dates.
- The persons' data travels in the form posts and, across a redirect, as a draft in the
  flow cookie (never in server state, never in a URL): a refused form comes back (303) with
  everything typed; a taken slot answers (303) with fresh offers whose buttons carry the
  typed data, so one click books again; an expired phone token keeps the draft too.
- Every POST here is answered by a redirect; after a booking, the steps before it (offers,
  persons form) lead to its confirmation, so the back button shows the booking.
- Two persons see offers only for vaccines that fit both (couples.py); "same address as
  person 1" copies the first person's address on the server, so it works without script.
- A double click books once: the details form carries an idempotency key.
- What is booked is what the offer's slots are, and every offer names its vaccine. The offer
  buttons submit the filter form with them, so a vaccine (or persons) changed there without
  pressing "show" is not booked by an offer of the previous choice: the page answers with
  offers of the new choice and says so. The details form carries the vaccine too, and the
  booking service refuses slots of another one.
- A link naming centre, vaccine and persons (the waitlist SMS) opens those offers, also after
  the person first had to go through the eligibility and phone steps.
- The day and part of day chosen in the week view (web/week.py) travel in the query of its
  links and as hidden fields of the filter form, never in the flow cookie: a link or a
  bookmark shows the same day, and changing the vaccine keeps it.
- The booking service decides everything; this module only words its answers.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from litestar import Request, Response, get, post
from litestar.params import FromPath

from kontingent.booking.model import normalise_code
from kontingent.booking.service import SlotTaken
from kontingent.errors import KontingentError, NotFound, Unauthorized
from kontingent.inventory.repository import Catalogue
from kontingent.notifications.messages import bring_along
from kontingent.ratelimit.service import limited
from kontingent.verification.model import TokenClaims
from kontingent.web import couples, forms
from kontingent.web.couples import Couple, couple_of, german_date
from kontingent.web.i18n import phone_display
from kontingent.web.page import Portal
from kontingent.web.queue import gate
from kontingent.web.session import Round
from kontingent.web.views import (
    ANY_DAY,
    OfferCard,
    address_of,
    booking_card,
    choice,
    door_ticket,
    dose_lines,
    intro_key,
    spelled,
)
from kontingent.web.week import DayChoice, offers_title, page_week

AnyRequest = Request[Any, Any, Any]
AGAIN = "/choose/again"
NO_DAY = DayChoice()


def claims_of(portal: Portal) -> TokenClaims | None:
    token = portal.flow.token
    if not token:
        return None
    try:
        return portal.services.verification.read_token(f"Bearer {token}")
    except Unauthorized:
        return None


def _not_ready(portal: Portal, wanted: str | None = None) -> Response[Any] | None:
    """Send a person who skipped a step back to it; `wanted` (the offers a link asked for)
    is kept for when they come back."""
    if wanted:
        portal.save(choose=wanted)
    if not portal.flow.born or not portal.flow.postcode:
        return portal.redirect("/eligibility", note="restart")
    if claims_of(portal) is None:
        if portal.flow.booked and portal.flow.booked_born:  # back from the confirmation
            return portal.redirect(f"/confirmation/{portal.flow.booked}")
        return portal.redirect("/phone", note="phone")
    return None


def _by_cohort(catalogue: Catalogue, codes: list[str], now: datetime) -> list[str]:
    """Vaccines of the oldest open cohort first (the campaign's main offer for that age)."""

    def rank(code: str) -> tuple[int, str]:
        ages = [c.min_age for c in catalogue.cohorts if c.is_open(now) and code in c.vaccines]
        return (-max(ages, default=0), code)

    return sorted(codes, key=rank)


async def _choice_page(
    portal: Portal,
    vaccine: str | None,
    persons: int,
    *,
    retake: dict[str, str] | None = None,
    kept: Round | None = None,
    first_centre: int | None = None,
    notice: str | None = None,
    days: DayChoice = NO_DAY,
) -> Response[Any]:
    """The offers page; with `retake`, each offer books at once with the data kept; else
    with the week view above the offers (`days`: the day and part chosen there)."""
    flow, t = portal.flow, portal.t
    assert flow.born is not None and flow.postcode is not None
    answer = await portal.services.eligibility.check(flow.born, flow.postcode, flow.district)
    catalogue = await portal.services.inventory.catalogue()
    codes = _by_cohort(catalogue, answer.decision.vaccines, portal.now)
    if not codes:
        return portal.redirect("/eligibility/result")
    pair = await couple_of(portal, catalogue, codes) if persons == 2 else None
    if pair is not None and retake is None:
        kept = portal.round_for(couples.PAGE)
    code = vaccine if vaccine in codes else codes[0]
    if pair is not None and pair.codes:
        code = vaccine if vaccine in pair.codes else pair.codes[0]
    asking = pair is not None and pair.ask
    week, when = None, ANY_DAY
    if retake is None and not asking:
        week, days, when = await page_week(
            portal, answer, catalogue, code, persons, first_centre, days
        )
        notice = notice or (t("week.dropped") if days.dropped else None)
    view = await choice(
        portal.services.inventory, answer, code, persons, t, first_centre=first_centre, when=when
    )
    waitlist = f"/waitlist?centre={view.home_id}&vaccine={code}&persons={persons}"
    common: dict[str, Any] = {
        "vaccines": [catalogue.vaccines[c] for c in (pair.codes if pair and pair.codes else codes)],
        "vaccine": code,
        "persons": persons,
        "partner": _partner_form(pair, kept),
        "centres": [] if asking else view.centres,
        "nothing_free": view.nothing_free and not asking,
        "next_release": view.next_release,
        "waitlist_url": waitlist,
        "filter_action": "/choose",
        "back_url": None,
        "kept": kept,
        "intro": t(intro_key(catalogue.vaccines[code])),
        "week": week,
        "day_fields": days.hidden(),
        "offers_title": offers_title(when, t),
    }
    if retake is None:
        return portal.render(
            "choose.html",
            title=t("choose.title"),
            heading=t("choose.title"),
            notice=notice,
            show_filter=True,
            action="/details",
            method="get",
            hidden={},
            button=None,
            booking_for=None,
            summary_for=persons,
            **common,
        )
    return portal.render(
        "choose.html",
        title=t("taken.title"),
        heading=t("taken.title"),
        show_filter=False,
        action="/book",
        method="post",
        hidden={**retake, "request_id": secrets.token_urlsafe(16)},
        booking_for=_names(retake),
        button=t("choose.take_book"),
        **common,
    )


def _partner_form(pair: Couple | None, kept: Round | None) -> dict[str, Any] | None:
    """The second person's birth date form of the offers page, for two persons."""
    if pair is None:
        return None
    value = kept.values.get(couples.FIELD, pair.born) if kept else pair.born
    return {"ask": pair.ask, "note": pair.note, "value": value}


def _names(flat: dict[str, str]) -> str:
    names = [
        f"{flat.get(f'p{i}.first_name', '')} {flat.get(f'p{i}.last_name', '')}" for i in (0, 1)
    ]
    return ", ".join(n.strip() for n in names if n.strip())


def _asked(portal: Portal, query: dict[str, str]) -> dict[str, str]:
    """What the page is asked for: the query, over what a link asked for before the steps.
    The link's wish is kept until an offer is picked: a couple is first asked for the second
    birth date, and the offers after that must still be the link's."""
    wanted = {k: v for k, v in query.items() if k in ("centre", "vaccine", "persons", "offer")}
    if not portal.flow.choose:
        return wanted
    if "offer" in wanted:
        portal.save(choose=None)
        return wanted
    kept = dict(parse_qsl(portal.flow.choose))
    return {**{k: v for k, v in kept.items() if k in ("centre", "vaccine", "persons")}, **wanted}


@get("/choose")
async def choose(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    query = dict(request.query_params.items())
    link: dict[str, str] = {k: query[k] for k in ("centre", "vaccine", "persons") if k in query}
    if (detour := _not_ready(portal, urlencode(link) if "centre" in link else None)) is not None:
        return detour
    asked = _asked(portal, query)
    persons = 2 if asked.get("persons") == "2" else 1
    vaccine, centre = asked.get("vaccine"), _int(asked.get("centre", ""))
    days = DayChoice.of(query)
    if "offer" in asked:
        return await _picked(portal, asked["offer"], vaccine, persons, days)
    return await _choice_page(portal, vaccine, persons, first_centre=centre, days=days)


@get("/choose/again")
async def choose_again(request: AnyRequest) -> Response[Any]:
    """Fresh offers after the chosen one was taken, each booking at once with the draft."""
    portal = Portal(request)
    if (detour := _not_ready(portal)) is not None:
        return detour
    flow = portal.flow
    slot_ids = forms.parse_offer(flow.offer or "")
    if slot_ids is None or not flow.draft:
        return portal.redirect("/choose", note="offer_gone")
    try:
        _, _, _, vaccine = await offer_summary(portal, slot_ids)
    except NotFound:
        vaccine = None
    kept = portal.round_for(AGAIN)
    persons = forms.persons_in(slot_ids)
    return await _choice_page(portal, vaccine, persons, retake=flow.draft, kept=kept)


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 10 else None


async def _picked(
    portal: Portal, key: str, vaccine: str | None, persons: int, days: DayChoice
) -> Response[Any]:
    """An offer's button, pressed with the filter's current choice: on to the details when
    the offer is what is chosen there, else the offers of the new choice, saying why."""
    slot_ids = forms.parse_offer(key)
    if slot_ids is None:
        return portal.redirect("/choose", note="offer_gone")
    try:
        _, _, _, offered = await offer_summary(portal, slot_ids)
    except NotFound:
        return portal.redirect("/choose", note="offer_gone")
    if (vaccine is None or vaccine == offered) and persons == forms.persons_in(slot_ids):
        return portal.redirect(f"/details?offer={key}")
    catalogue = await portal.services.inventory.catalogue()
    chosen = catalogue.vaccines.get(vaccine or offered) or catalogue.vaccines[offered]
    notice = portal.t(
        "choose.changed", vaccine=chosen.name, offered=catalogue.vaccines[offered].name
    )
    return await _choice_page(portal, chosen.code, persons, notice=notice, days=days)


async def offer_summary(portal: Portal, slot_ids: list[int]) -> tuple[OfferCard, str, str, str]:
    """The chosen offer as shown above the form: (card, centre name, address, vaccine code);
    the card names the vaccine."""
    catalogue = await portal.services.inventory.catalogue()
    states = [await portal.services.inventory.slot(i) for i in sorted(set(slot_ids))]
    centre = catalogue.centres[states[0].centre_id]
    vaccine = catalogue.vaccines[states[0].vaccine_code]
    lines = dose_lines([s.starts_at for s in states], vaccine.doses, portal.t)
    card = OfferCard("-".join(str(i) for i in slot_ids), lines, "", vaccine.name)
    return card, centre.name, address_of(centre), vaccine.code


async def _details_page(
    portal: Portal,
    slot_ids: list[int],
    people: list[dict[str, str]],
    kept: Round | None,
) -> Response[Any]:
    card, centre, address, vaccine = await offer_summary(portal, slot_ids)
    return portal.render(
        "details.html",
        title=portal.t("details.title"),
        kept=kept,
        summary_for=len(people),
        offer=card,
        centre_name=centre,
        centre_address=address,
        people=people,
        request_id=secrets.token_urlsafe(16),
        phone=phone_display(portal.flow.phone),
        vaccine=vaccine,
        one_dose=len(card.doses) == 1,
        change_url=f"/choose?vaccine={vaccine}&persons={len(people)}",
    )


def _blank_people(portal: Portal, count: int) -> list[dict[str, str]]:
    people = [dict.fromkeys(forms.PERSON_FIELDS, "") for _ in range(count)]
    people[0]["birth_date"] = german_date(portal.flow.born)
    for person in people:
        person["postcode"] = portal.flow.postcode or ""
    if count == 2:
        people[1]["birth_date"] = german_date(portal.flow.born2)
        people[1][forms.SAME_ADDRESS] = "1"  # most couples share one: unticking is one click
    return people


@get("/details")
async def details(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    if (detour := _not_ready(portal)) is not None:
        return detour
    key = request.query_params.get("offer", "")
    slot_ids = forms.parse_offer(key)
    if slot_ids is None:
        return portal.redirect("/choose", note="offer_gone")
    if (held := await gate(portal, f"/details?offer={key}")) is not None:
        return held
    count = forms.persons_in(slot_ids)
    draft = portal.flow.draft if portal.flow.offer == key else None
    people = forms.from_flat(draft, count) if draft else _blank_people(portal, count)
    kept = portal.round_for(details_page(key))
    try:
        return await _details_page(portal, slot_ids, people, kept)
    except NotFound:
        return portal.redirect("/choose", note="offer_gone")


@post("/book", opt=limited("booking"))
async def book(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    form = await request.form()
    key = forms.text_of(form, "offer")
    slot_ids = forms.parse_offer(key)
    if slot_ids is None or not portal.flow.born or not portal.flow.postcode:
        return portal.redirect("/choose", note="offer_gone")
    people = forms.person_values(form, min(forms.persons_in(slot_ids), 2))
    flat = forms.flat(people)
    people = forms.same_address(people)
    claims = claims_of(portal)
    if claims is None:  # the phone token ran out while the form was open: keep the typing
        portal.save(offer=key, draft=forms.shown(flat), token=None)
        return portal.redirect("/phone", note="expired")
    # The waiting room's door: the typed data waits as a draft while the person queues.
    held = await gate(portal, f"/details?offer={key}", offer=key, draft=forms.shown(flat))
    if held is not None:
        return held
    errors = forms.too_long(flat, portal.t)
    if errors:
        return _again(portal, key, flat, errors)
    request_id = forms.text_of(form, "request_id")
    idempotency_key = request_id if 0 < len(request_id) <= 100 else None
    room, flow = portal.services.waiting_room, portal.flow
    try:
        await portal.services.limits.enforce(request.scope, "booking", claims.phone)
        async with room.booking(flow.admission, flow.queue) as admission:
            view = await portal.services.booking.book(
                claims,
                forms.for_domain(people),
                slot_ids,
                idempotency_key=idempotency_key,
                admission=admission,
                language=portal.lang,
                vaccine=forms.text_of(form, "vaccine")[:20] or None,
            )
    except SlotTaken:
        return _retake(portal, key, flat, notice=portal.t("taken.notice"))
    except KontingentError as exc:
        return _refused(portal, exc, key, flat)
    portal.save(
        token=None,
        booked=view.code,
        booked_born=forms.iso_date(people[0]["birth_date"]),
        offer=None,
        draft=None,
        round=None,
        vid=None,  # its PIN is spent: the PIN page sends a person to ask for a new one
        queue=None,  # the admission is spent: another booking queues again
        admission=None,
    )
    return portal.redirect(f"/confirmation/{view.code}")


def details_page(key: str) -> str:
    return f"/details?offer={key}"


def _again(portal: Portal, key: str, flat: dict[str, str], errors: dict[str, str]) -> Response[Any]:
    """Back to the persons form with the messages and everything typed."""
    portal.save(offer=key, draft=forms.shown(flat))
    return portal.fail(details_page(key), errors)


def _retake(
    portal: Portal,
    key: str,
    flat: dict[str, str],
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response[Any]:
    """To fresh offers that book at once with the typed data (kept as a draft meanwhile)."""
    portal.save(offer=key, draft=forms.shown(flat))
    return portal.fail(AGAIN, errors, notice=notice)


def _refused(portal: Portal, exc: KontingentError, key: str, flat: dict[str, str]) -> Response[Any]:
    errors = forms.messages(exc, portal.t)
    if exc.code in (
        "invalid_offer",
        "unknown_slot",
        "slot_not_bookable",
        "vaccine_mismatch",
        "centre_closed",
    ):
        return _retake(portal, key, flat, errors=errors)
    if exc.code == "token_used":  # a new confirmation is needed: keep the typing meanwhile
        portal.save(token=None, offer=key, draft=forms.shown(flat))
        return portal.redirect("/phone", note="used")
    return _again(portal, key, flat, errors)


@get("/confirmation/{code:str}")
async def confirmation(request: AnyRequest, code: FromPath[str]) -> Response[Any]:
    portal = Portal(request)
    wanted = normalise_code(code)
    flow = portal.flow
    if wanted is None or flow.booked != wanted or not flow.booked_born:
        return portal.redirect("/manage", note="manage")
    view = await portal.services.booking.find(wanted, flow.booked_born)
    catalogue = await portal.services.inventory.catalogue()
    card = booking_card(view, catalogue, portal.t)
    one = catalogue.vaccines[view.vaccine].doses == 1 and len(view.persons) == 1
    title = portal.t("confirm.title.one") if one else portal.t("confirm.title")
    return portal.render(
        "confirmation.html",
        title=title,
        heading=title,
        booking=card,
        bring=bring_along(portal.t),
        code_spelled=portal.t("code.spelled", letters=spelled(view.code)),
        ticket=door_ticket(view, portal.settings.secret_key, portal.t),
    )


routes = [choose, choose_again, details, book, confirmation, *couples.routes]
