"""The composition root: `create_app(settings)` wires adapters, services and routes.

Nothing here runs at import: engines, caches and the relay are made by `create_app` and
started by the application's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

import structlog
from litestar import Litestar, Request, Response, Router
from litestar.di import Provide
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.routes import HTTPRoute

from kontingent import __version__, i18n
from kontingent.admin import campaign_pages as admin_campaign_pages
from kontingent.admin import campaign_routes as admin_campaign_routes
from kontingent.admin import centres_pages as admin_centres_pages
from kontingent.admin import centres_routes as admin_centres_routes
from kontingent.admin import cohorts_pages as admin_cohorts_pages
from kontingent.admin import cohorts_routes as admin_cohorts_routes
from kontingent.admin import (
    dashboard_routes,
    exports_routes,
    releases_pages,
    releases_routes,
    stats_routes,
)
from kontingent.admin import home as admin_home
from kontingent.admin import vaccines_pages as admin_vaccines_pages
from kontingent.admin import vaccines_routes as admin_vaccines_routes
from kontingent.agent import book as agent_book
from kontingent.agent import changes as agent_changes
from kontingent.agent import new as agent_new
from kontingent.agent import pages as agent_pages
from kontingent.agent import routes as agent_routes
from kontingent.api_document import complete_before_serving
from kontingent.booking import fast_bookings
from kontingent.booking import routes as booking_routes
from kontingent.centre import missed as centre_missed
from kontingent.centre import pages as centre_pages
from kontingent.centre import routes as centre_routes
from kontingent.centre import spot_pages
from kontingent.centre import spot_routes as centre_spot_routes
from kontingent.checkin import routes as checkin_routes
from kontingent.clock import Clock
from kontingent.config import Settings
from kontingent.edge import protect
from kontingent.edge.bodies import json_bodies
from kontingent.eligibility import routes as eligibility_routes
from kontingent.errors import UNEXPECTED, KontingentError, RateLimited, error_document
from kontingent.inventory import fast_reads, invalidation
from kontingent.inventory import routes as inventory_routes
from kontingent.jobs.service import embedded_jobs
from kontingent.notifications import routes as notification_routes
from kontingent.observability import routes as observability_routes
from kontingent.observability.metrics import Metrics, measured, multiprocess_dir, note_error_code
from kontingent.observability.service import Observability
from kontingent.ratelimit.service import retry_after_header
from kontingent.services import Services, build_services
from kontingent.staff import pages as staff_pages
from kontingent.staff import routes as staff_routes
from kontingent.staff.guards import LoginRequired, public
from kontingent.staff.pages import on_login_required
from kontingent.verification import routes as verification_routes
from kontingent.waiting_room import routes as waiting_room_routes
from kontingent.web import routes as web_routes
from kontingent.web.errors import portal_or
from kontingent.wire import explain, header_name

__all__ = [
    "Services",
    "build_services",
    "create_app",
]  # Services and its builder live in services.py

log = structlog.get_logger(__name__)


def _error(
    status: int,
    code: str,
    message: str,
    details: Mapping[str, object] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    body = error_document(code, message, details)
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def on_domain_error(_: Request[Any, Any, Any], exc: KontingentError) -> Response[Any]:
    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, RateLimited) else None
    return _error(exc.status, exc.code, exc.message, exc.details, headers)


SCHEMA_URL = "/api/v1/openapi.json"


def on_validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """A request the wire types refuse: each field named, with what to write instead, and
    `details.schema` pointing at the document that says it (no use case has run)."""
    if str(exc.detail).startswith("JSON is malformed"):
        return _error(400, "malformed_json", f"the request body is not valid JSON: {exc.detail}")
    items = exc.extra if isinstance(exc.extra, list) else []
    fields = dict(_refused_field(item) for item in items if isinstance(item, dict))
    summary = "; ".join(f"{k}: {v}" for k, v in fields.items()) or str(exc.detail)
    details = {"fields": fields, "schema": SCHEMA_URL}
    return _error(422, "invalid_input", f"fix these fields: {summary}", details)


def _refused_field(item: dict[str, Any]) -> tuple[str, str]:
    key, message = str(item.get("key", "body")), str(item.get("message", "invalid"))
    if key == "data" and message == "'data'":  # Litestar's KeyError text: no body sent
        return "data", "the request body is missing: send a JSON object"
    key, message = explain(key, message)
    return (header_name(key) if item.get("source") == "header" else key), message


async def answer_options(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """OPTIONS with every method the path takes in `Allow`. Litestar's own answer lists only
    the methods of the first handler registered for a path (GET of /bookings/{code} without
    its DELETE): a second handler on the path reuses the first one's OPTIONS handler.

    A coroutine although it awaits nothing: Litestar runs a plain function given as
    `before_request` in its thread pool, a thread hop on every API request (py-spy under
    `make bench`'s bookings: ThreadPoolExecutor.submit and future chaining on each one)."""
    if request.method != "OPTIONS":
        return None
    methods = {"OPTIONS"}
    for route in request.app.routes:
        if isinstance(route, HTTPRoute) and request.route_handler in route.route_handlers:
            methods.update(route.methods)
    return Response(None, status_code=204, headers={"Allow": ", ".join(sorted(methods))})


OPENAPI_CATCH_ALL = "/api/v1/{path:str}"
_PATH_PARAM = re.compile(r"\{[^}:]+:(\w+)\}")
_PARAM_PATTERNS = {"path": ".*", "int": "-?[0-9]+"}


def _route_pattern(path: str) -> re.Pattern[str]:
    parts = _PATH_PARAM.split(path)  # literal, type, literal, type, ...
    regex = "".join(
        re.escape(part) if i % 2 == 0 else _PARAM_PATTERNS.get(part, "[^/]+")
        for i, part in enumerate(parts)
    )
    return re.compile(regex + "/?")


def is_known_path(app: Litestar, path: str) -> bool:
    """Whether a route serves `path` with some method. The OpenAPI router's GET catch-all
    under /api/v1 does not count: through it every unknown API path would answer 405
    to any other method, where 404 is the truth."""
    return any(
        _route_pattern(route.path).fullmatch(path)
        for route in app.routes
        if route.path != OPENAPI_CATCH_ALL
    )


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code == 405 and not is_known_path(request.app, request.url.path):
        exc = HTTPException(status_code=404)
    codes = {
        404: "not_found",
        405: "method_not_allowed",
        401: "unauthorized",
        403: "forbidden",
        429: "rate_limited",
        503: "unavailable",
    }
    message = exc.detail
    if isinstance(exc.__cause__, SerializationException):
        # Litestar reports an undecodable body as a plain 400, not a ValidationException.
        return _error(400, "malformed_json", f"the request body is not valid JSON: {exc.detail}")
    if exc.status_code == 404:
        message = f"there is no {request.method} {request.url.path}: see /api/v1/openapi.json"
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("allow", "")
        usable = ", ".join(m for m in allowed.replace(" ", "").split(",") if m and m != "OPTIONS")
        message = f"{request.url.path} does not take {request.method}: use {usable or 'GET'}"
    code = codes.get(exc.status_code, "bad_request")
    return _error(exc.status_code, code, message, None, exc.headers)


async def json_not_found(response: Response[Any]) -> Response[Any]:
    """The OpenAPI router owns `/api/v1/{path}` and answers an unknown path there with an HTML
    page; the API promises JSON for every answer, errors included."""
    if response.status_code == 404:
        return _error(
            404, "not_found", "there is no such endpoint under /api/v1: see /api/v1/openapi.json"
        )
    return response


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled_error", path=request.url.path, error=type(exc).__name__)
    return _error(500, "internal_error", UNEXPECTED)


def _provide(value: object) -> Provide:
    def provide() -> Any:
        return value

    return Provide(provide, use_cache=True, sync_to_thread=False)


def create_app(settings: Settings, clock: Clock | None = None) -> Litestar:
    services = build_services(settings, clock)
    i18n.load_all()  # a broken .po stops the start, not the first page

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        relay_task = None
        if settings.embedded_relay:
            relay_task = asyncio.create_task(services.relay.run_forever())
        try:
            async with invalidation.running(services.invalidation):
                yield
        finally:
            await services.limits.aclose()
            await services.lookups.aclose()
            await services.staff.lockouts.aclose()
            await services.waiting_room.aclose()
            if relay_task is not None:
                relay_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await relay_task
            await services.db.dispose()

    observability = Observability(services, Metrics(multiprocess_dir()))
    api_routes = [
        inventory_routes.router,
        eligibility_routes.router,
        verification_routes.router,
        booking_routes.router,
        waiting_room_routes.router,
    ]
    if settings.demo:
        api_routes.append(notification_routes.router)
    dependencies = {
        name: _provide(getattr(services, name))
        for name in (
            "db",
            "inventory",
            "eligibility",
            "verification",
            "booking",
            "limits",
            "waiting_room",
        )
    }
    # Handlers that need several services take them all as this one dependency.
    dependencies["services"] = _provide(services)
    # Every route says who may call it (staff/guards.py): the citizens' side is public as a
    # whole, each staff route names its roles.
    app = Litestar(
        route_handlers=[
            Router(
                "/api/v1",
                route_handlers=[
                    Router("/", route_handlers=api_routes, opt=public("the citizens' API")),
                    staff_routes.router,
                    releases_routes.router,
                    agent_routes.router,
                    checkin_routes.router,
                    admin_centres_routes.router,
                    admin_vaccines_routes.router,
                    admin_cohorts_routes.router,
                    admin_campaign_routes.router,
                    dashboard_routes.api_router,
                    stats_routes.api_router,
                    exports_routes.api_router,
                    centre_routes.router,
                    centre_spot_routes.router,
                ],
                middleware=[json_bodies],
                before_request=answer_options,
            ),
            Router("/", route_handlers=web_routes.handlers(settings), opt=public("the portal")),
            Router(
                "/",
                route_handlers=[
                    *staff_pages.routes,
                    *agent_pages.routes,
                    *agent_new.routes,
                    *agent_book.routes,
                    *agent_changes.routes,
                    *admin_home.routes,
                    *admin_centres_pages.routes,
                    *admin_vaccines_pages.routes,
                    *admin_cohorts_pages.routes,
                    *admin_campaign_pages.routes,
                    *dashboard_routes.pages,
                    *stats_routes.pages,
                    *exports_routes.pages,
                    *centre_pages.routes,
                    *centre_missed.routes,
                    *spot_pages.routes,
                    *releases_pages.routes,
                ],
                include_in_schema=False,
                middleware=[retry_after_header],
            ),
            Router(
                "/",
                route_handlers=observability_routes.handlers(),
                opt=public("health and metrics (KONTINGENT_METRICS_TOKEN guards them)"),
            ),
            centre_pages.static_files(),
        ],
        template_config=web_routes.template_config(
            staff_pages.TEMPLATES,
            agent_pages.TEMPLATES,
            admin_home.TEMPLATES,
            centre_pages.TEMPLATES,
        ),
        csrf_config=web_routes.csrf_config(settings),
        dependencies=dependencies,
        lifespan=[lifespan, observability.running, embedded_jobs(services)],
        after_exception=[note_error_code],  # the booking outcome counted by `measured`
        exception_handlers={
            LoginRequired: on_login_required,  # a staff page without a session: log in first
            # JSON under /api/, HTML pages for the portal's paths.
            KontingentError: portal_or(on_domain_error),
            ValidationException: portal_or(on_validation_error),
            HTTPException: portal_or(on_http_error),
            Exception: portal_or(on_unexpected),
        },
        openapi_config=OpenAPIConfig(
            title="Kontingent",
            version=__version__,
            openapi_router=Router(
                "/api/v1",
                route_handlers=[],
                include_in_schema=False,
                before_request=complete_before_serving,  # built on first use: api_document
                after_request=json_not_found,
                opt=public("the API's own description"),
            ),
            render_plugins=[web_routes.swagger_plugin("/docs")],
        ),
        debug=False,
    )
    app.state.services = services
    app.state.observability = observability
    shortcut = fast_reads.answering_offer_reads(
        app,
        waiting_room_routes.answering_queue_calls(app, services.waiting_room),
        services.inventory,
        services.limits,
    )
    shortcut = fast_bookings.answering_bookings(app, shortcut, services)
    # The origin rule and the security headers hold for the shortcut's answers too.
    app.asgi_handler = measured(
        protect(shortcut, settings), observability.metrics, settings.access_log
    )
    return app
