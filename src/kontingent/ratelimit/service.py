"""The limits of the expensive endpoints: who may ask how often, and what happens when the
counters cannot be reached.

Invariants kept here:
- Every route that sends a message or changes state names the action it is limited by in its
  handler's `opt` (`limited("rebook")`), or why it needs none (`unlimited("...")`); a test
  walks the application's routes and fails on a handler that does neither or names an action
  that is not configured here. Enforcing another action than the one named is a bug and
  raises.
- One call of `enforce` is one round trip to the store: the address limit and the subject
  limit (phone number, verification, booking) of an action are checked together, all or
  nothing. A booking's budget is checked only once the caller proved they may change it
  (code and birth date), so a stranger who knows a code cannot use it up.
- These limits stop a caller hammering one action. What a recipient may receive is capped
  apart from them, where messages are queued (`recipient_cap`, notifications/repository.py):
  a limit here covers the routes that remember to ask, the cap every message whatever sent
  it.
- Subjects are stored as keyed hashes (BLAKE2b under the secret key), never as the phone
  number or the address itself: the store holds no personal data.
- Each action names its failure policy. Sending a PIN fails closed: an SMS costs money and a
  flood of them is the abuse these limits exist for, so while the store is down no PIN is
  sent (503 with Retry-After, nothing stored). Everything else fails open: a PIN check is
  already capped at 5 attempts in the database, a booking needs a verified token and decides
  against the database, reads are served from the cache, and the messages that rebooking,
  cancelling and the waitlist send stay capped per recipient in the database; refusing them
  all because Redis hiccupped would turn a small failure into an outage at 08:00.
- After a failure the store is not asked again for a short pause, so a dead Redis costs one
  timeout per pause, not one per request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from kontingent.clock import Clock
from kontingent.config import Settings
from kontingent.errors import RateLimited
from kontingent.notifications.model import RecipientCap
from kontingent.ratelimit.model import (
    IPNetwork,
    Limit,
    Verdict,
    client_address,
    parse_limit,
    parse_networks,
)
from kontingent.ratelimit.stores import (
    LimiterUnavailable,
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
)

log = structlog.get_logger(__name__)
STORE_PAUSE = timedelta(seconds=1)  # after a failure, the store is left alone this long
CLOSED_RETRY_AFTER_S = 30
DEFAULT_PREFIX = "kontingent:rate:"
RETRY_AFTER_SCOPE_KEY = "kontingent.retry_after_s"
RATE_LIMIT_OPT = "rate_limit"  # a route handler's `opt` key: the actions it is limited by
UNLIMITED_OPT = "rate_limit_exempt"  # ... or why it needs no limit


def limited(*actions: str) -> dict[str, tuple[str, ...]]:
    """A route handler's `opt`: the actions whose limits the handler enforces."""
    return {RATE_LIMIT_OPT: actions}


def unlimited(reason: str) -> dict[str, str]:
    """A route handler's `opt`: it sends nothing and changes nothing worth a limit, and why."""
    return {UNLIMITED_OPT: reason}


class LimitsUnavailable(RateLimited):
    """The limits could not be checked and this action fails closed."""

    status = 503


@dataclass(frozen=True, slots=True)
class Action:
    """An endpoint's limits: per client address, and per subject when it has one."""

    name: str
    what: str  # in messages: "PIN requests", "bookings"
    subject: str | None  # "phone number", "verification"; None: address only
    per_address: Limit | None
    per_subject: Limit | None
    fail_closed: bool = False


def _pairs(action: Action, subject: str | None) -> list[tuple[str, Limit, str]]:
    """(kind, limit, raw key) of each limit that applies: 'address' or 'subject'."""
    pairs = []
    if action.per_address is not None:
        pairs.append(("address", action.per_address, ""))
    if action.per_subject is not None and subject:
        pairs.append(("subject", action.per_subject, subject))
    return pairs


def _note_retry_after(scope: Mapping[str, Any], seconds: int) -> None:
    """Leave the wait in the request's scope for `retry_after_header`: a portal form shows a
    refusal inline (typed data kept) instead of raising, and still owes the header."""
    if isinstance(scope, MutableMapping):
        scope[RETRY_AFTER_SCOPE_KEY] = seconds


