"""The rules of the rate limits: the N/period syntax, GCRA's arithmetic (a burst of N from
rest, then N per period, all-or-nothing over several limits) and whose request it is."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontingent.ratelimit.model import (
    Limit,
    LimitSyntaxError,
    admit,
    client_address,
    parse_limit,
    parse_networks,
)


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("30/10m", Limit(30, 600)),
        ("5/h", Limit(5, 3600)),
        (" 10 / 1d ", Limit(10, 86400)),
        ("1/30s", Limit(1, 30)),
    ],
)
def test_limits_read_as_count_per_period(text: str, limit: Limit) -> None:
    assert parse_limit(text) == limit
    assert parse_limit(str(limit)) == limit


@pytest.mark.parametrize("text", ["off", "0", "OFF", ""])
def test_off_means_no_limit(text: str) -> None:
    assert parse_limit(text) is None


@pytest.mark.parametrize("text", ["30", "30/", "30/10", "0/1m", "3/0m", "a/1m", "30/10w", "-1/1m"])
def test_a_malformed_limit_names_the_syntax(text: str) -> None:
    with pytest.raises(LimitSyntaxError, match=r"N/period.*30/10m"):
        parse_limit(text)


def _run(limit: Limit, times: list[float]) -> list[bool]:
    """Allowed or not, for requests at `times` against one subject."""
    tat: float | None = None
    answers = []
    for now in times:
        verdict, tats = admit([tat], [limit], now)
        answers.append(verdict.allowed)
        if verdict.allowed:
            tat = tats[0]
    return answers


def test_a_burst_of_n_from_rest_then_refused_with_the_wait() -> None:
    limit = Limit(3, 60)  # one allowance back every 20 s
    assert _run(limit, [0, 0, 0, 0]) == [True, True, True, False]
    verdict, _ = admit([60.0], [limit], 0.0)  # three taken at t=0
    assert not verdict.allowed and verdict.wait_s == pytest.approx(20)
    assert verdict.retry_after_s == 20
    assert _run(limit, [0, 0, 0, 19.9, 20]) == [True, True, True, False, True]


@given(st.integers(1, 50), st.integers(1, 3600), st.integers(1, 5))
def test_clients_at_the_rate_are_never_refused(count: int, period: int, rounds: int) -> None:
    limit = Limit(count, float(period))
    times = [i * limit.interval_s for i in range(count * rounds)]
    assert all(_run(limit, times))
    burst = [0.0] * (count + 1)
    assert _run(limit, burst) == [True] * count + [False]


def test_several_limits_are_all_or_nothing() -> None:
    wide, narrow = Limit(10, 60), Limit(1, 60)
    verdict, tats = admit([None, None], [wide, narrow], 100.0)
    assert verdict.allowed and tats == [106.0, 160.0]
    verdict, tats = admit([106.0, 160.0], [wide, narrow], 100.0)
    assert not verdict.allowed and verdict.refused_by == 1 and tats == []
    assert verdict.wait_s == pytest.approx(60)


def test_retry_after_is_whole_seconds_and_at_least_one() -> None:
    verdict, _ = admit([100.2], [Limit(1, 0.1 * 1)], 100.0)
    assert not verdict.allowed and verdict.retry_after_s == 1


PROXIES = parse_networks("10.0.0.0/8, 2001:db8:ffff::1")


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("192.0.2.7", None, "192.0.2.7"),
        ("192.0.2.7", "198.51.100.1", "192.0.2.7"),  # not a proxy: its header is ignored
        ("10.1.2.3", "198.51.100.1", "198.51.100.1"),
        ("10.1.2.3", "1.2.3.4, 198.51.100.1, 10.9.9.9", "198.51.100.1"),  # 1.2.3.4: forged
        ("10.1.2.3", "10.2.2.2, 10.9.9.9", "10.2.2.2"),  # all proxies: the farthest
        ("10.1.2.3", "nonsense, 198.51.100.1", "198.51.100.1"),
        ("10.1.2.3", "198.51.100.1, nonsense", "10.1.2.3"),  # unreadable hop: stop at proxy
        ("10.1.2.3", None, "10.1.2.3"),
        ("2001:db8:1:2:3:4:5:6", None, "2001:db8:1:2::/64"),
        ("2001:db8:ffff::1", "2001:db8:7:7::9", "2001:db8:7:7::/64"),
        ("::ffff:192.0.2.9", None, "192.0.2.9"),
        ("testclient", None, "testclient"),
        (None, None, "unknown"),
    ],
)
def test_client_address(peer: str | None, forwarded: str | None, client: str) -> None:
    assert client_address(peer, forwarded, PROXIES) == client


def test_one_household_changing_ipv6_addresses_stays_one_client() -> None:
    block = ipaddress.IPv6Network("2001:db8:abcd:12::/64")
    seen = {client_address(str(block[i * 7919]), None, ()) for i in range(1, 50)}
    assert seen == {str(block)}


def test_trusted_proxies_are_checked() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300' is not an IP address"):
        parse_networks("10.0.0.1, 10.0.0.300")
    assert parse_networks(" ") == ()
