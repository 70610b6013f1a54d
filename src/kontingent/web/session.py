"""The portal's session: a signed cookie that holds only where a person is in the journey.

Invariants kept here:
- The server keeps no session state, so any number of processes serve the same person.
- A cookie that was altered, cut, signed with another key or is past its expiry reads as an
  empty session; it never raises and never yields half a state.
- The cookie carries flow state only (birth date, postcode, verification, booking token,
  persons, a booking being managed); personal data of a booking travels in the form posts,
  except as a draft kept across a redirect (an error round, a taken slot, a phone token that
  ran out mid-form), so no typed data is lost and none ever goes into a URL.
- A form's failed round (`Round`: its messages, the values typed) lives here between the POST
  and the GET it redirects to, for one showing; it belongs to one page and is ignored on others.
- Whatever does not fit a cookie is left out in this order: the draft, the round's values,
  the round's messages; the journey itself (where a person is) always survives.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime, timedelta

import msgspec

COOKIE = "kt_flow"
LANG_COOKIE = "kt_lang"
# Long enough that nobody's typing is thrown away; the booking token has its own, shorter expiry.
TTL = timedelta(hours=12)
MAX_PAYLOAD = 3900  # + "." + 43 signature characters stays under the 4096 a browser keeps


class Round(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=False):
    """One failed round of a form, carried across the 303 to the page that shows it."""

    page: str  # the GET page (path and query) that shows it
    errors: dict[str, str] = {}  # form field (or "_form") -> message, already worded
    values: dict[str, str] = {}  # what was typed, to put back
    notice: str | None = None  # a status line instead of (or beside) errors


class Flow(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=False):
    exp: int = 0
    born: str | None = None  # ISO birth date from the eligibility check
    postcode: str | None = None
    district: str | None = None  # the district chosen where the postcode spans several
    vid: str | None = None  # verification id of the PIN last sent
    phone: str | None = None  # the number the PIN went to (E.164)
    pin_exp: int | None = None  # unix time the PIN stops working
    resend_at: int | None = None  # unix time a new PIN may be asked for
    token: str | None = None  # booking token after the right PIN
    booked: str | None = None  # code of the booking just made, for its confirmation page
    booked_born: str | None = None
    manage: str | None = None  # code of the booking being managed
    manage_born: str | None = None
    offer: str | None = None  # offer chosen when the token ran out mid-form
    draft: dict[str, str] | None = None  # the typed person data of that form
    queue: str | None = None  # waiting-room ticket
    admission: str | None = None  # its admission token, once admitted
    queue_next: str | None = None  # the step to continue with when admitted
    round: Round | None = None  # a form's failed round, until its page shows it
    born2: str | None = None  # ISO birth date of the second person of a couple
    choose: str | None = None  # the offers a link asked for (waitlist SMS), shown after the steps


def _key(secret: str) -> bytes:
    # A key of its own, so a session signature can never pass as a booking token's.
    return hashlib.sha256(b"kontingent-web-session:" + secret.encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(flow: Flow, secret: str, now: datetime) -> str:
    """The cookie value for `flow`, valid for TTL from `now`.

    Browsers keep cookies up to 4 KB: a draft or a round that would not fit is left out
    rather than losing the whole flow with it.
    """
    stamped = msgspec.structs.replace(flow, exp=int((now + TTL).timestamp()))
    payload = _b64(msgspec.json.encode(stamped))
    for lighter in _lighter(stamped):
        if len(payload) <= MAX_PAYLOAD:
            break
        payload = _b64(msgspec.json.encode(lighter))
    return sign(payload, _key(secret))


def sign(payload: str, key: bytes) -> str:
    """`payload` (URL-safe text) with its HMAC: the cookie format of every signed cookie."""
    signature = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{signature}"


def seal(data: bytes, key: bytes) -> str:
    """`data` encoded and signed: what `unsign` with the same key gives back."""
    return sign(_b64(data), key)


def unsign(raw: str | None, key: bytes) -> bytes | None:
    """The decoded payload of a genuine `sign`ed value, None for anything else (never raises)."""
    if not raw or raw.count(".") != 1 or len(raw) > 4096:
        return None
    payload, signature = raw.split(".")
    expected = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    # As bytes: compare_digest refuses non-ASCII text, and a cookie is whatever a client sends.
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return None
    try:
        return _unb64(payload)
    except (binascii.Error, ValueError):
        return None


def _lighter(flow: Flow) -> list[Flow]:
    """`flow` with ever less typed data, for a cookie that would be too big."""
    no_draft = msgspec.structs.replace(flow, draft=None)
    if flow.round is None:
        return [no_draft]
    bare = msgspec.structs.replace(flow.round, values={})
    return [
        no_draft,
        msgspec.structs.replace(no_draft, round=bare),
        msgspec.structs.replace(no_draft, round=msgspec.structs.replace(bare, errors={})),
    ]


def decode(raw: str | None, secret: str, now: datetime) -> Flow:
    """The flow in a genuine, unexpired cookie; an empty flow for anything else."""
    data = unsign(raw, _key(secret))
    if data is None:
        return Flow()
    try:
        flow = msgspec.json.decode(data, type=Flow)
    except (msgspec.DecodeError, ValueError):
        return Flow()
    return flow if flow.exp > now.timestamp() else Flow()
