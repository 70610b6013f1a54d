"""Rate limits on both adapters (in memory, and the real local Redis under a random key
prefix deleted afterwards), the failure policy when Redis is down, and the 429 answers of the
API (JSON, with Retry-After) and the portal (303 to the form again, typed data kept, the
wait in words).

Time comes from a FixedClock: nothing here sleeps; moving the clock refills the allowance.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.app import create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings, SettingsError, load_settings
from kontingent.errors import RateLimited
from kontingent.ratelimit.model import Limit, parse_networks
from kontingent.ratelimit.service import Action, LimitsUnavailable, RateLimits, actions_from
from kontingent.ratelimit.stores import (
    LimiterUnavailable,
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
)
from tests.integration.web.conftest import Portal, messages
from tests.support import REDIS_URL, T0, delete_redis_prefix, phone

DEAD_REDIS_URL = "redis://127.0.0.1:9/0"  # discard port: nothing listens there
NOW = T0.timestamp()


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    prefix = f"kt_test_rate_{secrets.token_hex(4)}:"
    yield prefix
    await delete_redis_prefix(prefix)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        limiter: RateLimiter = MemoryRateLimiter()
    else:
        limiter = RedisRateLimiter.from_url(REDIS_URL, redis_prefix)
    yield limiter
    await limiter.aclose()


async def test_burst_then_refusal_with_the_wait_then_refill(store: RateLimiter) -> None:
    limit = Limit(3, 60)
    answers = [(await store.check(["a"], [limit], NOW)).allowed for _ in range(4)]
    assert answers == [True, True, True, False]
    refused = await store.check(["a"], [limit], NOW + 5)
    assert not refused.allowed and refused.wait_s == pytest.approx(15, abs=1e-3)
    assert refused.retry_after_s == 15
    assert (await store.check(["a"], [limit], NOW + 20)).allowed  # one allowance came back
    assert not (await store.check(["a"], [limit], NOW + 20)).allowed
    assert (await store.check(["b"], [limit], NOW + 20)).allowed  # another subject: its own


async def test_several_limits_are_one_all_or_nothing_step(store: RateLimiter) -> None:
    wide, narrow = Limit(5, 60), Limit(1, 60)
    assert (await store.check(["ip", "phone1"], [wide, narrow], NOW)).allowed
    refused = await store.check(["ip", "phone1"], [wide, narrow], NOW)
    assert not refused.allowed and refused.refused_by == 1
    # The refused request did not count against the address: four more fit there.
    for n in range(2, 6):
        assert (await store.check(["ip", f"phone{n}"], [wide, narrow], NOW)).allowed
    assert (await store.check(["ip", "phone9"], [wide, narrow], NOW)).refused_by == 0


@pytest.mark.redis
async def test_redis_counters_are_shared_and_expire(redis_prefix: str) -> None:
    """Two processes' limiters count together; a key at rest is gone from Redis."""
    one = RedisRateLimiter.from_url(REDIS_URL, redis_prefix)
    two = RedisRateLimiter.from_url(REDIS_URL, redis_prefix)
    try:
        assert (await one.check(["k"], [Limit(2, 1)], NOW)).allowed
        assert (await two.check(["k"], [Limit(2, 1)], NOW)).allowed
        assert not (await one.check(["k"], [Limit(2, 1)], NOW)).allowed
        ttl_ms = await one.client.pttl(redis_prefix + "k")
        assert 0 < ttl_ms <= 1000
    finally:
        await one.aclose()
        await two.aclose()


async def test_an_unreachable_redis_raises_for_the_policy_to_decide() -> None:
    limiter = RedisRateLimiter.from_url(DEAD_REDIS_URL, "x:")
    try:
        with pytest.raises(LimiterUnavailable):
            await limiter.check(["k"], [Limit(1, 60)], NOW)
    finally:
        await limiter.aclose()


def _limits(store: RateLimiter, clock: FixedClock, **actions: Action) -> RateLimits:
    return RateLimits(store, actions, clock, "secret-" + "k" * 30, parse_networks("10.0.0.0/8"))


def _scope(peer: str, forwarded: str | None = None) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"type": "http", "client": (peer, 40000), "headers": headers}


