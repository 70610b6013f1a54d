"""HTTP: the dev mailbox and the outbox's state (demo and test mode only; the app does not
mount these otherwise). Parked messages are listed here so a stuck message is never silent."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Router, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import Parameter

from kontingent.db import Database
from kontingent.inventory.schemas import berlin
from kontingent.notifications import repository as repo


class MailboxMessageOut(msgspec.Struct):
    channel: str
    to: str
    subject: str
    body: str
    sent_at: datetime
    message_id: str


@get("/dev/messages")
async def dev_messages(
    db: NamedDependency[Database],
    to: Annotated[str | None, Parameter(max_length=254)] = None,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
) -> list[MailboxMessageOut]:
    if to and to[0] == " " and to.strip().isdigit():
        to = "+" + to.strip()  # an unencoded "+49..." arrives as " 49..."
    async with db.read() as conn:
        rows = await repo.mailbox(conn, to, limit)
    return [
        MailboxMessageOut(
            str(r["channel"]),
            str(r["recipient"]),
            str(r["subject"]),
            str(r["body"]),
            berlin(r["sent_at"]),
            str(r["message_id"]),
        )
        for r in rows
    ]


class BacklogOut(msgspec.Struct):
    channel: str
    pending: int
    due: int
    parked: int
    oldest_due: datetime | None


class ParkedOut(msgspec.Struct):
    message_id: str
    channel: str
    to: str
    subject: str
    attempts: int
    last_error: str
    created_at: datetime
    parked_at: datetime


class OutboxOut(msgspec.Struct):
    channels: list[BacklogOut]
    parked: list[ParkedOut]


@get("/dev/outbox")
async def dev_outbox(
    db: NamedDependency[Database],
    state: State,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
) -> OutboxOut:
    """What waits per channel, and the parked messages with their last error, newest first."""
    now = state.services.clock.now()
    async with db.read() as conn:
        backlog = await repo.backlog(conn, now)
        parked = await repo.parked(conn, limit)
    return OutboxOut(
        [
            BacklogOut(
                b.channel,
                b.pending,
                b.due,
                b.parked,
                None if b.oldest_due is None else berlin(b.oldest_due),
            )
            for b in backlog
        ],
        [
            ParkedOut(
                p.message_id,
                p.channel,
                p.recipient,
                p.subject,
                p.attempts,
                p.last_error,
                berlin(p.created_at),
                berlin(p.parked_at),
            )
            for p in parked
        ],
    )


router = Router("/", route_handlers=[dev_messages, dev_outbox], tags=["dev"])
