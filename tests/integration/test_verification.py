"""Phone verification on SQLite and PostgreSQL, with time moved by the injected clock.

What these tests hold the service to: a PIN reaches the phone through the outbox; the right PIN
gives a token for that phone, once; wrong PINs are counted and the sixth try is refused even
with the right PIN; a PIN dies after 30 minutes; a new PIN needs a 60 s pause and a number gets
at most five a day, also when 20 requests for one number arrive at once; the database holds
only a keyed hash of the PIN.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from kontingent.app import Services
from kontingent.clock import FixedClock
from kontingent.errors import Conflict, KontingentError, NotFound, RateLimited
from kontingent.schema import outbox, verifications
from kontingent.verification import model
from kontingent.verification.service import Verification
from tests.support import T0, phone, read_pin


def wrong(pin: str) -> str:
    return f"{(int(pin) + 1) % 1_000_000:06d}"


async def test_pin_travels_through_the_outbox_to_the_phone(services: Services) -> None:
    sent = await services.verification.send_pin("0170 1000000")  # written the German way
    assert sent.expires_at == T0 + timedelta(minutes=30)
    assert sent.resend_after == T0 + timedelta(seconds=60)
    async with services.db.read() as conn:
        queued = (await conn.execute(select(outbox.c.channel, outbox.c.recipient))).all()
    assert [tuple(r) for r in queued] == [("sms", phone(0))]
    pin = await read_pin(services, phone(0))
    assert len(pin) == 6 and pin.isdigit()


async def test_right_pin_gives_a_token_for_that_phone_once(services: Services) -> None:
    sent = await services.verification.send_pin(phone(1))
    pin = await read_pin(services, phone(1))
    token = await services.verification.check_pin(sent.verification_id, pin)
    claims = services.verification.read_token(f"Bearer {token}")
    assert (claims.phone, claims.verification_id) == (phone(1), sent.verification_id)
    with pytest.raises(Conflict) as again:
        await services.verification.check_pin(sent.verification_id, pin)
    assert again.value.code == "verification_used"


async def test_wrong_pin_is_refused_and_counted(services: Services) -> None:
    sent = await services.verification.send_pin(phone(2))
    pin = await read_pin(services, phone(2))
    with pytest.raises(KontingentError) as refused:
        await services.verification.check_pin(sent.verification_id, wrong(pin))
    assert (refused.value.status, refused.value.code) == (400, "wrong_pin")
    async with services.db.read() as conn:
        attempts = (await conn.execute(select(verifications.c.attempts))).scalar_one()
    assert attempts == 1
    assert await services.verification.check_pin(sent.verification_id, pin)


async def test_five_wrong_pins_close_the_verification(services: Services) -> None:
    sent = await services.verification.send_pin(phone(3))
    pin = await read_pin(services, phone(3))
    for _ in range(5):
        with pytest.raises(KontingentError) as refused:
            await services.verification.check_pin(sent.verification_id, wrong(pin))
        assert refused.value.code == "wrong_pin"
    with pytest.raises(RateLimited) as closed:
        await services.verification.check_pin(sent.verification_id, pin)  # even the right one
    assert (closed.value.status, closed.value.code) == (429, "too_many_attempts")
    assert closed.value.retry_after_s >= 1


async def test_pin_expires_after_30_minutes(services: Services, clock: FixedClock) -> None:
    early = await services.verification.send_pin(phone(4))
    late = await services.verification.send_pin(phone(5))
    early_pin, late_pin = await read_pin(services, phone(4)), await read_pin(services, phone(5))
    clock.advance(timedelta(minutes=30) - timedelta(seconds=1))
    assert await services.verification.check_pin(early.verification_id, early_pin)
    clock.advance(timedelta(seconds=1))
    with pytest.raises(Conflict) as expired:
        await services.verification.check_pin(late.verification_id, late_pin)
    assert expired.value.code == "pin_expired" and "30 minutes" in expired.value.message


async def test_resend_waits_60_seconds(services: Services, clock: FixedClock) -> None:
    await services.verification.send_pin(phone(6))
    clock.advance(timedelta(seconds=59))
    with pytest.raises(RateLimited) as too_soon:
        await services.verification.send_pin(phone(6))
    assert too_soon.value.code == "resend_too_soon"
    assert too_soon.value.retry_after_s == 1 and too_soon.value.details == {"retry_after_s": 1}
    clock.advance(timedelta(seconds=1))
    again = await services.verification.send_pin(phone(6))
    # The newest PIN is the one that works.
    assert await services.verification.check_pin(
        again.verification_id, await read_pin(services, phone(6))
    )


async def test_at_most_five_pins_per_number_and_day(services: Services, clock: FixedClock) -> None:
    for _ in range(5):
        await services.verification.send_pin(phone(7))
        clock.advance(timedelta(seconds=60))
    with pytest.raises(RateLimited) as limited:
        await services.verification.send_pin(phone(7))
    assert limited.value.code == "too_many_pins"
    # The window is a rolling day: one more PIN fits once the first (sent at T0) is older than
    # a day, and it is T0 + 5 minutes now.
    assert limited.value.retry_after_s == 24 * 3600 - 5 * 60 + 1
    assert "23 h 56 min" in limited.value.message  # rounded up
    await services.verification.send_pin(phone(8))  # another number is not affected
    clock.set(T0 + timedelta(days=1))  # the day counts back from now: the first PIN still in
    with pytest.raises(RateLimited) as still:
        await services.verification.send_pin(phone(7))
    assert still.value.retry_after_s == 1
    clock.advance(timedelta(seconds=1))  # the first PIN is a day old now
    await services.verification.send_pin(phone(7))
    async with services.db.read() as conn:
        count = (
            await conn.execute(select(verifications.c.id).where(verifications.c.phone == phone(7)))
        ).all()
    assert len(count) == 6


async def test_pin_is_stored_only_as_a_keyed_hash(services: Services) -> None:
    sent = await services.verification.send_pin(phone(9))
    pin = await read_pin(services, phone(9))
    async with services.db.read() as conn:
        row = (await conn.execute(select(verifications))).mappings().one()
    assert row["id"] == sent.verification_id and row["phone"] == phone(9)
    assert len(row["pin_hash"]) == 64 and pin not in row["pin_hash"]
    assert all(pin not in str(value) for value in row.values())


async def test_unknown_verification_is_not_found(services: Services) -> None:
    with pytest.raises(NotFound) as missing:
        await services.verification.check_pin("no-such-verification", "123456")
    assert missing.value.code == "unknown_verification"


# --- races: the per-number limits hold under parallel requests -----------------------------


async def _send_at_once(services: Services, number: str, n: int) -> list[object]:
    """`n` PIN requests for one number released together by a barrier (no sleeps)."""
    barrier = asyncio.Barrier(n + 1)

    async def one() -> object:
        await barrier.wait()
        return await services.verification.send_pin(number)

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    await barrier.wait()
    return await asyncio.gather(*tasks, return_exceptions=True)


async def _pins_stored(services: Services, number: str) -> int:
    async with services.db.read() as conn:
        rows = await conn.execute(select(verifications.c.id).where(verifications.c.phone == number))
        return len(rows.all())


def _refusals(outcomes: list[object]) -> list[str]:
    """The codes of the refused requests; anything else raised fails the test."""
    codes = []
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            assert isinstance(outcome, RateLimited), repr(outcome)
            codes.append(outcome.code)
    return codes


async def test_hardening_9_parallel_pin_requests_respect_the_resend_cool_down(
    services: Services,
) -> None:
    """20 PIN requests for one number at once send one PIN, not one per request in flight."""
    outcomes = await _send_at_once(services, phone(30), 20)
    assert _refusals(outcomes) == ["resend_too_soon"] * 19
    assert await _pins_stored(services, phone(30)) == 1


async def test_hardening_9_parallel_pin_requests_respect_the_day_limit(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the cool-down in the way, 20 parallel requests still get only the day's 5 PINs."""
    monkeypatch.setattr(model, "RESEND_COOL_DOWN", timedelta(0))
    outcomes = await _send_at_once(services, phone(31), 20)
    refused = _refusals(outcomes)
    assert refused == ["too_many_pins"] * (20 - model.MAX_PINS_PER_DAY)
    assert await _pins_stored(services, phone(31)) == model.MAX_PINS_PER_DAY


async def test_the_day_limit_of_pins_is_the_one_the_service_was_given(
    services: Services, clock: FixedClock
) -> None:
    """KONTINGENT_PINS_PER_PHONE_PER_DAY reaches the service: three a day here, not five."""
    three = Verification(services.db, clock, services.settings.secret_key, pins_per_day=3)
    for _ in range(3):
        await three.send_pin(phone(9))
        clock.advance(timedelta(seconds=60))
    with pytest.raises(RateLimited) as limited:
        await three.send_pin(phone(9))
    assert limited.value.code == "too_many_pins"
    assert limited.value.details["limit"] == 3
    assert limited.value.details["resets_at"] == "2026-01-13T09:00:01+01:00"
    assert "got 3 PINs within 24 hours" in limited.value.message