async def test_pin_sending_fails_closed_and_reads_fail_open_when_redis_is_down() -> None:
    clock = FixedClock(T0)
    pin = Action("pin_send", "PIN requests", "phone number", Limit(5, 60), Limit(5, 60), True)
    offers = Action("offers", "offer requests", None, Limit(5, 60), None)
    limits = _limits(
        RedisRateLimiter.from_url(DEAD_REDIS_URL, "x:"), clock, pin_send=pin, offers=offers
    )
    try:
        scope = _scope("192.0.2.1")
        with pytest.raises(LimitsUnavailable) as closed:
            await limits.enforce(scope, "pin_send", "+491701234567")
        assert closed.value.status == 503 and closed.value.retry_after_s == 30
        assert "nothing was sent" in closed.value.message
        for _ in range(10):  # over the limit, but nothing can count: served
            await limits.enforce(scope, "offers")
        assert limits.unavailable == 11
    finally:
        await limits.aclose()


async def test_refusals_say_whose_limit_and_when_to_try_again() -> None:
    clock = FixedClock(T0)
    pin = Action("pin_send", "PIN requests", "phone number", Limit(3, 600), Limit(1, 3600), True)
    limits = _limits(MemoryRateLimiter(), clock, pin_send=pin)
    await limits.enforce(_scope("192.0.2.1"), "pin_send", "+491701")
    with pytest.raises(RateLimited, match="for this phone number: try again in 60 minutes"):
        await limits.enforce(_scope("192.0.2.1"), "pin_send", "+491701")
    await limits.enforce(_scope("192.0.2.1"), "pin_send", "+491702")
    await limits.enforce(_scope("192.0.2.1"), "pin_send", "+491703")
    with pytest.raises(RateLimited, match="from this network address: try again in 3 minutes"):
        await limits.enforce(_scope("192.0.2.1"), "pin_send", "+491704")
    clock.advance(timedelta(seconds=200))
    await limits.enforce(_scope("192.0.2.1"), "pin_send", "+491704")


async def test_forwarded_for_counts_only_behind_a_trusted_proxy() -> None:
    clock = FixedClock(T0)
    offers = Action("offers", "offer requests", None, Limit(1, 60), None)
    limits = _limits(MemoryRateLimiter(), clock, offers=offers)
    await limits.enforce(_scope("10.0.0.5", "198.51.100.1"), "offers")
    await limits.enforce(_scope("10.0.0.5", "198.51.100.2"), "offers")  # another person
    with pytest.raises(RateLimited):
        await limits.enforce(_scope("10.0.0.6", "198.51.100.1"), "offers")  # same, other proxy
    await limits.enforce(_scope("192.0.2.9", "198.51.100.3"), "offers")
    with pytest.raises(RateLimited):  # not a proxy: its header is ignored, its own address counts
        await limits.enforce(_scope("192.0.2.9", "198.51.100.4"), "offers")


def test_settings_name_the_actions_and_only_pin_sending_fails_closed() -> None:
    actions = actions_from(Settings(rate_booking_per_phone="off"))
    assert set(actions) == {
        "pin_send",
        "pin_check",
        "booking",
        "eligibility",
        "offers",
        "queue_draw",
        "booking_lookup",
        "rebook",
        "cancel",
        "waitlist_join",
        "staff_login",
        "agent_lookup",
        "agent_booking",
        "agent_offers",
        "admin_centres",
        "admin_settings",
        "centre_record",
        "second_dose",
        "admin_release",
    }
    for name in (
        "agent_lookup",
        "agent_booking",
        "agent_offers",
        "admin_centres",
        "admin_settings",
        "centre_record",
        "second_dose",
        "admin_release",
    ):
        assert actions[name].per_address is None  # per agent: they share addresses
        assert actions[name].per_subject is not None
    assert [a.name for a in actions.values() if a.fail_closed] == ["pin_send"]
    assert actions["booking"].per_subject is None
    assert actions["pin_send"].per_address == Limit(30, 600)
    assert actions_from(Settings(rate_limits=False)) == {}


# --- through HTTP ------------------------------------------------------------------------------


@pytest.fixture
def limited(settings: Settings) -> Settings:
    """Small limits, so a test reaches them in a few requests."""
    return dataclasses.replace(
        settings,
        rate_limits=True,
        rate_pin_send_per_phone="2/1h",
        rate_pin_send_per_ip="3/10m",
        rate_offers_per_ip="2/1m",
        trusted_proxies="127.0.0.1",
    )


