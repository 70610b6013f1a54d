"""Phone verification use cases: send a PIN, check a PIN, and read a booking token.

Invariants kept here:
- At most one PIN per number per cool-down and at most `pins_per_day` (setting
  KONTINGENT_PINS_PER_PHONE_PER_DAY, default 5) within any 24 hours; the PIN SMS is queued in
  the same transaction that stores the PIN, so no PIN exists that was not sent, nor the reverse.
- Every refusal says what to do next: a wrong PIN says how many tries are left
  (`details.tries_left`); the day's limit says when it resets (`details.resets_at`) and that
  the hotline books for several people, because one number booking for a family meets it.
- The limits are counted and the new PIN inserted under the number's lock (`repo.lock_phone`),
  so parallel requests for one number cannot all pass the count before any of them inserts.
- Five wrong attempts close a verification (fail closed); a verification is used once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.clock import BERLIN, Clock
from kontingent.db import Database
from kontingent.errors import (
    Conflict,
    InvalidInput,
    KontingentError,
    NotFound,
    RateLimited,
    Unauthorized,
)
from kontingent.i18n import pick
from kontingent.notifications import repository as outbox
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


def _wrong_pin(tries_left: int) -> KontingentError:
    if tries_left == 0:
        message = "the PIN is not right, and that was the last try: ask for a new PIN"
    else:
        tries = "1 try" if tries_left == 1 else f"{tries_left} tries"
        message = f"the PIN is not right: {tries} left; check the SMS and try again"
    return KontingentError(message, code="wrong_pin", field="pin", tries_left=tries_left)


class Verification:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        secret_key: str,
        cap: RecipientCap = DEFAULT_CAP,
        pins_per_day: int = model.MAX_PINS_PER_DAY,
    ) -> None:
        self.db = db
        self.clock = clock
        self.secret_key = secret_key
        self.cap = cap  # a PIN is not counted by it: its own rules are stricter
        self.pins_per_day = pins_per_day

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
            if len(sent_today) >= self.pins_per_day:
                raise self._day_limit(sent_today, now)
            sent = PinSent(verification_id, now + model.PIN_VALIDITY, now + model.RESEND_COOL_DOWN)
            await repo.add(
                conn,
                id=verification_id,
                phone=phone,
                pin_hash=model.hash_pin(self.secret_key, verification_id, pin),
                now=now,
                expires_at=sent.expires_at,
                resend_after=sent.resend_after,
                language=pick(language),
            )
            minutes = int(model.PIN_VALIDITY.total_seconds() // 60)
            await outbox.enqueue(
                conn, [pin_sms(phone, pin, minutes, pick(language))], now, self.cap
            )
            return sent

        return await self.db.run_write(work)

    def _day_limit(self, sent_today: list[datetime], now: datetime) -> RateLimited:
        retry_s = model.day_limit_retry_s(sent_today, now, self.pins_per_day)
        resets_at = (now + timedelta(seconds=retry_s)).astimezone(BERLIN)
        refusal = RateLimited(
            f"this number got {self.pins_per_day} PINs within 24 hours, as many as one number "
            f"may get: the next one can be sent at {resets_at:%H:%M} on {resets_at:%d.%m.%Y} "
            f"(Europe/Berlin, in {_in_words(retry_s)}); booking for several people with one "
            "number? The hotline 116 117 books for several people in one call",
            retry_after_s=retry_s,
            code="too_many_pins",
        )
        refusal.details.update(limit=self.pins_per_day, resets_at=resets_at.isoformat())
        return refusal

    async def check_pin(self, verification_id: str, pin: str) -> str:
        """A booking token for the verified phone, when `pin` is right."""
        if not (len(pin) == 6 and pin.isascii() and pin.isdigit()):
            raise InvalidInput(
                "the PIN has 6 digits: type it as it stands in the SMS",
                code="invalid_pin",
                field="pin",
            )
        now = self.clock.now()

        async def work(conn: AsyncConnection) -> str | int:
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
            used = await repo.count_attempt(conn, verification_id, model.MAX_ATTEMPTS)
            if used is None:
                refusal = RateLimited(
                    "too many wrong PINs: ask for a new PIN",
                    retry_after_s=_seconds_until(row.resend_after, now),
                    code="too_many_attempts",
                )
                refusal.details.update(tries_left=0)
                raise refusal
            if not model.pin_matches(self.secret_key, verification_id, pin, row.pin_hash):
                return model.MAX_ATTEMPTS - used  # the attempt must stay counted: commit first
            await repo.mark_verified(conn, verification_id, now)
            return model.issue_token(self.secret_key, verification_id, row.phone, now)

        outcome = await self.db.run_write(work)
        if isinstance(outcome, int):
            raise _wrong_pin(outcome)
        return outcome

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
