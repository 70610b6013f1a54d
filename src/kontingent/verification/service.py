"""Phone verification use cases: send a PIN, check a PIN, and read a booking token.

Invariants kept here:
- At most one PIN per number per cool-down and at most five per day; the PIN SMS is queued in
  the same transaction that stores the PIN, so no PIN exists that was not sent, nor the reverse.
- The limits are counted and the new PIN inserted under the number's lock (`repo.lock_phone`),
  so parallel requests for one number cannot all pass the count before any of them inserts.
- Five wrong attempts close a verification (fail closed); a verification is used once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.errors import (
    Conflict,
    InvalidInput,
    KontingentError,
    NotFound,
    RateLimited,
    Unauthorized,
)
from kontingent.notifications import repository as outbox
from kontingent.notifications import texts
from kontingent.notifications.messages import pin_sms
from kontingent.notifications.model import DEFAULT_CAP, RecipientCap
from kontingent.verification import model
from kontingent.verification import repository as repo


@dataclass(frozen=True, slots=True)
class PinSent:
    verification_id: str
    expires_at: datetime
    resend_after: datetime


def _seconds_until(later: datetime, now: datetime) -> int:
    return max(1, int((later - now).total_seconds() + 0.999))


def _in_words(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes = max(1, (rest + 59) // 60) if hours == 0 else (rest + 59) // 60
    if hours == 0:
        return f"{minutes} minutes" if minutes != 1 else "1 minute"
    return f"{hours} h {minutes} min"


class Verification:
    def __init__(
        self, db: Database, clock: Clock, secret_key: str, cap: RecipientCap = DEFAULT_CAP
    ) -> None:
        self.db = db
        self.clock = clock
        self.secret_key = secret_key
        self.cap = cap  # a PIN is not counted by it: its own rules are stricter

    async def send_pin(self, phone_text: str, language: str = "de") -> PinSent:
        """Queue a PIN SMS, written in `language`, to a German mobile number."""
        phone = model.normalise_phone(phone_text)
        if phone is None:
            raise InvalidInput(
                "this is not a German mobile number: write it like +49 170 1234567 or 0170 1234567",
                code="invalid_phone",
                field="phone",
            )
        now = self.clock.now()
        verification_id, pin = model.new_verification_id(), model.new_pin()

        async def work(conn: AsyncConnection) -> PinSent:
            await repo.lock_phone(conn, phone)
            sent_today, resend_after = await repo.recent_for_phone(
                conn, phone, now - model.PIN_LIMIT_WINDOW
            )
            if resend_after is not None and resend_after > now:
                raise RateLimited(
                    "a PIN was sent to this number a moment ago: wait before asking again",
                    retry_after_s=_seconds_until(resend_after, now),
                    code="resend_too_soon",
                )
            if len(sent_today) >= model.MAX_PINS_PER_DAY:
                retry_s = model.day_limit_retry_s(sent_today, now)
                raise RateLimited(
                    f"this number got {model.MAX_PINS_PER_DAY} PINs within 24 hours: the next "
                    f"one can be sent in {_in_words(retry_s)}, or call the hotline",
                    retry_after_s=retry_s,
                    code="too_many_pins",
                )
            sent = PinSent(verification_id, now + model.PIN_VALIDITY, now + model.RESEND_COOL_DOWN)
            await repo.add(
                conn,
                id=verification_id,
                phone=phone,
                pin_hash=model.hash_pin(self.secret_key, verification_id, pin),
                now=now,
                expires_at=sent.expires_at,
                resend_after=sent.resend_after,
                language=texts.language(language),
            )
            minutes = int(model.PIN_VALIDITY.total_seconds() // 60)
            await outbox.enqueue(
                conn, [pin_sms(phone, pin, minutes, texts.language(language))], now, self.cap
            )
            return sent

        return await self.db.run_write(work)

    async def check_pin(self, verification_id: str, pin: str) -> str:
        """A booking token for the verified phone, when `pin` is right."""
        if not (len(pin) == 6 and pin.isascii() and pin.isdigit()):
            raise InvalidInput(
                "the PIN has 6 digits: type it as it stands in the SMS",
                code="invalid_pin",
                field="pin",
            )
        now = self.clock.now()

        async def work(conn: AsyncConnection) -> str | None:
            row = await repo.get(conn, verification_id)
            if row is None:
                raise NotFound(
                    "this verification does not exist: ask for a new PIN",
                    code="unknown_verification",
                )
            if row.verified_at is not None:
                raise Conflict(
                    "this PIN was used already: ask for a new PIN", code="verification_used"
                )
            if row.expires_at <= now:
                raise Conflict(
                    "this PIN has expired (PINs are valid 30 minutes): ask for a new one",
                    code="pin_expired",
                )
            if not await repo.count_attempt(conn, verification_id, model.MAX_ATTEMPTS):
                raise RateLimited(
                    "too many wrong PINs: ask for a new PIN",
                    retry_after_s=_seconds_until(row.resend_after, now),
                    code="too_many_attempts",
                )
            if not model.pin_matches(self.secret_key, verification_id, pin, row.pin_hash):
                return None  # the attempt must stay counted: commit, then refuse
            await repo.mark_verified(conn, verification_id, now)
            return model.issue_token(self.secret_key, verification_id, row.phone, now)

        token = await self.db.run_write(work)
        if token is None:
            raise KontingentError(
                "the PIN is not right: check the SMS and try again", code="wrong_pin", field="pin"
            )
        return token

    def read_token(self, authorization: str | None) -> model.TokenClaims:
        """The claims of the bearer token in an Authorization header."""
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthorized(
                "verify your phone first and send the token as 'Authorization: Bearer TOKEN'",
                code="token_missing",
            )
        claims = model.read_token(self.secret_key, authorization[7:].strip(), self.clock.now())
        if claims is None:
            raise Unauthorized(
                "the token is invalid or has expired: verify your phone again", code="token_invalid"
            )
        return claims