@pytest.fixture
async def limited_client(
    limited: Settings, clock: FixedClock
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(create_app(limited, clock)) as client:
        yield client


async def test_api_answers_429_json_with_retry_after(
    limited_client: AsyncTestClient[Litestar],
) -> None:
    statuses = []
    for _ in range(3):
        answer = await limited_client.post("/api/v1/verifications", json={"phone": phone(7)})
        statuses.append(answer.status_code)
    assert statuses[0] == 201 and statuses[2] == 429, statuses  # 2nd: the 60 s cool-down
    body = answer.json()["error"]
    assert body["code"] == "rate_limited"
    assert body["message"] == "too many PIN requests for this phone number: try again in 30 minutes"
    assert answer.headers["retry-after"] == "1800"
    # The same number written another way is the same phone.
    again = await limited_client.post("/api/v1/verifications", json={"phone": "0170 1000007"})
    assert again.status_code == 429
    # Refused requests counted against nothing: this is the address's third in 10 minutes.
    other = await limited_client.post("/api/v1/verifications", json={"phone": phone(8)})
    assert other.status_code == 201
    fourth = await limited_client.post("/api/v1/verifications", json={"phone": phone(9)})
    assert fourth.status_code == 429
    assert "from this network address" in fourth.json()["error"]["message"]


async def test_offers_are_limited_per_address(
    limited_client: AsyncTestClient[Litestar],
) -> None:
    url = "/api/v1/centres/1/offers?vaccine=BNT"
    assert [(await limited_client.get(url)).status_code for _ in range(3)] == [200, 200, 429]
    assert (await limited_client.get("/api/v1/availability")).status_code == 200  # not limited
    behind_proxy = {"X-Forwarded-For": "198.51.100.77"}  # the test client is no proxy's peer
    assert (await limited_client.get(url, headers=behind_proxy)).status_code == 429


async def test_portal_shows_the_form_again_with_the_wait(
    limited_client: AsyncTestClient[Litestar], services: Any
) -> None:
    portal = Portal(limited_client, services)
    await portal.pin_sent(phone(3))
    await portal.post("/pin/resend", {})  # 2nd for this phone: the service's cool-down
    page = await portal.submit("/pin/resend", {})  # 303 back to the PIN page, saying why
    assert "Versuchen Sie es in 30 Minuten noch einmal." in page.text
    await portal.get("/phone")
    third = await portal.post("/phone", {"phone": phone(4)})
    assert third.status_code == 303  # the limiter's refusal above counted against nothing
    await portal.get("/phone")
    typed = "0170 9999999"
    page = await portal.submit("/phone", {"phone": typed})  # the address's three are used up
    assert f'value="{typed}"' in page.text, "what was typed stays in the form"
    assert messages(page.text) == [
        "Gerade sind sehr viele Anfragen da. Versuchen Sie es in 4 Minuten noch einmal."
    ]


def test_a_misspelt_limit_or_proxy_stops_the_start_with_its_name() -> None:
    with pytest.raises(SettingsError, match=r"KONTINGENT_RATE_BOOKING_PER_IP: '120 per 10m'"):
        load_settings({"KONTINGENT_RATE_BOOKING_PER_IP": "120 per 10m"})
    with pytest.raises(SettingsError, match=r"KONTINGENT_TRUSTED_PROXIES: 'lb1'"):
        load_settings({"KONTINGENT_TRUSTED_PROXIES": "10.0.0.1, lb1"})
    settings = load_settings(
        {"KONTINGENT_RATE_LIMITS": "off", "KONTINGENT_RATE_OFFERS_PER_IP": "5/s"}
    )
    assert not settings.rate_limits and settings.rate_offers_per_ip == "5/s"


def test_several_forwarded_for_headers_read_as_one_list() -> None:
    limits = _limits(MemoryRateLimiter(), FixedClock(T0))
    scope = _scope("10.0.0.5")
    scope["headers"] = [(b"x-forwarded-for", b"1.2.3.4"), (b"x-forwarded-for", b"198.51.100.9")]
    assert limits.address_of(scope) == "198.51.100.9"
    assert limits.address_of(_scope("2001:db8::1", "198.51.100.9")) == "2001:db8::/64"
