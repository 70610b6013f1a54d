"""Pages of the first steps: start, eligibility, phone number and PIN.

Invariants kept here:
- Each page asks one question; a wrong answer comes back on the same page with the typed
  value kept and a message at the field and in the summary at the top.
- A POST that succeeds redirects (303) to the next GET page, so reloading never resubmits.
- The PIN page states how long the PIN is valid, when a new one may be asked for, and what to
  do when no SMS comes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get, post

from kontingent.eligibility.model import Cohort
from kontingent.errors import KontingentError, RateLimited
from kontingent.inventory.model import local_day
from kontingent.ratelimit.service import limited
from kontingent.verification.model import PIN_VALIDITY, normalise_phone
from kontingent.verification.service import PinSent
from kontingent.web import forms
from kontingent.web.i18n import Translator, phone_display
from kontingent.web.page import Portal
from kontingent.web.queue import gate
from kontingent.web.views import home_centre

AnyRequest = Request[Any, Any, Any]


def _who(cohort: Cohort, t: Translator) -> str:
    if cohort.max_age is None:
        return t("cohort.min", age=cohort.min_age)
    return t("cohort.range", low=cohort.min_age, high=cohort.max_age)


@get("/")
async def start(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    catalogue = await portal.services.inventory.catalogue()
    t, now = portal.t, portal.now

    def names(c: Cohort) -> str:
        return t.join(sorted(catalogue.vaccines[v].name for v in c.vaccines))

    open_now = [
        {"who": _who(c, t), "vaccines": names(c)} for c in catalogue.cohorts if c.is_open(now)
    ]
    upcoming = sorted(
        (c for c in catalogue.cohorts if not c.is_open(now)), key=lambda c: c.opens_at
    )
    later = [{"who": _who(c, t), "opens": t.when(c.opens_at)} for c in upcoming]
    return portal.render(
        "start.html", title=t("start.title"), open_cohorts=open_now, next_cohorts=later
    )


@get("/eligibility")
async def eligibility_form(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    born = portal.flow.born
    values = {
        "birth_date": "" if born is None else f"{born[8:10]}.{born[5:7]}.{born[:4]}",
        "postcode": portal.flow.postcode or "",
    }
    return portal.render("eligibility.html", title=portal.t("elig.title"), values=values)


@post("/eligibility", opt=limited("eligibility"))
async def eligibility_check(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    values = forms.read(await request.form(), ("birth_date", "postcode"))
    errors, status = forms.check(values, portal.t, ("birth_date", "postcode")), 422
    if not errors:
        born = forms.iso_date(values["birth_date"])
        try:
            await portal.services.limits.enforce(request.scope, "eligibility")
            await portal.services.eligibility.check(born, values["postcode"])
        except KontingentError as exc:
            errors = forms.messages(exc, portal.t, "postcode")
            status = exc.status if isinstance(exc, RateLimited) else 422
        else:
            portal.save(born=born, postcode=values["postcode"])
            return portal.redirect("/eligibility/result")
    return portal.render(
        "eligibility.html",
        title=portal.t("elig.title"),
        status=status,
        errors=errors,
        values=forms.shown(values),
    )


@get("/eligibility/result")
async def eligibility_result(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    flow, t = portal.flow, portal.t
    if not flow.born or not flow.postcode:
        return portal.redirect("/eligibility", note="restart")
    answer = await portal.services.eligibility.check(flow.born, flow.postcode)
    decision = answer.decision
    catalogue = await portal.services.inventory.catalogue()
    result: dict[str, Any] = {"eligible": decision.eligible}
    if decision.eligible:
        home = home_centre(catalogue, flow.postcode, decision.centres)
        result["vaccines"] = t.join([catalogue.vaccines[v].name for v in decision.vaccines])
        result["home"] = home.name
        result["others"] = [catalogue.centres[c].name for c in decision.centres if c != home.id]
        result["later"] = [
            {"vaccine": catalogue.vaccines[code].name, "day": t.day(ranges[0].first)}
            for code, ranges in decision.first_dose_days.items()
            if ranges[0].first > local_day(portal.now)
        ]
    else:
        result["opens"] = t.when(decision.opens_at) if decision.opens_at else None
        result["fits_from"] = t.day(decision.fits_from) if decision.fits_from else None
    verified = portal.flow.token is not None
    return portal.render(
        "eligibility_result.html",
        title=t("result.yes.title" if decision.eligible else "result.no.title"),
        result=result,
        next_url="/choose" if verified else "/phone",
        next_label=t("result.next.choose" if verified else "result.next.phone"),
    )


@get("/phone")
async def phone_form(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    if not portal.flow.born:
        return portal.redirect("/eligibility", note="restart")
    if (held := await gate(portal, "/phone")) is not None:  # the waiting room's door
        return held
    values = {"phone": phone_display(portal.flow.phone)}
    return portal.render("phone.html", title=portal.t("phone.title"), values=values)


@post("/phone", opt=limited("pin_send"))
async def phone_send(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    if (held := await gate(portal, "/phone")) is not None:
        return held
    values = forms.read(await request.form(), ("phone",))
    errors, status = forms.check(values, portal.t, ("phone",)), 422
    if not errors:
        try:
            phone = normalise_phone(values["phone"])
            await portal.services.limits.enforce(request.scope, "pin_send", phone)
            sent = await portal.services.verification.send_pin(values["phone"], portal.lang)
        except KontingentError as exc:
            errors, status = forms.messages(exc, portal.t, "phone"), exc.status
        else:
            _remember_pin(portal, values["phone"], sent)
            return portal.redirect("/pin")
    return portal.render(
        "phone.html",
        title=portal.t("phone.title"),
        status=status,
        errors=errors,
        values=forms.shown(values),
    )


def _remember_pin(portal: Portal, typed: str, sent: PinSent) -> None:
    portal.save(
        vid=sent.verification_id,
        phone=normalise_phone(typed),
        pin_exp=int(sent.expires_at.timestamp()),
        resend_at=int(sent.resend_after.timestamp()),
        token=None,
    )


def _pin_page(portal: Portal, errors: dict[str, str], status: int = 200) -> Response[Any]:
    flow, t = portal.flow, portal.t
    expires = datetime.fromtimestamp(flow.pin_exp or 0, UTC)
    resend = datetime.fromtimestamp(flow.resend_at or 0, UTC)
    return portal.render(
        "pin.html",
        title=t("pin.title"),
        status=status,
        errors=errors,
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
    return _pin_page(portal, {})


@post("/pin", opt=limited("pin_check"))
async def pin_check(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    if not portal.flow.vid:
        return portal.redirect("/phone", note="phone")
    if (held := await gate(portal, "/pin")) is not None:
        return held
    values = forms.read(await request.form(), ("pin",))
    errors, status = forms.check(values, portal.t, ("pin",)), 422
    if not errors:
        try:
            await portal.services.limits.enforce(request.scope, "pin_check", portal.flow.vid)
            token = await portal.services.verification.check_pin(portal.flow.vid, values["pin"])
        except KontingentError as exc:
            errors = forms.messages(exc, portal.t, "pin")
            status = exc.status if isinstance(exc, RateLimited) else 422
        else:
            portal.save(token=token)
            if portal.flow.offer:  # a form was waiting for a fresh confirmation
                return portal.redirect("/details", offer=portal.flow.offer)
            return portal.redirect("/choose")
    return _pin_page(portal, errors, status=status)


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
        return _pin_page(portal, forms.messages(exc, portal.t, "_form"), status=exc.status)
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
