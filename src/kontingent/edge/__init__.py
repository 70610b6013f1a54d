"""The HTTP edge: what every request passes before the routes and every answer after them.

`protect` wraps the whole application (the waiting room's shortcut included) in `headers`
and `origins`; `bodies` is a middleware of the API's router, where the route is known.
"""

from __future__ import annotations

from litestar.types import ASGIApp

from kontingent.config import Settings
from kontingent.edge.headers import security_headers
from kontingent.edge.origins import OriginPolicy, check_origins


def protect(app: ASGIApp, settings: Settings) -> ASGIApp:
    """`app` behind the origin check, with the security headers on every answer."""
    return security_headers(check_origins(app, OriginPolicy.of(settings)), hsts=not settings.demo)
