"""HTTP: `GET|PATCH /api/v1/admin/campaign` (the booking window, the waiting room, the phone
share), and what the admin API routes share: the guard, the limit, who acts.

Admins only; every PATCH is limited per admin (`admin_settings`) and audited.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, Router, get, patch
from litestar.di import NamedDependency
from litestar.params import JSONBody

from kontingent.admin.campaign_schemas import CampaignOut, CampaignPatch
from kontingent.admin.campaign_service import CampaignRules, Who
from kontingent.ratelimit.service import limited
from kontingent.services import Services
from kontingent.staff.audit import Actor, Channel
from kontingent.staff.guards import principal_of, staff_guard, staff_only
from kontingent.staff.model import Role

AnyRequest = Request[Any, Any, Any]
ADMINS = staff_only(Role.admin)
CHANGES = {**ADMINS, **limited("admin_settings")}


async def acting(services: Services, request: AnyRequest, channel: str = Channel.api) -> Who:
    """Who acts, once the admin's limit allows one more change."""
    principal = principal_of(request)
    await services.limits.enforce(request.scope, "admin_settings", principal.username)
    return Who(Actor.of(principal), channel, services.limits.address_of(request.scope))


def campaign_rules(services: Services) -> CampaignRules:
    settings = services.settings
    return CampaignRules(
        services.db, services.clock, services.inventory, services.waiting_room,
        release_lead=timedelta(hours=settings.phone_release_hours),
        new_share_percent=settings.phone_share_percent,
        room_shared=bool(settings.redis_url) or settings.workers == 1,
    )  # fmt: skip


@get(
    "/campaign",
    guards=[staff_guard],
    opt=ADMINS,
    description="The booking window, the waiting room (as `kontingent waiting-room status` "
    "shows it) and the phone shares of the contingents.",
)
async def show_campaign(services: NamedDependency[Services]) -> CampaignOut:
    return CampaignOut.of(await campaign_rules(services).view())


@patch(
    "/campaign",
    guards=[staff_guard],
    opt=CHANGES,
    description="Change what the body names. `booking_from`/`booking_until`: the window in "
    "which slots may be booked (every process follows at once). `waiting_room`: `mode`, "
    "`opens_at` (a whole minute; null: none), `rate` (admissions per second), as `kontingent "
    "waiting-room set` does. `phone_share_percent`: re-spread over every contingent's slots "
    "starting more than KONTINGENT_PHONE_RELEASE_HOURS ahead, as `kontingent phone-share` "
    "does for one (slots within that time and seats already booked keep theirs; contingents "
    "recorded later get KONTINGENT_PHONE_SHARE_PERCENT). Each part audited; a refusal (422) "
    "names every wrong field and changes nothing.",
)
async def change_campaign(
    services: NamedDependency[Services], request: AnyRequest, data: JSONBody[CampaignPatch]
) -> CampaignOut:
    who = await acting(services, request)
    return CampaignOut.of(await campaign_rules(services).change(data.change(), who))


router = Router("/admin", route_handlers=[show_campaign, change_campaign], tags=["staff", "admin"])
