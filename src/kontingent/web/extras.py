"""The waitlist page and the dev mailbox page.

Invariants kept here:
- Only a phone number verified by PIN in this session can join the waitlist, so nobody can put
  someone else's number on it; joins are limited per address and per number (each entry may
  cost one SMS later), a refusal shown on the form with the choices kept.
- The dev mailbox exists in demo mode only (the route is not even mounted otherwise); it
  delivers what is queued before showing it, so it is never behind the outbox.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from kontingent.errors import KontingentError
from kontingent.inventory.schemas import berlin
from kontingent.notifications import repository as mailbox_repo
from kontingent.ratelimit.service import limited, unlimited
from kontingent.web import forms
from kontingent.web.choose import claims_of
from kontingent.web.i18n import phone_display
from kontingent.web.page import Portal

AnyRequest = Request[Any, Any, Any]


async def _waitlist_page(
    portal: Portal, values: dict[str, Any], errors: dict[str, str] | None = None, status: int = 200
) -> Response[Any]:
    catalogue = await portal.services.inventory.catalogue()
    codes: list[str] = list(catalogue.vaccines)
    centre_ids: list[int] = list(catalogue.centres)
    if portal.flow.born and portal.flow.postcode:
        answer = await portal.services.eligibility.check(portal.flow.born, portal.flow.postcode)
        codes = answer.decision.vaccines or codes
        centre_ids = answer.decision.centres or centre_ids
    return portal.render(
        "waitlist.html",
        title=portal.t("waitlist.title"),
        status=status,
        errors=errors,
        values=values,
        centres=[catalogue.centres[c] for c in centre_ids],
        vaccines=[catalogue.vaccines[c] for c in codes],
        phone=phone_display(portal.flow.phone),
    )


def _int(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


@get("/waitlist")
async def waitlist_form(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    if claims_of(portal) is None:
        return portal.redirect("/phone", note="phone")
    query = request.query_params
    values = {
        "centre": _int(query.get("centre", "")),
        "vaccine": query.get("vaccine", ""),
        "persons": 2 if query.get("persons") == "2" else 1,
    }
    return await _waitlist_page(portal, values)


@post("/waitlist", opt=limited("waitlist_join"))
async def waitlist_join(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    claims = claims_of(portal)
    if claims is None:
        return portal.redirect("/phone", note="phone")
    raw = forms.read(await request.form(), ("centre", "vaccine", "persons"))
    centre = _int(raw["centre"])
    persons = 2 if raw["persons"] == "2" else 1
    values = {"centre": centre, "vaccine": raw["vaccine"][:40], "persons": persons}
    if centre is None:
        errors = {"centre": portal.t("err.centre")}
        return await _waitlist_page(portal, values, errors, status=422)
    try:
        await portal.services.limits.enforce(request.scope, "waitlist_join", claims.phone)
        joined = await portal.services.waitlist.join(
            claims.phone, centre, raw["vaccine"], persons, portal.lang
        )
    except KontingentError as exc:
        return await _waitlist_page(portal, values, forms.messages(exc, portal.t), exc.status)
    catalogue = await portal.services.inventory.catalogue()
    t = portal.t
    lines = [
        t(
            "waitlist.done.text",
            phone=phone_display(claims.phone),
            centre=catalogue.centres[centre].name,
            vaccine=catalogue.vaccines[joined.entry.vaccine_code].name,
        )
    ]
    if joined.already:
        lines.append(t("waitlist.done.already"))
    return portal.render(
        "message.html",
        title=t("waitlist.done.title"),
        heading=t("waitlist.done.title"),
        lines=lines,
        link_url=None,
        back_url="/",
        back_label=t("page.back_start"),
    )


@get("/dev/mailbox", opt=unlimited("demo mode only; delivers what is queued, queues nothing"))
async def dev_mailbox(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    services = portal.services
    await services.relay.run_once()
    to = request.query_params.get("to", "").strip()[:254]
    if to and to.isdigit():
        to = "+" + to  # an unencoded "+49..." arrives as " 49..."
    async with services.db.read() as conn:
        rows = await mailbox_repo.mailbox(conn, to or None, 200)
    messages = [
        {
            "channel": r["channel"],
            "to": r["recipient"],
            "subject": r["subject"],
            "body": r["body"],
            "sent_at": portal.t.when(berlin(r["sent_at"])),
        }
        for r in rows
    ]
    return portal.render("mailbox.html", title=portal.t("mailbox.title"), messages=messages, to=to)


routes = [waitlist_form, waitlist_join]
demo_routes = [dev_mailbox]