def retry_after_header(app: ASGIApp) -> ASGIApp:
    """Middleware: a 429 or 503 answer gets the Retry-After a limit noted, unless it has one."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_header(message: Message) -> None:
            seconds = scope.get(RETRY_AFTER_SCOPE_KEY)
            if message["type"] == "http.response.start" and seconds is not None:
                headers = list(message.get("headers") or [])
                present = any(k.lower() == b"retry-after" for k, _ in headers)
                if message["status"] in (429, 503) and not present:
                    headers.append((b"retry-after", str(seconds).encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_header)

    return middleware


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"


class RateLimits:
    def __init__(
        self,
        store: RateLimiter,
        actions: Mapping[str, Action],
        clock: Clock,
        secret_key: str,
        proxies: tuple[IPNetwork, ...] = (),
    ) -> None:
        self.store = store
        self.actions = dict(actions)
        self.clock = clock
        self.proxies = proxies
        self._secret = hashlib.sha256(secret_key.encode()).digest()
        self._paused_until: float = 0.0
        self.refused = 0
        self.unavailable = 0

    def address_of(self, scope: Mapping[str, Any]) -> str:
        """The client address of an ASGI request (see `model.client_address`)."""
        peer = scope.get("client")
        forwarded = None
        if self.proxies:  # several X-Forwarded-For headers read as one list, in order
            hops = [
                v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-forwarded-for"
            ]
            forwarded = ",".join(hops) or None
        return client_address(peer[0] if peer else None, forwarded, self.proxies)

    def _key(self, action: str, kind: str, value: str) -> str:
        digest = hashlib.blake2b(value.encode(), key=self._secret, digest_size=12).hexdigest()
        return f"{action}:{kind}:{digest}"

    async def enforce(
        self, scope: Mapping[str, Any], action_name: str, subject: str | None = None
    ) -> None:
        """Count this request; raise RateLimited (429) when over a limit."""
        _check_marker(scope, action_name)
        action = self.actions.get(action_name)
        if action is None:
            return
        pairs = _pairs(action, subject)
        if not pairs:
            return
        address = self.address_of(scope)
        keys = [self._key(action.name, kind, raw or address) for kind, _, raw in pairs]
        verdict = await self._check(scope, action, keys, [limit for _, limit, _ in pairs])
        if verdict is None or verdict.allowed:
            return
        self.refused += 1
        kind = pairs[verdict.refused_by or 0][0]
        whose = "from this network address" if kind == "address" else f"for this {action.subject}"
        seconds = verdict.retry_after_s
        _note_retry_after(scope, seconds)
        refusal = RateLimited(
            f"too many {action.what} {whose}: try again in {_duration(seconds)}",
            retry_after_s=seconds,
        )
        per = "address" if kind == "address" else action.subject
        refusal.details.update(action=action.name, per=per)
        raise refusal

    async def _check(
        self, scope: Mapping[str, Any], action: Action, keys: list[str], limits: list[Limit]
    ) -> Verdict | None:
        """The store's verdict; None when the store is down and the action fails open."""
        now = self.clock.now().timestamp()
        if now >= self._paused_until:
            try:
                return await self.store.check(keys, limits, now)
            except LimiterUnavailable as exc:
                self._paused_until = now + STORE_PAUSE.total_seconds()
                log.warning("rate_limit_store_unavailable", error=str(exc), action=action.name)
        self.unavailable += 1
        if action.fail_closed:
            _note_retry_after(scope, CLOSED_RETRY_AFTER_S)
            raise LimitsUnavailable(
                f"{action.what} are paused for a moment because a safety check is not "
                f"reachable; nothing was sent: try again in {CLOSED_RETRY_AFTER_S} seconds",
                retry_after_s=CLOSED_RETRY_AFTER_S,
                code="rate_limit_unavailable",
            )
        return None

    async def aclose(self) -> None:
        await self.store.aclose()


