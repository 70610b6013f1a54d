"""Looking a booking up by its code and a birth date, throttled against guessing the date.

A code printed on a letter or seen over a shoulder is not secret; the birth date is what
guards the person's data and the booking's cancellation. 366 dates a year are few, so the
number of dates tried per code is what must be limited.

Invariants kept here:
- A birth date is compared only when the throttle let the attempt through: per client
  address (the `booking_lookup` rate limit, every lookup counts) and per booking code
  (`Lockouts`: 5 wrong birth dates, then a cool-down that doubles with each further wrong
  one; a right one clears the count).
- A code nobody holds is throttled and answered exactly as one that exists: counted under
  the code as typed (normalised), the same 404 for a wrong code as for a wrong date, the same
  429 while cooling down, the same one database statement to decide (`Booking.find`).
- Input that cannot be a code or a date is refused (422) before anything counts: it guesses
  nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from kontingent.booking.service import Booking, BookingView
from kontingent.errors import RateLimited
from kontingent.ratelimit.lockouts import Lockouts
from kontingent.ratelimit.service import RETRY_AFTER_SCOPE_KEY, RateLimits

Use = Callable[[str, str], Awaitable[BookingView]]


def _in_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    if seconds < 2 * 3600:
        return f"{-(-seconds // 60)} minutes"
    return f"{-(-seconds // 3600)} hours"


class LookupLocked(RateLimited):
    """Too many wrong birth dates for this code: it cools down, whoever asks."""

    code = "lookup_locked"


class BookingLookups:
    def __init__(self, booking: Booking, limits: RateLimits, lockouts: Lockouts) -> None:
        self.booking = booking
        self.limits = limits
        self.lockouts = lockouts

    async def find(self, scope: Mapping[str, Any], code: str, birth_date: str) -> BookingView:
        """The booking, for whoever knows its code and a birth date in it."""
        return await self._guarded(scope, code, birth_date, self.booking.find)

    async def cancel(self, scope: Mapping[str, Any], code: str, birth_date: str) -> BookingView:
        """Cancel the booking, for whoever knows its code and a birth date in it. The
        booking's own budget of cancellations counts only callers who proved that much: a
        stranger who knows the code must not use it up."""
        view = await self._guarded(scope, code, birth_date, self.booking.find)
        await self.limits.enforce(scope, "cancel", view.code)
        return await self.booking.cancel(view.code, birth_date)

    async def _guarded(
        self, scope: Mapping[str, Any], code_text: str, birth_date: str, use: Use
    ) -> BookingView:
        code, born = self.booking.identify(code_text, birth_date)
        await self.limits.enforce(scope, "booking_lookup")
        wait = await self.lockouts.attempt(code)
        if wait > 0:
            raise self._locked(scope, wait)
        view = await use(code, born.isoformat())  # a wrong date leaves the attempt counted
        await self.lockouts.clear(code)
        return view

    def _locked(self, scope: Mapping[str, Any], wait: float) -> LookupLocked:
        seconds = max(1, int(wait + 0.999))
        if isinstance(scope, MutableMapping):  # the portal's form answers 429 with the header
            scope[RETRY_AFTER_SCOPE_KEY] = seconds
        return LookupLocked(
            "too many wrong birth dates for this booking code: try again in "
            f"{_in_words(seconds)}, or call the hotline",
            retry_after_s=seconds,
        )

    async def aclose(self) -> None:
        await self.lockouts.aclose()
