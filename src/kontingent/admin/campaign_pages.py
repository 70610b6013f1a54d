"""The admin console's campaign page `/admin/campaign`: the booking window, the waiting room
and the phone share, each a form of its own.

Invariants kept here:
- Admins only; every change goes through `CampaignRules` (checked whole, audited; the room
  through the service `kontingent waiting-room set` uses) and is limited per admin.
- The page says what each setting does to what exists: the window and the room at once for
  every process, the phone share on the slots beyond the release lead of every contingent,
  new contingents taking KONTINGENT_PHONE_SHARE_PERCENT.
- Every POST answers 303; a refusal comes back to the page with what was typed.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post

from kontingent.admin.campaign_forms import AdminPage, AnyRequest, Reader, local_minute
from kontingent.admin.campaign_routes import ADMINS, CHANGES, campaign_rules
from kontingent.admin.campaign_service import CampaignChange, CampaignView
from kontingent.errors import Conflict, InvalidInput
from kontingent.staff.guards import staff_guard
from kontingent.web import forms
from kontingent.web.forms import FORM

PAGE = "/admin/campaign"
ROOM = ("waiting_room.mode", "waiting_room.opens_at", "waiting_room.rate")


def _shown(view: CampaignView, t: Any) -> dict[str, str]:
    return {
        "booking_from": local_minute(view.window.booking_from),
        "booking_until": local_minute(view.window.booking_until),
        "waiting_room.mode": view.room.mode,
        "waiting_room.opens_at": local_minute(view.room.opens_at),
        "waiting_room.rate": t.number(view.room.rate),
        "phone_share_percent": str(view.new_share_percent if len(view.share_percents) != 1
                                   else view.share_percents[0]),
    }  # fmt: skip


@get(PAGE, guards=[staff_guard], opt=ADMINS)
async def campaign_page(request: AnyRequest) -> Response[Any]:
    page = AdminPage(request)
    view = await campaign_rules(page.services).view()
    kept = page.portal.round_for(PAGE)
    values = {**_shown(view, page.t), **(kept.values if kept else {})}
    return page.render(
        "admin_campaign.html", title=page.t("admin.campaign.title"), view=view, kept=kept,
        values=values, modes=("off", "scheduled", "auto"),
    )  # fmt: skip


async def _apply(page: AdminPage, change: CampaignChange, values: dict[str, str]) -> Response[Any]:
    try:
        await campaign_rules(page.services).change(change, await page.who())
    except InvalidInput as exc:
        return page.refused(PAGE, exc, values)
    except Conflict:  # the only one: a room of one worker among several
        return page.fail(PAGE, {FORM: page.t("admin.err.room_needs_redis")}, values)
    return page.saved(PAGE)


@post(f"{PAGE}/window", guards=[staff_guard], opt=CHANGES)
async def change_window(request: AnyRequest) -> Response[Any]:
    page = AdminPage(request)
    values = forms.read(await request.form(), ("booking_from", "booking_until"))
    read = Reader(values, page)
    start, end = read.minute("booking_from"), read.minute("booking_until")
    if read.errors:
        return page.fail(PAGE, read.errors, values)
    return await _apply(page, CampaignChange(booking_from=start, booking_until=end), values)


@post(f"{PAGE}/waiting-room", guards=[staff_guard], opt=CHANGES)
async def change_room(request: AnyRequest) -> Response[Any]:
    page = AdminPage(request)
    values = forms.read(await request.form(), ROOM)
    read = Reader(values, page)
    opens = read.minute("waiting_room.opens_at", optional=True)
    rate = read.decimal("waiting_room.rate")
    if read.errors:
        return page.fail(PAGE, read.errors, values)
    change = CampaignChange(
        mode=values["waiting_room.mode"] or "?", opens_at=opens, clear_opening=opens is None,
        rate=rate,
    )  # fmt: skip
    return await _apply(page, change, values)


@post(f"{PAGE}/phone-share", guards=[staff_guard], opt=CHANGES)
async def change_share(request: AnyRequest) -> Response[Any]:
    page = AdminPage(request)
    values = forms.read(await request.form(), ("phone_share_percent",))
    read = Reader(values, page)
    percent = read.whole("phone_share_percent")
    if read.errors:
        return page.fail(PAGE, read.errors, values)
    return await _apply(page, CampaignChange(phone_share_percent=percent), values)


routes = [campaign_page, change_window, change_room, change_share]