def _check_marker(scope: Mapping[str, Any], action_name: str) -> None:
    """A handler that enforces an action other than the one its `opt` names is a bug: the
    route walk (tests) reads the marker, so the two must not drift apart."""
    handler = scope.get("route_handler")
    marked = getattr(handler, "opt", {}).get(RATE_LIMIT_OPT) if handler is not None else None
    if marked is not None and action_name not in marked:
        raise RuntimeError(f"{scope.get('path')} is marked {marked!r} but enforces {action_name!r}")


def actions_from(settings: Settings) -> dict[str, Action]:
    """The limited actions and their limits as configured (docs/operations.md explains the
    defaults). Only sending a PIN fails closed."""

    def limit(name: str) -> Limit | None:
        return parse_limit(getattr(settings, f"rate_{name}"))

    actions = [
        Action("pin_send", "PIN requests", "phone number", limit("pin_send_per_ip"),
               limit("pin_send_per_phone"), fail_closed=True),
        Action("pin_check", "PIN attempts", "verification", limit("pin_check_per_ip"),
               limit("pin_check_per_verification")),
        Action("booking", "booking requests", "phone number", limit("booking_per_ip"),
               limit("booking_per_phone")),
        Action("eligibility", "eligibility checks", None, limit("eligibility_per_ip"), None),
        Action("offers", "offer requests", None, limit("offers_per_ip"), None),
        Action("queue_draw", "queue joins before the opening", None,
               limit("queue_draw_per_ip"), None),
        # Per code the lookup has a lock-out of its own (booking/lookups.py).
        Action("booking_lookup", "booking lookups", None, limit("booking_lookup_per_ip"), None),
        Action("rebook", "rebookings", "booking", limit("rebook_per_ip"),
               limit("rebook_per_booking")),
        Action("cancel", "cancellations", "booking", limit("cancel_per_ip"),
               limit("cancel_per_booking")),
        Action("waitlist_join", "waitlist sign-ups", "phone number",
               limit("waitlist_join_per_ip"), limit("waitlist_join_per_phone")),
        # Per user name a lock-out of its own counts wrong passwords (staff/service.py).
        Action("staff_login", "staff logins", None, limit("staff_login_per_ip"), None),
        Action("agent_lookup", "booking searches", "agent", None,
               limit("agent_lookup_per_agent")),
        Action("agent_booking", "bookings, cancellations and rebookings", "agent", None,
               limit("agent_booking_per_agent")),
        Action("agent_offers", "offer requests", "agent", None,
               limit("agent_offers_per_agent")),
        # A closure cancels bookings and sends messages: per admin, as the agents' limits.
        Action("admin_centres", "centre changes and closures", "admin", None,
               limit("admin_centres_per_admin")),
        Action("admin_settings", "settings changes", "admin", None,
               limit("admin_settings_per_admin")),
        Action("centre_record", "check-ins, vaccinations and no-shows", "staff account", None,
               limit("centre_record_per_user")),
        Action("second_dose", "second doses booked on the spot", "staff account", None,
               limit("second_dose_per_user")),
        Action("admin_release", "contingent releases and cancellations", "admin", None,
               limit("admin_release_per_admin")),
    ]  # fmt: skip
    return {a.name: a for a in actions} if settings.rate_limits else {}


def recipient_cap(settings: Settings) -> RecipientCap:
    """How many messages (PINs aside) one recipient may get per period, as configured; no cap
    when rate limits are off as a whole (load tests)."""
    limit = parse_limit(settings.rate_messages_per_recipient) if settings.rate_limits else None
    if limit is None:
        return RecipientCap(None, timedelta(hours=1))
    return RecipientCap(limit.count, timedelta(seconds=limit.period_s))


def rate_limits_for(settings: Settings, clock: Clock, prefix: str = DEFAULT_PREFIX) -> RateLimits:
    """Redis when `redis_url` is set (counters shared by all processes), else in memory."""
    store: RateLimiter = (
        RedisRateLimiter.from_url(settings.redis_url, prefix)
        if settings.redis_url
        else MemoryRateLimiter()
    )
    proxies = parse_networks(settings.trusted_proxies)
    return RateLimits(store, actions_from(settings), clock, settings.secret_key, proxies)
