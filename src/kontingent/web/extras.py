"""The waitlist page and the dev mailbox page.

Invariants kept here:
- Only a phone number verified by PIN in this session can join the waitlist, so nobody can put
  someone else's number on it; joins are limited per address and per number (each entry may
  cost one SMS later), a refusal shown on the form with the choices kept; both the refusal
  and the success are answered by a redirect (303) to a GET page.
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
from kontingent.web.session import Round

AnyRequest = Request[Any, Any, Any]
WAITLIST = "/waitlist"
DONE = "/waitlist/done"


async def _waitlist_page(portal: Portal, values: dict[str, Any]) -> Response[Any]:
    catalogue = await portal.services.inventory.catalogue()
    kept = portal.round_for(WAITLIST)
    if kept:
        centre, persons = _int(kept.values.get("centre", "")), kept.values.get("persons")
        values = {**kept.values, "centre": centre, "persons": 2 if persons == "2" else 1}
    codes: list[str] = list(catalogue.vaccines)
    centre_ids: list[int] = list(catalogue.centres)
    flow = portal.flow
    if flow.born and flow.postcode:
        answer = await portal.services.eligibility.check(flow.born, flow.postcode, flow.district)
        codes = answer.decision.vaccines or codes
        centre_ids = answer.decision.centres or centre_ids
    return portal.render(
        "waitlist.html",
        title=portal.t("waitlist.title"),
        kept=kept,
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
    raw["vaccine"] = raw["vaccine"][:40]
    if centre is None:
        return portal.fail(WAITLIST, {"centre": portal.t("err.centre")}, raw)
    try:
        await portal.services.limits.enforce(request.scope, "waitlist_join", claims.phone)
        persons = 2 if raw["persons"] == "2" else 1
        joined = await portal.services.waitlist.join(
            claims.phone, centre, raw["vaccine"], persons, portal.lang
        )
    except KontingentError as exc:
        return portal.fail(WAITLIST, forms.messages(exc, portal.t), raw)
    done = {
        "centre": str(centre),
        "vaccine": joined.entry.vaccine_code,
        "already": "1" if joined.already else "",
    }
    portal.save(round=Round(DONE, values=done))
    return portal.redirect(DONE)


@get(DONE)
async def waitlist_done(request: AnyRequest) -> Response[Any]:
    """What the last join did; shown as often as reloaded (the round stays for this page)."""
    portal = Portal(request)
    claims, kept = claims_of(portal), portal.flow.round
    if claims is None or kept is None or kept.page != DONE:
        return portal.redirect(WAITLIST)
    catalogue = await portal.services.inventory.catalogue()
    centre = catalogue.centres.get(_int(kept.values.get("centre", "")) or 0)
    vaccine = catalogue.vaccines.get(kept.values.get("vaccine", ""))
    if centre is None or vaccine is None:
        return portal.redirect(WAITLIST)
    t = portal.t
    lines = [
        t(
            "waitlist.done.text",
            phone=phone_display(claims.phone),
            centre=centre.name,
            vaccine=vaccine.name,
        )
    ]
    if kept.values.get("already"):
        lines.append(t("waitlist.done.already"))
    return portal.render(
        "message.html",
        title=t("waitlist.done.title"),
        heading=t("waitlist.done.title"),
        kept=kept,  # kept for a reload: not dropped as shown
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


routes = [waitlist_form, waitlist_join, waitlist_done]
demo_routes = [dev_mailbox]
