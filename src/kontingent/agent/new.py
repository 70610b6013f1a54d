"""New booking for a caller, steps 1 and 2: birth date(s) and postcode, then the eligibility
answer in plain words with the vaccines that fit (both persons, for a couple).

Invariants kept here:
- The birth dates and the postcode travel in the desk cookie (agent/session.py), never in a
  URL; a refused step comes back (303) with what was typed and the summary focused.
- Starting a new booking clears the desk: nothing of the previous caller is shown again.
- The eligibility answer is the eligibility service's (the portal's rules), asked for each
  person; the console only words it, with the portal's texts, so both channels say the same.
- A couple is offered only vaccines open to both; when none fits both, the page says so and
  leads nowhere but back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Response, get, post

from kontingent.agent.console import AnyRequest, Console
from kontingent.agent.pages import AGENTS
from kontingent.eligibility.service import EligibilityAnswer
from kontingent.errors import KontingentError
from kontingent.i18n import Translator
from kontingent.inventory.repository import Catalogue
from kontingent.ratelimit.service import limited
from kontingent.staff.guards import staff_guard
from kontingent.web import forms
from kontingent.web.couples import german_date

PAGE = "/agent/new"
SECOND = "p1.birth_date"  # the second person's, named as the portal names it
FIELDS = ("birth_date", SECOND, "postcode")


@dataclass(frozen=True, slots=True)
class Answer:
    """One person's eligibility, worded."""

    born: str  # as the page shows it (DD.MM.YYYY)
    eligible: bool
    why: str  # the plain-word reason: the vaccines open, or when it opens, or never


def _valid_date(text: str) -> str | None:
    iso = forms.iso_date(text)
    try:
        date.fromisoformat(iso)
    except ValueError:
        return None
    return iso


@get(PAGE, guards=[staff_guard], opt=AGENTS)
async def step_one(request: AnyRequest) -> Response[Any]:
    console = Console(request)
    desk, kept = console.desk, console.portal.round_for(PAGE)
    values = {name: "" for name in FIELDS}
    if request.query_params.get("change"):  # back from step 2: the call goes on
        values = {
            "birth_date": german_date(desk.born),
            SECOND: german_date(desk.born2),
            "postcode": desk.postcode or "",
        }
    return console.render(
        "agent_new.html",
        title=console.t("agent.new.title"),
        kept=kept,
        values={**values, **(kept.values if kept else {})},
    )


@post(PAGE, guards=[staff_guard], opt={**AGENTS, **limited("eligibility")})
async def step_one_sent(request: AnyRequest) -> Response[Any]:
    console = Console(request)
    t = console.t
    values = forms.read(await request.form(), FIELDS)
    errors = forms.check(values, t, ("birth_date", "postcode"))
    dates = {n: _valid_date(values[n]) for n in ("birth_date", SECOND) if values[n]}
    for name, iso in dates.items():
        if iso is None and name not in errors:
            errors[name] = t("err.date.format")
    code = values["postcode"]
    if code and not (len(code) == 5 and code.isascii() and code.isdigit()):
        errors.setdefault("postcode", forms.describe("postcode", "format", t))
    if not errors:
        errors = await _refusals(console, request, dates, values["postcode"])
    if errors:
        return console.fail(PAGE, errors, values)
    console.save(
        born=dates["birth_date"], born2=dates.get(SECOND), postcode=values["postcode"],
        draft=None, search=None, booked=None,
    )  # fmt: skip
    return console.redirect("/agent/new/check")


async def _refusals(
    console: Console, request: AnyRequest, dates: dict[str, str | None], postcode: str
) -> dict[str, str]:
    """What the eligibility service refuses in the birth dates and the postcode, by field."""
    try:
        await console.services.limits.enforce(request.scope, "eligibility")
        for name, iso in dates.items():
            try:
                await console.services.eligibility.check(iso or "", postcode)
            except KontingentError as exc:
                found = forms.messages(exc, console.t, "postcode")
                return {(name if k == "birth_date" else k): v for k, v in found.items()}
    except KontingentError as exc:  # the limit
        return forms.messages(exc, console.t)
    return {}


async def answers(console: Console, catalogue: Catalogue) -> tuple[list[Answer], list[str]]:
    """Each person's worded answer, and the vaccine codes open to all of them."""
    desk, t = console.desk, console.t
    found, codes = [], None
    for born in (b for b in (desk.born, desk.born2) if b):
        answer = await console.services.eligibility.check(born, desk.postcode or "")
        why = _why(answer, catalogue, t)
        found.append(Answer(german_date(born), answer.decision.eligible, why))
        mine = answer.decision.vaccines if answer.decision.eligible else []
        codes = mine if codes is None else [c for c in codes if c in mine]
    return found, codes or []


def _why(answer: EligibilityAnswer, catalogue: Catalogue, t: Translator) -> str:
    decision = answer.decision
    if decision.eligible:
        names = t.join([catalogue.vaccines[c].name for c in decision.vaccines])
        return t.plural(
            "result.yes.vaccines", "result.yes.vaccines.plural", len(decision.vaccines),
            vaccines=names,
        )  # fmt: skip
    if decision.opens_at:
        return t("result.no.opens", when=t.moment(decision.opens_at))
    if decision.fits_from:
        return t("result.no.birthday", day=t.day(decision.fits_from))
    return t("result.no.never")


@get("/agent/new/check", guards=[staff_guard], opt=AGENTS)
async def step_two(request: AnyRequest) -> Response[Any]:
    console = Console(request)
    if not console.desk.born or not console.desk.postcode:
        return console.redirect(PAGE, note="restart")
    catalogue = await console.services.inventory.catalogue()
    people, codes = await answers(console, catalogue)
    all_yes = all(a.eligible for a in people)
    return console.render(
        "agent_check.html",
        title=console.t("agent.check.title"),
        people=people,
        couple=len(people) == 2,
        all_yes=all_yes,
        vaccines=[catalogue.vaccines[c].name for c in codes] if all_yes else [],
        postcode=console.desk.postcode,
    )


routes = [step_one, step_one_sent, step_two]
