"""The services of one process, built once from the settings: what the routes, the worker
and the tests work with. Kept apart from `app.py` so that routes can take the whole set as
one dependency (Litestar resolves two or more dependencies of a handler in a task group,
which cost an offer read about as much as the read itself) without importing the app.

Nothing here connects at import; `build_services` makes engines and clients that connect
when first used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from kontingent.admin.dashboard import Dashboard
from kontingent.admin.releases_service import Releases
from kontingent.admin.stats import Statistics
from kontingent.booking.lookups import BookingLookups
from kontingent.booking.service import Booking
from kontingent.clock import Clock, OffsetClock, SystemClock
from kontingent.config import Settings
from kontingent.db import Database, make_engine
from kontingent.eligibility.service import Eligibility
from kontingent.inventory.invalidation import RedisInvalidation
from kontingent.inventory.service import Inventory
from kontingent.notifications.service import Relay
from kontingent.notifications.transports import relay_for
from kontingent.ratelimit.lockouts import Lockout, Lockouts, lockouts_for, store_for
from kontingent.ratelimit.model import parse_limit
from kontingent.ratelimit.service import RateLimits, rate_limits_for, recipient_cap
from kontingent.staff.model import Lifetimes
from kontingent.staff.service import Staff
from kontingent.verification.service import Verification
from kontingent.waiting_room.service import WaitingRoom, waiting_room_for
from kontingent.waitlist.service import Waitlist


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    db: Database
    clock: Clock
    inventory: Inventory
    eligibility: Eligibility
    verification: Verification
    booking: Booking
    # Booking lookups by code and birth date from outside (API, portal): throttled.
    lookups: BookingLookups
    relay: Relay
    waitlist: Waitlist
    limits: RateLimits
    # Cross-process cache invalidation; None without Redis (one process, nothing to tell).
    invalidation: RedisInvalidation | None
    waiting_room: WaitingRoom
    staff: Staff
    # The admins' figures: the live dashboard (kept a few seconds per process) and statistics.
    dashboard: Dashboard
    statistics: Statistics
    # Contingent releases an operator schedules, executed by the scheduler (admin/).
    releases: Releases


def staff_for(settings: Settings, db: Database, clock: Clock) -> Staff:
    """Staff accounts and sessions, their lock-out counted where the other lock-outs are."""
    limit = parse_limit(settings.staff_lockout)
    if limit is None:
        raise ValueError("staff_lockout cannot be off")
    rule = Lockout(limit.count, limit.period_s, max_s=limit.period_s, memory_s=limit.period_s)
    store = store_for(settings, settings.redis_prefix + "lockout:")
    lockouts = Lockouts(store, rule, clock, settings.secret_key, "staff_login")
    lifetimes = Lifetimes(
        timedelta(seconds=settings.staff_session_idle_s),
        timedelta(seconds=settings.staff_session_absolute_s),
    )
    return Staff(db, clock, lifetimes, lockouts)


def clock_for(settings: Settings) -> Clock:
    """The system clock, shifted in demo mode by `clock_offset_s` when set."""
    if not settings.clock_offset_s:
        return SystemClock()
    settings.check_clock_offset()  # whoever built the settings, production never shifts
    return OffsetClock(timedelta(seconds=settings.clock_offset_s))


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    clock = clock or clock_for(settings)
    db = Database(
        make_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            schema=settings.database_schema,
            statement_timeout_s=settings.db_statement_timeout_s,
            lock_timeout_s=settings.db_lock_timeout_s,
            pool_wait_s=settings.db_pool_wait_s,
        )
    )
    inventory = Inventory(
        db,
        clock,
        ttl_s=settings.availability_ttl_s,
        settled_ttl_s=settings.availability_settled_ttl_s,
        feed_ttl_s=settings.feed_ttl_s,
        lead_minutes=settings.offer_lead_minutes,
    )
    cap = recipient_cap(settings)  # every service that queues messages queues under it
    invalidation = (
        RedisInvalidation.from_url(settings.redis_url, inventory, settings.redis_prefix + "slots")
        if settings.redis_url
        else None
    )
    booking = Booking(db, clock, inventory, settings.secret_key, cap)
    limits = rate_limits_for(settings, clock, settings.redis_prefix + "rate:")
    guesses = lockouts_for(settings, clock, "booking_lookup", settings.redis_prefix + "lockout:")
    room = waiting_room_for(settings, clock, db)
    waitlist = Waitlist(db, clock, inventory, cap, settings.portal_url)
    return Services(
        settings=settings,
        db=db,
        clock=clock,
        inventory=inventory,
        eligibility=Eligibility(inventory, clock),
        verification=Verification(
            db, clock, settings.secret_key, cap, settings.pins_per_phone_per_day
        ),
        booking=booking,
        lookups=BookingLookups(booking, limits, guesses),
        relay=relay_for(settings, db, clock),
        waitlist=waitlist,
        limits=limits,
        invalidation=invalidation,
        waiting_room=room,
        staff=staff_for(settings, db, clock),
        dashboard=Dashboard(db, clock, inventory, room),
        statistics=Statistics(db, clock, inventory),
        releases=Releases(db, clock, inventory, waitlist, settings.phone_share_percent),
    )
