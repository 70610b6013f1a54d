"""The portal's wiring: its routes, templates, static files and CSRF protection.

`create_app` takes these four things from here and nothing else; the pages themselves live in
flow.py (start to PIN), choose.py (offers to confirmation), manage.py, extras.py and
legal.py (Impressum, privacy notice).

Invariants kept here:
- Every portal form is CSRF-protected (double-submit cookie, hidden `_csrf_token` field);
  the JSON API under /api/ is not, because it authenticates with bearer tokens, not cookies.
- Templates autoescape everything, and an undefined template variable is an error, not a blank.
- The dev mailbox route is mounted in demo mode only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import Router
from litestar.config.csrf import CSRFConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from litestar.types import ControllerRouterHandler

from kontingent.config import Settings
from kontingent.ratelimit.service import retry_after_header
from kontingent.web import availability, choose, extras, flow, legal, manage, queue
from kontingent.web.i18n import tel_links

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
CSRF_COOKIE = "kt_csrf"
# Swagger UI's files ship in static/swagger-ui (see VENDORED.md there), never from a CDN.
SWAGGER_UI_VERSION = "5.35.0"
SWAGGER_UI = "/static/swagger-ui"


def handlers(settings: Settings) -> list[ControllerRouterHandler]:
    pages: list[Any] = [*flow.routes, *choose.routes, *manage.routes, *extras.routes, *legal.routes]
    pages += queue.routes  # the waiting room's page
    pages += availability.routes  # free pairs per centre, from the public feed
    if settings.demo:
        pages += extras.demo_routes
    return [
        # Forms show a rate limit's refusal inline; the middleware adds its Retry-After.
        Router("/", route_handlers=pages, include_in_schema=False, middleware=[retry_after_header]),
        create_static_files_router(
            path="/static",
            directories=[STATIC],
            include_in_schema=False,
            name="static",
        ),
    ]


def template_config(*more: Path) -> TemplateConfig[JinjaTemplateEngine]:
    """The portal's templates, and those of the folders in `more` (the staff pages')."""
    environment = Environment(
        loader=FileSystemLoader([TEMPLATES, *more]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        finalize=tel_links,  # 116 117 as a tel: link wherever a page shows it
    )
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name=CSRF_COOKIE,
        cookie_secure=not settings.demo,
        cookie_httponly=True,  # the token travels in a hidden field; no script needs the cookie
        cookie_samesite="lax",
        exclude=["^/api/", "^/static/"],
    )


def swagger_plugin(path: str) -> SwaggerRenderPlugin:
    """The API's documentation page at `path`, its scripts, styles and icon served from here."""
    return SwaggerRenderPlugin(
        version=SWAGGER_UI_VERSION,
        js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
        css_url=f"{SWAGGER_UI}/swagger-ui.css",
        standalone_preset_js_url=f"{SWAGGER_UI}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{SWAGGER_UI}/favicon-32x32.png'>",
        path=path,
    )
