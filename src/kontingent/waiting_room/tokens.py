"""Tickets and admission tokens.

Invariants kept here:
- A ticket handed out while the room guards is 96 random bits, its queue score and a MAC
  of both (keyed BLAKE2b) under a key derived from the secret key for this purpose only, as
  43 characters of URL-safe base64: it cannot be guessed, and its score cannot be changed.
  It carries the score so that a poll from far back in the line can be answered from the
  process's snapshot of the queue, without asking the store (service.py). The score says
  nothing about the person. A ticket handed out while the room is off is 128 random bits.
- An admission token is `v1.<ticket>.<expiry>.<HMAC-SHA256>` under a key derived from the
  secret key for this purpose only (it can never pass as a session or booking token). It is
  checked with the key alone, no store and no database: a forged or altered token, one of
  another ticket, or one past its expiry is refused.
- Using a token twice is allowed within its own short admitted session (send a PIN, confirm
  it, book); a booking made with it records the ticket with itself (`bookings.admission`,
  unique), so the same token cannot book again.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass

PREFIX = "v1"
MAX_TOKEN_LENGTH = 200
_TICKET_RANDOM, _TICKET_MAC = 12, 12
_SCORE = struct.Struct(">Q")  # the score in whole microseconds
_SCORED_LENGTH = 43  # characters: base64 of 12 + 8 + 12 bytes, unpadded


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
    """A ticket that is not in the queue (the room is off: admitted at once)."""
    return secrets.token_urlsafe(16)


def quantize(score: float) -> float:
    """The score as a ticket carries it: whole microseconds."""
    return round(score * 1e6) / 1e6


def scored_ticket(secret: str, score: float) -> str:
    """A queue ticket carrying its `score` (quantized, see `quantize`), signed."""
    body = secrets.token_bytes(_TICKET_RANDOM) + _SCORE.pack(round(score * 1e6))
    mac = _ticket_mac(secret, body)
    return base64.urlsafe_b64encode(body + mac).rstrip(b"=").decode()


def ticket_score(secret: str, ticket: str) -> float | None:
    """The score a genuine queue ticket carries, or None for anything else."""
    if len(ticket) != _SCORED_LENGTH or not ticket.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(ticket + "=")
    except (binascii.Error, ValueError):
        return None
    body, mac = raw[:-_TICKET_MAC], raw[-_TICKET_MAC:]
    if len(body) != _TICKET_RANDOM + _SCORE.size:
        return None
    # One spelling per ticket: the decoder also takes "+" and "/", skips characters outside
    # the alphabet, and ignores the 2 unused bits of the last character.
    if base64.urlsafe_b64encode(raw).rstrip(b"=") != ticket.encode():
        return None
    if not hmac.compare_digest(_ticket_mac(secret, body), mac):
        return None
    return int(_SCORE.unpack_from(body, _TICKET_RANDOM)[0]) / 1e6


def _ticket_mac(secret: str, body: bytes) -> bytes:
    """Keyed BLAKE2b, a MAC in its own right: a few times cheaper per poll than HMAC-SHA256,
    whose set-up dominates for a 20-byte body."""
    return hashlib.blake2b(body, key=_ticket_key(secret), digest_size=_TICKET_MAC).digest()


@functools.lru_cache(maxsize=8)
def _ticket_key(secret: str) -> bytes:
    return hashlib.sha256(b"kontingent-ticket:" + secret.encode()).digest()


@functools.lru_cache(maxsize=8)
def _key(secret: str) -> bytes:
    return hashlib.sha256(b"kontingent-admission:" + secret.encode()).digest()


def _mac(secret: str, body: str) -> str:
    digest = hmac.digest(_key(secret), body.encode(), "sha256")
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
