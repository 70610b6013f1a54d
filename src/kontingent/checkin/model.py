"""The door ticket (the text of the QR code on every confirmation) and which appointments a
check-in takes: pure functions, no I/O.

Invariants kept here:
- A ticket is `KT1:<booking code>:<MAC>`, the code in its canonical form (`ABCD-EFGH-JKLM`)
  and the MAC the first 80 bits of HMAC-SHA256 over `KT1:<code>`, in base32. Every character
  is one of QR's alphanumeric set (digits, capitals, `-`, `:`), so the 35 characters fit a
  version-2 symbol (25 x 25 modules) at error correction M: large modules on a phone screen
  or a cheap printout.
- Why 80 bits: a ticket is only ever checked online, one scan at a time at a centre's door,
  and without the key nobody can test a guess anywhere else; a guess is right once in 2**80
  tries. 128 bits would make the text 45 characters and the symbol a size larger (version 3)
  for no gain a door could notice.
- The key is derived from the secret key for this purpose only, so a ticket can never pass as
  a session cookie, a PIN hash or an admission token, nor one of those as a ticket. A
  deployment with another secret key refuses this one's tickets, and vice versa.
- `read_ticket` gives the booking code of a genuine ticket, else `TicketRefused`: malformed
  (not a ticket of ours) or not genuine (forged, altered, or signed with another key). The MAC
  is compared in constant time. Case is folded first, because a USB scanner that types like a
  keyboard types small letters while Caps Lock is on; surrounding spaces are dropped. Nothing
  else is forgiven: any other changed character is refused.
- A ticket proves only that this deployment issued it for that code; whether the booking is
  still booked, and for which centre and day, is for the check-in to look up.
- A check-in takes the booking's appointments of the centre's day (Berlin), for every person
  of the booking at once: a couple arrives together. A cancelled booking, a booking with no
  appointment that day, or one already marked as a no-show that day is refused, saying which.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from kontingent.booking.model import normalise_code
from kontingent.errors import Conflict, InvalidInput
from kontingent.inventory.model import local_day

PREFIX = "KT1"
MAC_BYTES = 10  # 80 bits: 16 base32 characters, no padding (see the docstring for why)
_MAC_CHARS = 16
_BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
MAX_TICKET_LENGTH = 64  # anything longer is no ticket of ours; not worth parsing


class TicketRefused(InvalidInput):
    """A QR text that is not a genuine ticket of this deployment; `code` says which case."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, code=code, field="qr")


def sign_ticket(secret: str, code: str) -> str:
    """The ticket for booking `code` (any spelling `normalise_code` takes)."""
    canonical = normalise_code(code)
    if canonical is None:
        raise ValueError(f"not a booking code: {code!r}")
    return f"{PREFIX}:{canonical}:{_mac(secret, canonical)}"


def read_ticket(secret: str, text: str) -> str:
    """The booking code a genuine ticket carries, or TicketRefused saying why not."""
    # ASCII only before folding: str.upper() turns "ß" into "SS" and "ﬁ" into "FI".
    folded = text.strip().upper() if text.isascii() else ""
    parts = folded.split(":")
    if len(folded) > MAX_TICKET_LENGTH or len(parts) != 3 or parts[0] != PREFIX:
        raise TicketRefused(
            "this is not a booking QR code of this service: scan the code on the "
            "confirmation, or type the booking code",
            code="qr_malformed",
        )
    _, code, mac = parts
    if normalise_code(code) != code or len(mac) != _MAC_CHARS or not set(mac) <= _BASE32:
        raise TicketRefused(
            "this booking QR code is damaged: scan it again, or type the booking code",
            code="qr_malformed",
        )
    if not hmac.compare_digest(_mac(secret, code).encode(), mac.encode()):
        raise TicketRefused(
            "this booking QR code was not issued by this service (forged or altered): "
            "ask for the booking code and the person's identity document",
            code="qr_not_genuine",
        )
    return code


def ticket_code(ticket: str) -> str:
    """The booking code a ticket names, unchecked ("" for no ticket): for a caption beside
    its image, never for a decision (that is `read_ticket`'s)."""
    parts = ticket.split(":")
    return parts[1] if len(parts) == 3 else ""


def _mac(secret: str, code: str) -> str:
    digest = hmac.digest(_key(secret), f"{PREFIX}:{code}".encode(), "sha256")
    return base64.b32encode(digest[:MAC_BYTES]).decode()


@functools.lru_cache(maxsize=8)
def _key(secret: str) -> bytes:
    return hashlib.sha256(b"kontingent-door-ticket:" + secret.encode()).digest()


# --- which appointments a check-in takes ------------------------------------------------------

STATUSES = ("booked", "checked_in", "vaccinated", "no_show", "cancelled")


@dataclass(frozen=True, slots=True)
class Arrival:
    """One appointment of a booking, as the door sees it."""

    appointment_id: int
    dose: int
    status: str  # one of STATUSES
    starts_at: datetime
    first_name: str
    last_name: str


@dataclass(frozen=True, slots=True)
class Booked:
    code: str
    status: str  # of the booking: "booked" or "cancelled"
    centre_id: int
    appointments: list[Arrival]


def due_on(booked: Booked, day: date) -> list[Arrival]:
    """The appointments of `booked` that a check-in on `day` takes, or Conflict saying why
    there are none."""
    if booked.status != "booked":
        raise Conflict(
            f"booking {booked.code} is cancelled: it cannot be checked in; the person "
            "needs a new booking",
            code="booking_cancelled",
        )
    held = [a for a in booked.appointments if a.status != "cancelled"]
    today = [a for a in held if local_day(a.starts_at) == day]
    if not today:
        raise Conflict(
            f"booking {booked.code} has no appointment on {day.isoformat()}; its "
            f"appointments are on {_days(held)}",
            code="wrong_day",
        )
    if any(a.status == "no_show" for a in today):
        raise Conflict(
            f"booking {booked.code} was marked as a no-show today: undo that first",
            code="marked_no_show",
        )
    return today


def _days(appointments: Sequence[Arrival]) -> str:
    days = sorted({local_day(a.starts_at).isoformat() for a in appointments})
    return ", ".join(days) or "no day"
