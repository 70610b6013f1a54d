"""The agent console's working state between its pages: one signed cookie per browser.

Invariants kept here:
- The server keeps no state of the console's steps, so any process serves the next page. The
  cookie is signed with a key of its own: it never passes as the portal's flow cookie or a
  booking token, and an altered, cut or expired one reads as an empty desk, never an error.
- The desk belongs to the agent who filled it: a desk of another account (a shared
  workstation, the next shift) reads as empty, so nobody sees the previous caller's data.
- It holds what the next step needs and nothing that goes into a URL: the caller's birth
  dates and postcode, the terms of the last search, and the persons typed on the details form
  (a draft, so a refused form or a taken offer never loses the agent's typing).
- HttpOnly, SameSite=Strict, only sent to /agent, Secure outside demo mode; it lives as long
  as a call may (CALL_TTL), and the next call's "new booking" starts it afresh.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import msgspec
from litestar.datastructures import Cookie

from kontingent.web.session import seal, unsign

COOKIE = "kt_desk"
PATH = "/agent"
CALL_TTL = timedelta(hours=2)


class Desk(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=False):
    exp: int = 0
    agent: str = ""  # the username whose desk this is
    born: str | None = None  # ISO birth date of the caller (step 1)
    born2: str | None = None  # ISO birth date of the second person of a couple
    postcode: str | None = None
    search: dict[str, str] | None = None  # the last search, for its results page
    draft: dict[str, str] | None = None  # the details form as typed (p0.first_name, ...)
    booked: str | None = None  # the code of the booking this call made, once made

    @property
    def persons(self) -> int:
        return 2 if self.born2 else 1


def _key(secret: str) -> bytes:
    return hashlib.sha256(b"kontingent-agent-desk:" + secret.encode()).digest()


def decode(raw: str | None, secret: str, now: datetime, agent: str) -> Desk:
    data = unsign(raw, _key(secret))
    if data is None:
        return Desk(agent=agent)
    try:
        desk = msgspec.json.decode(data, type=Desk)
    except (msgspec.DecodeError, ValueError):
        return Desk(agent=agent)
    if desk.agent != agent or desk.exp <= now.timestamp():
        return Desk(agent=agent)
    return desk


def encode(desk: Desk, secret: str, now: datetime) -> str:
    stamped = msgspec.structs.replace(desk, exp=int((now + CALL_TTL).timestamp()))
    return seal(msgspec.json.encode(stamped), _key(secret))


def cookie(desk: Desk, secret: str, now: datetime, secure: bool) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=encode(desk, secret, now),
        max_age=int(CALL_TTL.total_seconds()),
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=secure,
    )


def replace(desk: Desk, **changes: Any) -> Desk:
    return msgspec.structs.replace(desk, **changes)
