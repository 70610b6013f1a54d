"""`/healthz`, `/readyz` and `/metrics`: for load balancers and Prometheus, not for people.

They sit outside `/api/v1` and the portal: no session, no CSRF (GET only), no rate limit and
no waiting room, so a queue at 08:00 never makes a healthy process look dead.

Invariants kept here:
- `/healthz` is always open: it says nothing but "alive".
- With KONTINGENT_METRICS_TOKEN set, `/readyz` and `/metrics` (traffic figures, dependency
  errors) answer 401 to a request without `Authorization: Bearer <token>`; the token is
  compared in constant time. Unset, they are open, for networks where only the balancer and
  Prometheus reach the hosts.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, Response, get
from litestar.types import ControllerRouterHandler
from prometheus_client import CONTENT_TYPE_LATEST

from kontingent.observability.service import Observability

AnyRequest = Request[Any, Any, Any]
# Litestar's CSRF middleware would set its cookie on every probe and scrape: not for machines.
NO_CSRF = {"exclude_from_csrf": True}


def _refused(request: AnyRequest) -> Response[Any] | None:
    """401 unless the request bears the metrics token (when one is configured)."""
    token: str = request.app.state.services.settings.metrics_token
    if not token:
        return None
    sent = request.headers.get("authorization", "")
    if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return None
    error = {
        "code": "unauthorized",
        "message": f"{request.url.path} needs the header Authorization: Bearer followed by "
        "the value of KONTINGENT_METRICS_TOKEN",
        "details": {},
    }
    return Response(
        {"error": error},
        status_code=401,
        headers={"Cache-Control": "no-store", "WWW-Authenticate": 'Bearer realm="metrics"'},
    )


def _observability(request: AnyRequest) -> Observability:
    found: Observability = request.app.state.observability
    return found


@get("/healthz", include_in_schema=False, sync_to_thread=False, opt=NO_CSRF)
def healthz() -> Response[dict[str, str]]:
    """Alive: the process answers. Nothing else is asked."""
    return Response({"status": "ok"}, headers={"Cache-Control": "no-store"})


@get("/readyz", include_in_schema=False, opt=NO_CSRF)
async def readyz(request: AnyRequest) -> Response[Any]:
    """Ready: the database (and Redis, when configured) answer now; else 503 naming them."""
    if (refused := _refused(request)) is not None:
        return refused
    checks = await _observability(request).readiness.check()
    failed = [c.name for c in checks if not c.ok]
    body: dict[str, Any] = {
        "status": "unavailable" if failed else "ready",
        "checks": {
            c.name: {"ok": c.ok, "ms": c.ms, **({"error": c.error} if c.error else {})}
            for c in checks
        },
    }
    if failed:
        body["error"] = {
            "code": "unavailable",
            "message": f"not ready: {', '.join(failed)} cannot be reached",
            "details": {"failed": failed},
        }
    return Response(body, status_code=503 if failed else 200, headers={"Cache-Control": "no-store"})


@get("/metrics", include_in_schema=False, opt=NO_CSRF)
async def metrics(request: AnyRequest) -> Response[Any]:
    """Prometheus text format, summed over every worker process of this host."""
    if (refused := _refused(request)) is not None:
        return refused
    text = await _observability(request).render()
    return Response(text, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def handlers() -> list[ControllerRouterHandler]:
    return [healthz, readyz, metrics]
