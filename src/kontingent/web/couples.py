"""Booking for two: the second person's birth date, and the vaccines that fit both.

Invariants kept here:
- Offers for two are shown only once the second person's birth date is known, and only for
  vaccines open to both persons now: a couple never picks a vaccine one of them cannot have.
  When the two ages allow different vaccines the page says which ones fit both; when none
  does, it says so and offers no slots at all (each books alone, or calls the hotline).
- The birth date travels in the flow cookie, never in a URL; a wrong one comes back on the
  offers page (303, then the page shows the round) with what was typed kept.
- The booking service checks both persons again when booking: this page only spares people
  a form that could not succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, post

from kontingent.errors import KontingentError
from kontingent.inventory.repository import Catalogue
from kontingent.ratelimit.service import limited
from kontingent.web import forms
from kontingent.web.page import Portal

AnyRequest = Request[Any, Any, Any]
FIELD = "p1.birth_date"  # the second person's birth date, named as on the persons form
PAGE = "/choose?persons=2"


@dataclass(frozen=True, slots=True)
class Couple:
    codes: list[str]  # vaccines open to both, in the order of the first person's
    note: str | None  # which vaccines fit both, when not all of the first person's do
    ask: bool  # offers wait for the second person's (or another) birth date
    born: str  # the second person's birth date as typed (DD.MM.YYYY), or ""


def german_date(iso: str | None) -> str:
    return f"{iso[8:10]}.{iso[5:7]}.{iso[:4]}" if iso else ""


async def couple_of(portal: Portal, catalogue: Catalogue, first_codes: list[str]) -> Couple:
    """What the offers page may show two persons, given the first person's vaccines."""
    born2, postcode, t = portal.flow.born2, portal.flow.postcode, portal.t
    if not born2 or not postcode:
        return Couple([], None, True, "")
    answer = await portal.services.eligibility.check(born2, postcode)
    both = [c for c in first_codes if c in answer.decision.vaccines]
    if not both:
        return Couple([], t("couple.none"), True, german_date(born2))
    names = t.join([catalogue.vaccines[c].name for c in both])
    note = t("couple.fits_both", vaccines=names) if both != first_codes else None
    return Couple(both, note, False, german_date(born2))


@post("/choose/partner", opt=limited("eligibility"))
async def partner(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    if not portal.flow.born or not portal.flow.postcode:
        return portal.redirect("/eligibility", note="restart")
    values = forms.read(await request.form(), (FIELD,))
    errors = forms.check(values, portal.t, (FIELD,))
    if not errors:
        born = forms.iso_date(values[FIELD])
        try:
            await portal.services.limits.enforce(request.scope, "eligibility")
            await portal.services.eligibility.check(born, portal.flow.postcode)
        except KontingentError as exc:
            errors = {FIELD: next(iter(forms.messages(exc, portal.t, FIELD).values()))}
        else:
            portal.save(born2=born)
            return portal.redirect(PAGE)
    return portal.fail(PAGE, errors, values)


routes = [partner]
