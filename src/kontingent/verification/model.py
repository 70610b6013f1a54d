"""Phone verification: numbers, PINs and the booking token.

Invariants kept here (pure functions, standard library only):
- A PIN is 6 digits from a CSPRNG and is stored only as a keyed hash. An HMAC rather than a
  slow password hash is enough: a PIN lives 30 minutes and allows 5 attempts, so the attempt
  limit, not the hash, is what stops guessing; and the rush needs PIN checks to be cheap.
- A token is checked with the secret key alone (no database read): it names the verification
  and the phone and carries its expiry, all under an HMAC.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PIN_VALIDITY = timedelta(minutes=30)
RESEND_COOL_DOWN = timedelta(seconds=60)
MAX_ATTEMPTS = 5
MAX_PINS_PER_DAY = 5  # the default of Settings.pins_per_phone_per_day
PIN_LIMIT_WINDOW = timedelta(days=1)  # rolling: "per day" counts back from now, not to midnight
TOKEN_VALIDITY = timedelta(hours=2)

# [0-9], not \d: \d also matches other scripts' digits, which no SMS gateway can dial.
_MOBILE = re.compile(r"^\+491[5-7][0-9]{7,10}$")
# A German landline: an area code (2 to 9 first, never 0 or 1: 01x are mobile and service
# numbers) and the subscriber's number, 6 to 11 digits after +49 in all; 0700, 0800 and 0900
# are personal, freephone and premium service numbers, nobody's own line.
_LANDLINE = re.compile(r"^\+49(?!700|800|900)[2-9][0-9]{5,10}$")
_ANY_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
PHONE_MAX_LENGTH = 40
# What normalise_phone accepts, as one pattern for the API's schema: +49, 0049 or 0, an
# optional 0 after +49, then a mobile prefix 015x-017x and 7 to 10 digits, with spaces,
# hyphens, slashes, dots and brackets anywhere (tests/unit/verification holds them equal).
_SEP = r"[\s\-/().]*"
PHONE_PATTERN = (
    rf"^{_SEP}(?:\+{_SEP}4{_SEP}9{_SEP}(?:0{_SEP})?|0{_SEP}0{_SEP}4{_SEP}9{_SEP}|0{_SEP})"
    rf"1{_SEP}[5-7]{_SEP}(?:[0-9]{_SEP}){{7,10}}$"
)
# A caller's number as the hotline takes it (normalise_caller_phone says whether it is a German
# landline or mobile number): digits with the usual separators, a leading + allowed.
CALLER_PHONE_PATTERN = r"^[+0-9(][0-9\s\-/().]{5,39}$"
# A PIN as typed: six digits, spaces around them allowed (they are stripped).
PIN_PATTERN = r"^\s*[0-9]{6}\s*$"


def normalise_phone(text: str) -> str | None:
    """A German mobile number in E.164 form (+49...), or None if `text` is not one.

    Accepts the ways people write them: 0170 1234567, +49 (0)170/123 45 67, 0049170...
    """
    digits = _e164(text)
    return digits if digits is not None and _MOBILE.match(digits) else None


def _e164(text: str) -> str | None:
    """`text` as a German number in E.164 form (+49...) by its prefixes alone, separators
    dropped; None when it is too long to be a number. Not checked further."""
    if len(text) > PHONE_MAX_LENGTH:
        return None
    digits = re.sub(r"[\s\-/().]", "", text)
    digits = digits.replace("+49(0)", "+49").replace("+490", "+49")
    if digits.startswith("0049"):
        return "+49" + digits[4:]
    if digits.startswith("0") and not digits.startswith("00"):
        return "+49" + digits[1:]
    return digits


def is_mobile(e164: str) -> bool:
    """Whether an SMS can reach this number: a German mobile number (015x, 016x, 017x)."""
    return bool(_MOBILE.match(e164))


def normalise_caller_phone(text: str) -> str | None:
    """A caller's German number, mobile or landline, in E.164 form (+49...), or None.

    The hotline records the number a caller gives, and people over 80 often have only a
    landline: 0251 1234567, +49 (0)2361/12 34 56, 0049 30 123456. Mobile numbers come out
    as `normalise_phone` makes them, so a search by phone finds either form.
    """
    digits = _e164(text)
    if digits is None or _MOBILE.match(digits):
        return digits
    return digits if _LANDLINE.match(digits) else None


def is_plausible_phone(e164: str) -> bool:
    return bool(_ANY_E164.match(e164))


def new_pin() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def new_verification_id() -> str:
    return secrets.token_urlsafe(18)


def hash_pin(secret: str, verification_id: str, pin: str) -> str:
    msg = f"{verification_id}:{pin}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def pin_matches(secret: str, verification_id: str, pin: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_pin(secret, verification_id, pin), stored_hash)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    verification_id: str
    phone: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), b"token:" + payload.encode(), hashlib.sha256).digest())


def issue_token(secret: str, verification_id: str, phone: str, now: datetime) -> str:
    expires = int((now + TOKEN_VALIDITY).timestamp())
    payload = f"{verification_id}.{phone[1:]}.{expires}"
    return f"{payload}.{_sign(secret, payload)}"


def read_token(secret: str, token: str, now: datetime) -> TokenClaims | None:
    """The claims of a genuine, unexpired token, else None."""
    # A genuine token is ASCII. Anything else is refused here: compare_digest raises TypeError
    # on non-ASCII str, and isdigit() would take "²" for a digit.
    if not token.isascii():
        return None
    parts = token.split(".")
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(_sign(secret, payload), parts[3]):
        return None
    expires = datetime.fromtimestamp(int(parts[2]), UTC)
    if expires <= now:
        return None
    return TokenClaims(parts[0], "+" + parts[1], expires)


def day_limit_retry_s(sent: list[datetime], now: datetime, limit: int = MAX_PINS_PER_DAY) -> int:
    """Seconds until one more PIN fits the rolling day again: until the PIN that must leave the
    window (the oldest, when the limit is just reached) is more than a day old."""
    leaving = sorted(sent)[max(0, len(sent) - limit)]
    return max(1, int((leaving + PIN_LIMIT_WINDOW - now).total_seconds()) + 1)
