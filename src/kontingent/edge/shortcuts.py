"""What the requests answered in front of the framework share (offer reads, bookings, the
waiting room's joins and polls): the route's name as the metrics know it, and a JSON answer
written straight to ASGI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Litestar
from litestar.types import Send


def route_template(app: Litestar, handler: Any) -> str:
    """The path of `handler`'s route as Litestar names it in `scope["path_template"]`."""
    return next(
        route.path_format
        for route in app.routes
        for h in getattr(route, "route_handlers", ())
        if h.fn is handler.fn  # the app holds copies of the handlers
    )


async def send_json(
    send: Send, status: int, body: bytes, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """An answer with a JSON body that is encoded already."""
    start = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": [*start, *headers]})
    await send({"type": "http.response.body", "body": body, "more_body": False})
