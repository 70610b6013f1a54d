"""Rate limits as pure rules: what a limit is, when a request fits, and whose request it is.

Invariants kept here:
- A limit "N/period" lets N requests through at once and then refills at N per period
  (GCRA, the generic cell rate algorithm: one number per subject, the theoretical arrival
  time `tat`, no list of timestamps). So a client that spreads its requests is never refused
  while it stays at or under N per period, and a burst of N is always allowed from rest.
- A check of several limits is all-or-nothing: a refused request counts against none of
  them, so a person refused for their phone number does not also use up their address.
- Time comes in as seconds from the caller (the injected clock); nothing here reads a clock.
- The client address is the socket peer, unless that peer is a listed proxy: then the
  rightmost address in X-Forwarded-For that is not a listed proxy (anything left of it may
  be forged by the client). IPv6 clients are limited per /64, the block one household gets,
  because one household can change addresses inside it at will.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


class LimitSyntaxError(ValueError):
    """A limit is not written as N/period (like 30/10m)."""


@dataclass(frozen=True, slots=True)
class Limit:
    """`count` requests at once, refilled at `count` per `period_s` seconds."""

    count: int
    period_s: float

    @property
    def interval_s(self) -> float:
        """Seconds one request's allowance takes to come back."""
        return self.period_s / self.count

    @property
    def span_s(self) -> float:
        """How far ahead of now the theoretical arrival time may run: the burst."""
        return self.period_s

    def __str__(self) -> str:
        for unit, seconds in reversed(_UNITS.items()):
            if self.period_s % seconds == 0:
                return f"{self.count}/{int(self.period_s // seconds)}{unit}"
        return f"{self.count}/{self.period_s}s"


def parse_limit(text: str) -> Limit | None:
    """'30/10m' -> 30 per 10 minutes; '0' or 'off' -> None (no limit)."""
    if text.strip().lower() in ("0", "off", "none", ""):
        return None
    found = _LIMIT.match(text.lower())
    if found is None or int(found.group(1)) == 0 or found.group(2) in ("0", "00"):
        raise LimitSyntaxError(
            f"{text!r} is not a limit: write N/period with a unit s, m, h or d, "
            "like 30/10m (30 at once, then 30 per 10 minutes), or off"
        )
    amount = int(found.group(2) or 1)
    return Limit(int(found.group(1)), float(amount * _UNITS[found.group(3)]))


@dataclass(frozen=True, slots=True)
class Verdict:
    """`wait_s` 0 means allowed; else seconds until the request would fit, and which limit
    (index into the checked limits) is the one that refused it."""

    wait_s: float
    refused_by: int | None = None

    @property
    def allowed(self) -> bool:
        return self.refused_by is None

    @property
    def retry_after_s(self) -> int:
        """Whole seconds for the Retry-After header, at least 1."""
        return max(1, math.ceil(self.wait_s - 1e-9))


def admit(
    tats: Sequence[float | None], limits: Sequence[Limit], now: float
) -> tuple[Verdict, list[float]]:
    """GCRA over several limits at once: the verdict and, if allowed, the new `tat` of each.

    `tats` holds each subject's stored theoretical arrival time (None: never seen or expired).
    The Redis adapter runs the same steps in Lua; tests hold the two to the same answers.
    """
    new_tats: list[float] = []
    verdict = Verdict(0.0)
    for i, (tat, limit) in enumerate(zip(tats, limits, strict=True)):
        start = now if tat is None or tat < now else tat
        next_tat = start + limit.interval_s
        early = next_tat - limit.span_s - now
        if early > verdict.wait_s + 1e-9:
            verdict = Verdict(early, i)
        new_tats.append(next_tat)
    return verdict, new_tats if verdict.allowed else []


# --- who is asking ---------------------------------------------------------------------------


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """'10.0.0.0/8, 127.0.0.1' -> networks; raises ValueError naming a bad entry."""
    networks = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(
                f"{part!r} is not an IP address or network (like 10.0.0.0/8 or 192.0.2.7)"
            ) from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Sequence[IPNetwork]
) -> bool:
    return any(address.version == n.version and address in n for n in proxies)


def client_address(
    peer: str | None, forwarded_for: str | None, proxies: Sequence[IPNetwork]
) -> str:
    """The address a request is limited by (an IPv4 address or an IPv6 /64 block)."""
    address = _address(peer or "")
    if address is None:
        return peer or "unknown"
    if forwarded_for and _trusted(address, proxies):
        for hop in reversed(forwarded_for.split(",")):
            found = _address(hop)
            if found is None:
                break  # unreadable: keep the last hop a trusted proxy vouched for
            address = found
            if not _trusted(found, proxies):
                break
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
