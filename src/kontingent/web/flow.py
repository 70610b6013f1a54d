"""Pages of the first steps: start, eligibility, phone number and PIN.

Invariants kept here:
- Each page asks one question; a wrong answer comes back on the same page with the typed
  value kept and a message at the field and in the summary at the top.
- Every POST redirects (303): on success to the next GET page, on a wrong answer back to its
  own GET page, which shows the failed round once; so back and reload never resubmit.
- The PIN page states how long the PIN is valid, when a new one may be asked for, and what to
  do when no SMS comes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get, post

from kontingent.errors import KontingentError
from kontingent.inventory.model import local_day
from kontingent.ratelimit.service import limited
from kontingent.verification.model import PIN_VALIDITY, normalise_phone
from kontingent.verification.service import PinSent
from kontingent.web import cohorts, forms
from kontingent.web.i18n import phone_display
from kontingent.web.page import Portal, with_kept
from kontingent.web.queue import gate
from kontingent.web.session import Round
from kontingent.web.views import home_centre

AnyRequest = Request[Any, Any, Any]


@get("/")
async def start(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    catalogue = await portal.services.inventory.catalogue()
    context = cohorts.start_context(portal, catalogue)  # the same rules as the check
    return portal.render("start.html", title=portal.t("start.title"), **context)


@get("/eligibility")
async def eligibility_form(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    born = portal.flow.born
    values = {
        "birth_date": "" if born is None else f"{born[8:10]}.{born[5:7]}.{born[:4]}",
        "postcode": portal.flow.postcode or "",
    }
    kept = portal.round_for("/eligibility")
    return portal.render(
        "eligibility.html",
        title=portal.t("elig.title"),
        kept=kept,
        values=with_kept(values, kept),
        **await _postcode_help(portal, kept),
    )


async def _postcode_help(portal: Portal, kept: Round | None) -> dict[str, Any]:
    """Beside a refused postcode, after the redirect: the places to choose from, or where to
    book instead. Worked out again from the kept values (the cookie holds no lists)."""
    if kept is None or not {"postcode", "district"} & kept.errors.keys():
        return {}
    try:
        born = forms.iso_date(kept.values.get("birth_date", ""))
        await portal.services.eligibility.check(born, kept.values.get("postcode", ""))
    except KontingentError as exc:
        return forms.postcode_help(exc, portal.t)
    except ValueError:  # the birth date was refused: nothing asked about the postcode yet
        return {}
    return {}


async def _district(portal: Portal, postcode: str, chosen: str) -> str | None:
    """The district chosen on the page, if it is one of this postcode's (the postcode may
    have been changed since the places were listed)."""
    parts = await portal.services.eligibility.parts(postcode)
    return chosen if chosen and chosen in {p.name for p in parts} else None


@post("/eligibility", opt=limited("eligibility"))
async def eligibility_check(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    values = forms.read(await request.form(), ("birth_date", "postcode", "district"))
    errors = forms.check(values, portal.t, ("birth_date", "postcode"))
    if not errors:
        born = forms.iso_date(values["birth_date"])
        try:
            await portal.services.limits.enforce(request.scope, "eligibility")
            district = await _district(portal, values["postcode"], values["district"])
            await portal.services.eligibility.check(born, values["postcode"], district)
        except KontingentError as exc:
            errors = forms.messages(exc, portal.t, "postcode")
        else:
            portal.save(born=born, postcode=values["postcode"], born2=None, district=district)
            return portal.redirect("/eligibility/result")
    return portal.fail("/eligibility", errors, values)


@get("/eligibility/result")
async def eligibility_result(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    flow, t = portal.flow, portal.t
    if not flow.born or not flow.postcode:
        return portal.redirect("/eligibility", note="restart")
    answer = await portal.services.eligibility.check(flow.born, flow.postcode, flow.district)
    decision = answer.decision
    catalogue = await portal.services.inventory.catalogue()
    result: dict[str, Any] = {"eligible": decision.eligible}
    if decision.eligible:
        home = home_centre(catalogue, answer.district_id, decision.centres)
        result["vaccines"] = t.join([catalogue.vaccines[v].name for v in decision.vaccines])
        result["vaccine_count"] = len(decision.vaccines)
        result["home"] = home.name
        result["others"] = [catalogue.centres[c].name for c in decision.centres if c != home.id]
        result["later"] = [
            {"vaccine": catalogue.vaccines[code].name, "day": t.day(ranges[0].first)}
            for code, ranges in decision.first_dose_days.items()
            if ranges[0].first > local_day(portal.now)
        ]
        result["advice"] = await cohorts.advice_context(portal, catalogue, decision)
    else:
        result["opens"] = t.moment(decision.opens_at) if decision.opens_at else None
        result["fits_from"] = t.day(decision.fits_from) if decision.fits_from else None
    verified = portal.flow.token is not None
    return portal.render(
        "eligibility_result.html",
        title=t("result.yes.title") if decision.eligible else t("result.no.title"),
        result=result,
        next_url="/choose" if verified else "/phone",
        next_label=t("result.next.choose") if verified else t("result.next.phone"),
    )


@get("/phone")
async def phone_form(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    if not portal.flow.born:
        return portal.redirect("/eligibility", note="restart")
    if (held := await gate(portal, "/phone")) is not None:  # the waiting room's door
        return held
    values = {"phone": phone_display(portal.flow.phone)}
    kept = portal.round_for("/phone")
    return portal.render(
        "phone.html", title=portal.t("phone.title"), kept=kept, values=with_kept(values, kept)
    )


@post("/phone", opt=limited("pin_send"))
async def phone_send(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    if (held := await gate(portal, "/phone")) is not None:
        return held
    values = forms.read(await request.form(), ("phone",))
    errors = forms.check(values, portal.t, ("phone",))
    if not errors:
        try:
            phone = normalise_phone(values["phone"])
            await portal.services.limits.enforce(request.scope, "pin_send", phone)
            sent = await portal.services.verification.send_pin(values["phone"], portal.lang)
        except KontingentError as exc:
            errors = forms.messages(exc, portal.t, "phone")
        else:
            _remember_pin(portal, values["phone"], sent)
            return portal.redirect("/pin")
    return portal.fail("/phone", errors, values)


def _remember_pin(portal: Portal, typed: str, sent: PinSent) -> None:
    portal.save(
        vid=sent.verification_id,
        phone=normalise_phone(typed),
        pin_exp=int(sent.expires_at.timestamp()),
        resend_at=int(sent.resend_after.timestamp()),
        token=None,
    )


def _pin_page(portal: Portal) -> Response[Any]:
    flow, t = portal.flow, portal.t
    kept = portal.round_for("/pin")  # a PIN is never put back: the field stays empty
    expires = datetime.fromtimestamp(flow.pin_exp or 0, UTC)
    resend = datetime.fromtimestamp(flow.resend_at or 0, UTC)
    return portal.render(
        "pin.html",
        title=t("pin.title"),
        kept=kept,
        values={"pin": ""},
        phone=phone_display(flow.phone),
        minutes=int(PIN_VALIDITY.total_seconds() // 60),
        valid_until=t.time(expires),
        resend_at=t.time(resend),
    )


@get("/pin")
async def pin_form(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    if not portal.flow.vid:
        return portal.redirect("/phone", note="phone")
    if (held := await gate(portal, "/pin")) is not None:
        return held
    return _pin_page(portal)


@post("/pin", opt=limited("pin_check"))
async def pin_check(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    if not portal.flow.vid:
        return portal.redirect("/phone", note="phone")
    if (held := await gate(portal, "/pin")) is not None:
        return held
    values = forms.read(await request.form(), ("pin",))
    errors = forms.check(values, portal.t, ("pin",))
    if not errors:
        try:
            await portal.services.limits.enforce(request.scope, "pin_check", portal.flow.vid)
            token = await portal.services.verification.check_pin(portal.flow.vid, values["pin"])
        except KontingentError as exc:
            errors = forms.messages(exc, portal.t, "pin")
        else:
            portal.save(token=token)
            if portal.flow.offer:  # a form was waiting for a fresh confirmation
                return portal.redirect("/details", offer=portal.flow.offer)
            return portal.redirect("/choose")
    return portal.fail("/pin", errors)


@post("/pin/resend", opt=limited("pin_send"))
async def pin_resend(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    if not portal.flow.phone:
        return portal.redirect("/phone", note="phone")
    if (held := await gate(portal, "/pin")) is not None:
        return held
    try:
        await portal.services.limits.enforce(request.scope, "pin_send", portal.flow.phone)
        sent = await portal.services.verification.send_pin(portal.flow.phone, portal.lang)
    except KontingentError as exc:
        return portal.fail("/pin", forms.messages(exc, portal.t, forms.FORM))
    _remember_pin(portal, portal.flow.phone, sent)
    return portal.redirect("/pin", note="resent")


routes = [
    start,
    eligibility_form,
    eligibility_check,
    eligibility_result,
    phone_form,
    phone_send,
    pin_form,
    pin_check,
    pin_resend,
]
