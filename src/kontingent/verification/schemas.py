"""Wire formats of phone verification (names fixed by API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec


class VerificationIn(msgspec.Struct, forbid_unknown_fields=True):
    phone: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class VerificationOut(msgspec.Struct):
    verification_id: str
    expires_at: datetime
    resend_after: datetime
    valid_minutes: int


class PinIn(msgspec.Struct, forbid_unknown_fields=True):
    pin: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]


class TokenOut(msgspec.Struct):
    token: str
