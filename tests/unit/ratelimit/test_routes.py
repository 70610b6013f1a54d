"""Every route the application registers that sends a message or changes state names the rate
limit it enforces (or why it needs none), and that limit exists: walked over the app itself,
so a new route cannot be added without deciding. No I/O: the app is built, never served."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, post

from kontingent.app import create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.errors import RateLimited
from kontingent.ratelimit.model import Limit
from kontingent.ratelimit.service import (
    RATE_LIMIT_OPT,
    UNLIMITED_OPT,
    Action,
    RateLimits,
    actions_from,
    limited,
)
from kontingent.ratelimit.stores import MemoryRateLimiter
from tests.support import T0

READ_ONLY = {"GET", "HEAD", "OPTIONS"}
# GETs that change something all the same: they are walked like the other methods.
SIDE_EFFECT_GETS = {
    "/warteschlange": "the queue page draws a ticket for a visitor without one",
    "/dev/mailbox": "the dev mailbox page runs the relay before showing what was sent",
    "/api/v1/admin/exports/bookings.csv": "an export writes its audit row",
    "/api/v1/admin/exports/stats.csv": "an export writes its audit row",
    "/admin/exports/bookings.csv": "an export writes its audit row",
    "/admin/exports/stats.csv": "an export writes its audit row",
}


def demo_app() -> Litestar:
    """Every route there is: demo mode mounts the dev routes too."""
    return create_app(Settings(demo=True, database_url="sqlite+aiosqlite:///:memory:"))


def handlers(app: Litestar) -> list[tuple[str, set[str], Any]]:
    """(path, methods, handler) of every route handler of `app`."""
    return [
        (route.path, set(handler.http_methods), handler)
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
    ]


def unlimited_routes(app: Litestar) -> list[str]:
    """What is wrong with the rate-limit markers of `app`'s routes, one line per handler."""
    actions = actions_from(Settings())
    problems = []
    for path, methods, handler in handlers(app):
        side_effect = "GET" in methods and path in SIDE_EFFECT_GETS
        if methods <= READ_ONLY and not side_effect:
            continue
        where = f"{'|'.join(sorted(methods))} {path}"
        named, reason = handler.opt.get(RATE_LIMIT_OPT), handler.opt.get(UNLIMITED_OPT)
        if not named and not reason:
            problems.append(f"{where}: names no rate limit: opt=limited(...) or unlimited(why)")
        for action in named or ():
            if action not in actions:
                problems.append(f"{where}: names {action!r}, which is no configured action")
    return problems


def test_every_route_that_sends_or_changes_names_a_configured_limit() -> None:
    app = demo_app()
    assert unlimited_routes(app) == []
    paths = {path for path, _, _ in handlers(app)}
    assert set(SIDE_EFFECT_GETS) <= paths, "a listed GET is gone: drop it from the list"
    limited_paths = {
        (path, action)
        for path, _, handler in handlers(app)
        for action in handler.opt.get(RATE_LIMIT_OPT, ())
    }
    for expected in [
        ("/manage/{code:str}/rebook", "rebook"),
        ("/manage/{code:str}/cancel", "cancel"),
        ("/api/v1/bookings/{code:str}", "cancel"),
        ("/api/v1/bookings/{code:str}/cancel", "cancel"),
        ("/api/v1/bookings/{code:str}/cancel", "booking_lookup"),
        ("/api/v1/bookings/{code:str}/lookup", "booking_lookup"),
        ("/manage", "booking_lookup"),
        ("/waitlist", "waitlist_join"),
        ("/pin/resend", "pin_send"),
        ("/api/v1/admin/centres", "admin_centres"),
        ("/api/v1/admin/centres/{centre_id:int}", "admin_centres"),
        ("/api/v1/admin/vaccines/{code:str}", "admin_settings"),
        ("/api/v1/admin/cohorts", "admin_settings"),
        ("/api/v1/admin/campaign", "admin_settings"),
        ("/admin/cohorts/{cohort_id:int}", "admin_settings"),
        ("/admin/vaccines", "admin_settings"),
        ("/admin/campaign/waiting-room", "admin_settings"),
        ("/api/v1/staff/checkins", "centre_record"),
        ("/api/v1/staff/appointments/{appointment_id:int}/vaccinated", "centre_record"),
        ("/api/v1/staff/appointments/{appointment_id:int}/no-show", "centre_record"),
        ("/api/v1/staff/centres/{centre_id:int}/no-shows", "centre_record"),
        ("/centre/{centre_id:int}/checkin", "centre_record"),
        ("/centre/{centre_id:int}/appointments/{appointment_id:int}/vaccinated", "centre_record"),
        ("/centre/{centre_id:int}/appointments/{appointment_id:int}/no-show", "centre_record"),
        ("/centre/{centre_id:int}/no-shows", "centre_record"),
        ("/api/v1/staff/second-doses", "second_dose"),
        ("/centre/{centre_id:int}/second-dose", "second_dose"),
        ("/api/v1/admin/releases", "admin_release"),
        ("/api/v1/admin/releases/{release_id:int}/cancel", "admin_release"),
    ]:
        assert expected in limited_paths, expected


def test_a_new_post_route_without_a_limit_fails_the_walk() -> None:
    app = demo_app()

    @post("/api/v1/new-thing", sync_to_thread=False)
    def new_thing() -> None:
        return None

    @post("/api/v1/other-thing", sync_to_thread=False, opt=limited("no_such_action"))
    def other_thing() -> None:
        return None

    app.register(new_thing)
    app.register(other_thing)
    assert unlimited_routes(app) == [
        "POST /api/v1/new-thing: names no rate limit: opt=limited(...) or unlimited(why)",
        "POST /api/v1/other-thing: names 'no_such_action', which is no configured action",
    ]


async def test_a_handler_enforcing_another_action_than_it_names_is_a_bug() -> None:
    """The marker is what the walk reads: it must be what the handler enforces."""
    action = Action("rebook", "rebookings", "booking", Limit(1, 60), Limit(1, 60))
    limits = RateLimits(MemoryRateLimiter(), {"rebook": action}, FixedClock(T0), "k" * 32)

    class Handler:
        opt = limited("cancel")

    scope = {"type": "http", "client": ("192.0.2.1", 1), "headers": [], "path": "/x"}
    with pytest.raises(RuntimeError, match="marked \\('cancel',\\) but enforces 'rebook'"):
        await limits.enforce({**scope, "route_handler": Handler()}, "rebook", "K7QM")
    await limits.enforce(scope, "rebook", "K7QM")  # no handler in scope (tests, scripts)
    with pytest.raises(RateLimited):
        await limits.enforce(scope, "rebook", "K7QM")
