"""Wire formats of phone verification (names fixed by API.md).

The phone and the PIN carry the patterns the service checks with (verification/model.py), so
the OpenAPI document is as strict as the code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from kontingent.verification.model import PHONE_MAX_LENGTH, PHONE_PATTERN, PIN_PATTERN
from kontingent.wire import words

Phone = Annotated[
    str,
    msgspec.Meta(
        pattern=PHONE_PATTERN, max_length=PHONE_MAX_LENGTH, description=words(PHONE_PATTERN)
    ),
]


# The language SMS and e-mails are written in for this request (a PIN, a booking's messages).
Language = Annotated[
    Literal["de", "en"],
    msgspec.Meta(description='"de" (default) or "en": the language of the SMS and e-mails'),
]


class VerificationIn(msgspec.Struct, forbid_unknown_fields=True):
    phone: Phone
    language: Language = "de"


class VerificationOut(msgspec.Struct):
    verification_id: str
    expires_at: datetime
    resend_after: datetime
    valid_minutes: int


class PinIn(msgspec.Struct, forbid_unknown_fields=True):
    pin: Annotated[
        str, msgspec.Meta(pattern=PIN_PATTERN, max_length=20, description=words(PIN_PATTERN))
    ]


class TokenOut(msgspec.Struct):
    token: str
