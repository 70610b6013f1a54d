"""Wire formats of staff sessions and the audit log (names fixed by API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from kontingent.clock import BERLIN
from kontingent.staff.service import Login


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class TokenOut(msgspec.Struct):
    token: str
    role: str
    centre_ids: list[int]
    expires_at: datetime

    @classmethod
    def of(cls, login: Login) -> TokenOut:
        p = login.principal
        return cls(
            login.token, p.role.value, list(p.centre_ids), login.expires_at.astimezone(BERLIN)
        )


class TokenRevoked(msgspec.Struct):
    status: str = "revoked"


class AuditItem(msgspec.Struct):
    id: int
    at: datetime
    user: str
    role: str | None
    action: str
    target: str | None
    channel: str
    ip: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, row: dict[str, Any]) -> AuditItem:
        return cls(
            row["id"], row["at"].astimezone(BERLIN), row["username"], row["role"], row["action"],
            row["target"], row["channel"], row["ip"], row["details"] or {},
        )  # fmt: skip


class AuditPage(msgspec.Struct):
    items: list[AuditItem]
    next: str | None  # the URL of the next (older) page; null on the last one
