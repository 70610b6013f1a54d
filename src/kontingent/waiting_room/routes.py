"""HTTP: join the waiting room and ask where one stands (API.md, "Waiting room").

Joins and polls are most of a rush's requests; polls from far back in line are answered from
the snapshot without the store (service.py, `far_status`). `answering_queue_calls` answers
joins and those polls in front of the framework: for them, routing, dependency injection and
the response machinery cost more than the answer itself. It writes what `join_queue` and
`queue_status` would write (the same QueueOut, status and headers; tests/integration/
waiting_room/test_api.py compares them) and hands every other request, every poll the
snapshot cannot answer, every join before the opening (limited per address there) and every
refused join to the application unchanged.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar, Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.types import ASGIApp, Receive, Scope, Send

from kontingent.edge.shortcuts import route_template, send_json
from kontingent.errors import KontingentError
from kontingent.ratelimit.service import limited
from kontingent.services import Services
from kontingent.waiting_room.schemas import QueueOut
from kontingent.waiting_room.service import WaitingRoom
from kontingent.waiting_room.views import QueueView


async def limit_draw(services: Services, scope: Scope) -> None:
    """Before the opening minute each join draws a place by lot, so joins are limited per
    address then (429 when over). The API's and the portal's joins both pass here."""
    if services.waiting_room.drawing():
        await services.limits.enforce(scope, "queue_draw")


@post("/queue", status_code=201, opt=limited("queue_draw"))
async def join_queue(
    request: Request[Any, Any, Any], services: NamedDependency[Services]
) -> QueueOut:
    """A new ticket. While the room is off it comes back admitted at once. Before the opening
    minute joins are limited per address (`limit_draw`)."""
    await limit_draw(services, request.scope)
    return QueueOut.of(await services.waiting_room.join())


@get("/queue/{ticket:str}")
async def queue_status(
    waiting_room: NamedDependency[WaitingRoom], ticket: FromPath[str]
) -> QueueOut:
    """Where the ticket stands; once admitted, with the admission token for X-Admission."""
    return QueueOut.of(await waiting_room.status(ticket))


router = Router("/", route_handlers=[join_queue, queue_status], tags=["waiting room"])


def answering_queue_calls(app: Litestar, room: WaitingRoom) -> ASGIApp:
    """`app`'s ASGI handler with joins and far-back polls answered before it (see the module
    doc). A join the room refuses (its store unreachable: nothing was stored) is handed to the
    application too, which refuses it again, the documented way."""
    handler = app.asgi_handler
    join_path, poll_template = route_template(app, join_queue), route_template(app, queue_status)
    poll_prefix = poll_template.split("{", 1)[0]
    encode = msgspec.json.Encoder().encode

    async def answer(send: Send, status: int, view: QueueView) -> None:
        await send_json(send, status, encode(QueueOut.of(view)))

    async def shortcut(scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if scope["method"] == "GET" and path.startswith(poll_prefix):
                ticket = path[len(poll_prefix) :]
                view = await room.far_status(ticket) if "/" not in ticket else None
                if view is not None:
                    scope["path_template"] = poll_template  # the route's name in the metrics
                    await answer(send, 200, view)
                    return
            elif scope["method"] == "POST" and path == join_path and not room.drawing():
                try:
                    view = await room.join()
                except KontingentError:
                    pass
                else:
                    scope["path_template"] = join_path
                    await answer(send, 201, view)
                    return
        await handler(scope, receive, send)

    shortcut.__wrapped__ = handler  # type: ignore[attr-defined]  # the framework's way (tests)
    return shortcut
