"""Tickets and admission tokens.

Invariants kept here:
- A ticket is 128 random bits (URL-safe text): it cannot be guessed, and it means nothing.
- An admission token is `v1.<ticket>.<expiry>.<HMAC-SHA256>` under a key derived from the
  secret key for this purpose only (it can never pass as a session or booking token). It is
  checked with the key alone, no store and no database: a forged or altered token, one of
  another ticket, or one past its expiry is refused.
- Using a token twice is allowed within its own short admitted session (send a PIN, confirm
  it, book); a booking made with it spends the ticket (recorded in the store by the service),
  so the same token cannot book again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

PREFIX = "v1"
MAX_TOKEN_LENGTH = 200


class AdmissionError(Exception):
    """A token that does not admit; `code` says why (wire error code)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Admission:
    ticket: str
    expires_at: float


def new_ticket() -> str:
    return secrets.token_urlsafe(16)


def _key(secret: str) -> bytes:
    return hashlib.sha256(b"kontingent-admission:" + secret.encode()).digest()


def _mac(secret: str, body: str) -> str:
    digest = hmac.new(_key(secret), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: str, ticket: str, expires_at: float) -> str:
    body = f"{PREFIX}.{ticket}.{int(expires_at)}"
    return f"{body}.{_mac(secret, body)}"


def verify(secret: str, token: str | None, now: float, ticket: str | None = None) -> Admission:
    """The admission `token` grants, or AdmissionError. With `ticket`, the token must be
    that ticket's."""
    if not token:
        raise AdmissionError("admission_required", "no admission token was sent")
    parts = token.strip().split(".")
    if len(token) > MAX_TOKEN_LENGTH or len(parts) != 4 or parts[0] != PREFIX:
        raise AdmissionError("admission_invalid", "the admission token is malformed")
    _, owner, expiry, mac = parts
    expected = _mac(secret, f"{PREFIX}.{owner}.{expiry}")
    if not hmac.compare_digest(expected.encode(), mac.encode()) or not expiry.isdigit():
        raise AdmissionError("admission_invalid", "the admission token is not genuine")
    if ticket is not None and not hmac.compare_digest(owner.encode(), ticket.encode()):
        raise AdmissionError("admission_invalid", "the admission token belongs to another ticket")
    if int(expiry) <= now:
        raise AdmissionError("admission_expired", "the admission token has expired")
    return Admission(owner, float(expiry))
