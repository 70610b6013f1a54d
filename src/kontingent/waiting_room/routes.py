"""HTTP: join the waiting room and ask where one stands (API.md, "Waiting room")."""

from __future__ import annotations

from litestar import Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from kontingent.waiting_room.schemas import QueueOut
from kontingent.waiting_room.service import WaitingRoom


@post("/queue", status_code=201)
async def join_queue(waiting_room: NamedDependency[WaitingRoom]) -> QueueOut:
    """A new ticket. While the room is off it comes back admitted at once."""
    return QueueOut.of(await waiting_room.join())


@get("/queue/{ticket:str}")
async def queue_status(
    waiting_room: NamedDependency[WaitingRoom], ticket: FromPath[str]
) -> QueueOut:
    """Where the ticket stands; once admitted, with the admission token for X-Admission."""
    return QueueOut.of(await waiting_room.status(ticket))


router = Router("/", route_handlers=[join_queue, queue_status], tags=["waiting room"])
