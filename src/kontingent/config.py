"""Settings: read once from the environment (and CLI options) by the entry points, never at import.

Every setting has an environment variable `KONTINGENT_<NAME>`; the CLI passes its options as
overrides, so the precedence is: option > environment > default.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kontingent.ratelimit.model import LimitSyntaxError, parse_limit, parse_networks

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./var/kontingent.sqlite3"
_DEV_SECRET = "dev-only-" + "insecure-secret-key"
DEFAULT_PHONE_SHARE_PERCENT = 20  # of each new contingent's seats, kept for the hotline
MIN_SECRET_LENGTH = 32  # characters; tokens and PIN hashes are HMACs under this key
MIN_METRICS_TOKEN_LENGTH = 16  # characters; a short one could be guessed by trying
# The schemes each URL setting can be served with; anything else fails later and less clearly.
URL_SCHEMES = {
    "database_url": ("sqlite+aiosqlite", "postgresql+asyncpg"),
    "redis_url": ("redis", "rediss", "unix"),
    "smtp_url": ("smtp", "smtps"),
    "sms_gateway_url": ("http", "https"),
    "public_url": ("http", "https"),
}


class SettingsError(ValueError):
    """A setting has a value the service cannot run with."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_SQLITE_URL
    # PostgreSQL schema to work in (search_path); lets several deployments or test runs
    # share one database without seeing each other.
    database_schema: str | None = None
    redis_url: str | None = None
    # Start of every Redis key and channel of this deployment (rate limits, cache
    # invalidation), so several deployments or test runs can share one Redis.
    redis_prefix: str = "kontingent:"
    smtp_url: str | None = None
    sms_gateway_url: str | None = None
    secret_key: str = _DEV_SECRET
    demo: bool = False
    # Demo mode on a host other than loopback: its secret is public and its dev mailbox shows
    # every PIN, so `serve` refuses that unless this says it is meant (and warns loudly).
    demo_public: bool = False
    # Seconds added to the service's clock, so a demo or a benchmark (bench/booking.py --now)
    # shows a chosen hour of the seeded day. Demo mode only: `check` refuses it otherwise.
    clock_offset_s: float = 0.0
    waiting_room: bool = False
    # The waiting room (docs/operations.md, "Waiting room"): mode off|scheduled|auto ("" =
    # scheduled when waiting_room is true, else off); the opening minute as ISO 8601 ("" =
    # admitting from the start); admissions per second; seconds an admission may be used;
    # auto mode's threshold in guarded requests per second. Operators change these at run
    # time with `kontingent waiting-room set` (stored in the database and in Redis, seen by
    # every process, and put back from the database into a Redis that came back empty).
    waiting_room_mode: str = ""
    waiting_room_opens_at: str = ""
    waiting_room_admission_rate: float = 50.0
    waiting_room_admission_ttl_s: float = 900.0
    waiting_room_auto_threshold: float = 200.0
    host: str = "127.0.0.1"
    port: int = 8000
    # The portal's address as people reach it (https://impfen.example.de), for links in SMS
    # and e-mails (the waitlist SMS); "" = http://HOST:PORT, right for the demo only.
    public_url: str = ""
    workers: int = 1
    log_level: str = "info"
    # "json" (one object per line), "console" (for people) or "auto": console in demo mode.
    log_format: str = "auto"
    # One log line per request (method, route template, status, ms); off under load.
    access_log: bool = False
    # Where `kontingent serve` keeps the workers' metric files (emptied at start); default:
    # PROMETHEUS_MULTIPROC_DIR if set, else a folder per port in the temporary directory.
    metrics_dir: str = ""
    # Run the outbox relay inside the web process (embedded mode).
    embedded_relay: bool = True
    # Cache of free slots per centre and vaccine; a booking decides against the database.
    availability_ttl_s: float = 1.0
    # How long those readings are kept while the cross-process invalidation (Redis) is
    # connected: every change then reaches the cache, so a key is read again when a change
    # drops it; this bounds how long seats a late message counted twice stay hidden.
    availability_settled_ttl_s: float = 30.0
    # How long the public availability feed is kept (and may be cached by its readers).
    feed_ttl_s: float = 5.0
    # No offer starts sooner than this after now: people need time to get there, and a
    # centre's day list is printed ahead (issue 14).
    offer_lead_minutes: int = 120
    # The phone share (issue 15): the percentage of a new contingent's seats held back for
    # the hotline, and how many hours before a slot starts its held-back seats still free
    # are released to everyone (by the scheduler: jobs/phone_release.py).
    phone_share_percent: int = DEFAULT_PHONE_SHARE_PERCENT
    phone_release_hours: int = 48
    db_pool_size: int = 10
    # Server-side limits on every PostgreSQL statement of the service (0: none), so that no
    # request outlives its client's patience behind a lock or a slow query: it is answered
    # 503 database_unavailable with Retry-After instead. Migrations and seeds run without.
    db_statement_timeout_s: float = 5.0
    db_lock_timeout_s: float = 2.0
    # How long a request waits for a free database connection before it is answered 503
    # overloaded with Retry-After (kontingent.db, POOL_WAIT_S).
    db_pool_wait_s: float = 5.0
    # Rate limits of the expensive endpoints, "N/period": N at once, then N per period
    # (docs/operations.md, "Rate limits", explains the numbers); "off" drops one limit,
    # rate_limits=false all of them (load tests from one machine).
    rate_limits: bool = True
    # Proxies whose X-Forwarded-For is believed: comma-separated addresses or networks.
    trusted_proxies: str = ""
    # Origins (https://host[:port], comma-separated) whose pages may call the API from a
    # browser; "" = pages of this site only. Calls without an Origin header are not affected.
    cors_origins: str = ""
    # When set, /metrics and /readyz answer only requests with `Authorization: Bearer <it>`;
    # "" = open, for a network where only the balancer and Prometheus reach the hosts.
    metrics_token: str = ""
    # PINs one phone number may get within any 24 hours (the verification service's own rule,
    # checked in the database, so it holds with rate_limits=false and without Redis). A
    # relative booking for several people with one number needs a PIN per booking.
    pins_per_phone_per_day: int = 5
    rate_pin_send_per_ip: str = "30/10m"
    rate_pin_send_per_phone: str = "10/1h"
    rate_pin_check_per_ip: str = "60/10m"
    rate_pin_check_per_verification: str = "10/10m"
    rate_booking_per_ip: str = "120/10m"
    rate_booking_per_phone: str = "20/10m"
    rate_eligibility_per_ip: str = "600/10m"
    rate_offers_per_ip: str = "1200/10m"
    # Queue joins before the opening minute: each draws a random place, so each extra join
    # is one more lottery ticket. After the opening a join only queues at the back.
    rate_queue_draw_per_ip: str = "60/10m"
    # Looking a booking up (or cancelling it) by code and birth date: every lookup counts per
    # address; per code, "N/period" means N wrong birth dates, then a cool-down of `period`
    # that doubles with each further wrong one (up to a day). The per-code lock-out is not a
    # rate but an attempt cap, like a PIN's five tries: rate_limits=false leaves it on.
    rate_booking_lookup_per_ip: str = "30/10m"
    rate_booking_lookup_per_code: str = "5/1m"
    # Changing a booking (portal and API): per address, and per booking once the caller gave
    # its code and birth date. Joining the waitlist: per address and per verified phone.
    rate_rebook_per_ip: str = "60/1h"
    rate_rebook_per_booking: str = "3/1h"
    rate_cancel_per_ip: str = "60/1h"
    rate_cancel_per_booking: str = "3/1h"
    rate_waitlist_join_per_ip: str = "60/1h"
    rate_waitlist_join_per_phone: str = "10/1h"
    # Messages other than PINs that one phone number or e-mail address may get within the
    # period, whatever sends them (at most N in any such period, counted in the outbox).
    rate_messages_per_recipient: str = "6/1h"
    # Who runs the service: named in every portal page's footer, in the Impressum and in the
    # privacy notice. The defaults are demo values for the Kassenärztliche Vereinigung
    # Westfalen-Lippe (the operator of 2021); a deployment sets its own, checked by a lawyer.
    operator_name: str = "Kassenärztliche Vereinigung Westfalen-Lippe"
    operator_address: str = "Robert-Schimrigk-Straße 4–6, 44141 Dortmund"
    operator_email: str = "impftermine@kvwl.example"
    operator_representative: str = "Der Vorstand der KVWL"
    # Whom to ask about one's data (the data protection officer), for the privacy notice.
    privacy_contact: str = "datenschutz@kvwl.example"
    # Staff logins (docs/operations.md, "Staff accounts"): per address, and per user name
    # "N/period": N wrong passwords within the period lock the name for that period.
    rate_staff_login_per_ip: str = "30/10m"
    # A hotline agent's searches for callers' bookings, per agent (a call centre's agents
    # share a few addresses, so an address limit would stop them all together).
    rate_agent_lookup_per_agent: str = "300/1h"
    # A hotline agent's bookings, cancellations and rebookings together, and offer requests,
    # per agent (a call takes minutes: these leave room for a busy shift, not for a script).
    rate_agent_booking_per_agent: str = "120/1h"
    rate_agent_offers_per_agent: str = "600/1h"
    # An admin's changes of centres and closed days (each closure may cancel bookings and
    # send their SMS and e-mails), per admin.
    rate_admin_centres_per_admin: str = "120/1h"
    # An admin's changes of vaccines, cohorts and campaign settings, per admin: each one makes
    # every process read its catalogue anew, so a script looping over them is stopped.
    rate_admin_settings_per_admin: str = "300/1h"
    # What a centre's staff record (check-ins, vaccinations, no-shows), per staff account: a
    # door checks in a few hundred people a day and a lane vaccinates one every few minutes;
    # this leaves room for the busiest door, not for a script.
    rate_centre_record_per_user: str = "1200/1h"
    # Second doses booked at a centre's desk, per staff account (a desk books one person
    # every few minutes; this leaves room for a busy day, not for a script).
    rate_second_dose_per_user: str = "120/1h"
    # An admin's contingent releases and their cancellations together, per admin (each one
    # writes up to 100,000 slots and may send a wave of waitlist SMS).
    rate_admin_release_per_admin: str = "60/1h"
    staff_lockout: str = "5/15m"
    # A staff browser session ends after this long without a request, and in any case this
    # long after the login; an API token ends the absolute time after it was issued.
    staff_session_idle_s: float = 1800.0
    staff_session_absolute_s: float = 43200.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def portal_url(self) -> str:
        """Where links in messages lead: the public URL, else this server's own address."""
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def dev_mailbox(self) -> bool:
        """Messages go to the local dev mailbox when a transport is not configured."""
        return self.smtp_url is None or self.sms_gateway_url is None

    def check(self) -> Settings:
        """Refuse settings that would be unsafe outside demo mode."""
        if not self.demo and self.secret_key == _DEV_SECRET:
            raise SettingsError(
                "KONTINGENT_SECRET_KEY is not set: set it to a long random value "
                f"(for example {secrets.token_urlsafe(32)!r}) or run with --demo"
            )
        if not self.demo and len(self.secret_key) < MIN_SECRET_LENGTH:
            raise SettingsError(
                f"KONTINGENT_SECRET_KEY is too short ({len(self.secret_key)} characters): use at "
                f"least {MIN_SECRET_LENGTH} random characters, for example "
                f"{secrets.token_urlsafe(32)!r}"
            )
        self.check_clock_offset()
        if self.workers < 1:
            raise SettingsError("workers must be 1 or more")
        if self.demo and not self.demo_public and not is_loopback(self.host):
            raise SettingsError(
                f"--demo serves on 127.0.0.1 only, not on {self.host}: its secret key is "
                "public and /api/v1/dev/messages shows every PIN to whoever asks. Leave out "
                "--host (KONTINGENT_HOST), or add --demo-public (KONTINGENT_DEMO_PUBLIC=true) "
                "if other machines must reach the demo and nothing real goes into it"
            )
        return self

    def check_clock_offset(self) -> None:
        """A shifted clock outside demo mode would release, book and expire at wrong times."""
        if self.clock_offset_s and not self.demo:
            raise SettingsError(
                "KONTINGENT_CLOCK_OFFSET_S shifts the service's clock and is for demos and "
                "benchmarks only: leave it 0, or serve with --demo (KONTINGENT_DEMO=true)"
            )


def is_loopback(host: str) -> bool:
    """Whether binding to `host` keeps the server reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off", ""}


def _parse(name: str, raw: str, kind: type) -> Any:
    if kind is bool:
        value = raw.strip().lower()
        if value in _BOOL_TRUE | _BOOL_FALSE:
            return value in _BOOL_TRUE
        raise SettingsError(f"KONTINGENT_{name.upper()} must be true or false, not {raw!r}")
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            raise SettingsError(
                f"KONTINGENT_{name.upper()} must be a number, not {raw!r}"
            ) from None
    return raw


_KINDS: dict[str, type] = {
    "demo": bool,
    "demo_public": bool,
    "clock_offset_s": float,
    "waiting_room": bool,
    "waiting_room_admission_rate": float,
    "waiting_room_admission_ttl_s": float,
    "waiting_room_auto_threshold": float,
    "embedded_relay": bool,
    "port": int,
    "workers": int,
    "db_pool_size": int,
    "pins_per_phone_per_day": int,
    "db_statement_timeout_s": float,
    "db_lock_timeout_s": float,
    "db_pool_wait_s": float,
    "availability_ttl_s": float,
    "availability_settled_ttl_s": float,
    "feed_ttl_s": float,
    "offer_lead_minutes": int,
    "phone_share_percent": int,
    "phone_release_hours": int,
    "rate_limits": bool,
    "access_log": bool,
    "staff_session_idle_s": float,
    "staff_session_absolute_s": float,
}


# Older names still read (the rush benchmark sets the first).
_ALIASES = {"waiting_room_admission_rate": "KONTINGENT_ADMISSION_RATE"}


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from `environ` (default: the process environment) and explicit overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Settings):
        if f.name == "extra":
            continue
        raw = env.get(f"KONTINGENT_{f.name.upper()}")
        if raw is None and f.name in _ALIASES:
            raw = env.get(_ALIASES[f.name])
        if raw is not None:
            values[f.name] = _parse(f.name, raw, _KINDS.get(f.name, str))
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = Settings(**values)
    _check_urls(settings)
    _check_waiting_room(settings)
    _check_logging(settings)
    _check_rates(settings)
    _check_origins(settings)
    _check_metrics_token(settings)
    _check_timeouts(settings)
    _check_pins(settings)
    _check_staff(settings)
    _check_phone_share(settings)
    return settings


def _check_phone_share(settings: Settings) -> None:
    if not 0 <= settings.phone_share_percent <= 100:
        raise SettingsError(
            "KONTINGENT_PHONE_SHARE_PERCENT must be a whole number from 0 to 100 (the "
            f"percentage of each new contingent's seats kept for the hotline), not "
            f"{settings.phone_share_percent}"
        )
    if not 0 <= settings.phone_release_hours <= 30 * 24:
        raise SettingsError(
            "KONTINGENT_PHONE_RELEASE_HOURS must be a whole number from 0 to 720 (hours "
            "before an appointment when seats kept for the hotline go to everyone), not "
            f"{settings.phone_release_hours}"
        )


def _check_pins(settings: Settings) -> None:
    pins = settings.pins_per_phone_per_day
    if not 1 <= pins <= 100:
        raise SettingsError(
            "KONTINGENT_PINS_PER_PHONE_PER_DAY must be a whole number from 1 to 100 "
            f"(PINs one phone number may get within 24 hours), not {pins}"
        )


def _check_staff(settings: Settings) -> None:
    for name in ("staff_session_idle_s", "staff_session_absolute_s"):
        if getattr(settings, name) <= 0:
            raise SettingsError(f"KONTINGENT_{name.upper()} must be above 0 seconds")
    try:
        lockout = parse_limit(settings.staff_lockout)
    except LimitSyntaxError as exc:
        raise SettingsError(f"KONTINGENT_STAFF_LOCKOUT: {exc}") from None
    if lockout is None:
        raise SettingsError("KONTINGENT_STAFF_LOCKOUT cannot be off: write it like 5/15m")


def _check_timeouts(settings: Settings) -> None:
    for name in ("db_statement_timeout_s", "db_lock_timeout_s"):
        if getattr(settings, name) < 0:
            raise SettingsError(f"KONTINGENT_{name.upper()} must be 0 (no limit) or more")
    if settings.db_pool_wait_s <= 0:
        raise SettingsError("KONTINGENT_DB_POOL_WAIT_S must be above 0 seconds")
    for name in ("availability_ttl_s", "availability_settled_ttl_s"):
        if getattr(settings, name) < 0:
            raise SettingsError(f"KONTINGENT_{name.upper()} must be 0 (no cache) or more seconds")
    if not 0 <= settings.offer_lead_minutes <= 7 * 24 * 60:
        raise SettingsError(
            "KONTINGENT_OFFER_LEAD_MINUTES must be 0 to 10080 (a week): the minutes from now "
            "before which no offer may start"
        )


def _check_urls(settings: Settings) -> None:
    for name, schemes in URL_SCHEMES.items():
        url = getattr(settings, name)
        if url is None or (url == "" and name != "database_url"):
            continue  # an empty optional URL means "not configured"
        scheme = url.partition("://")[0] if "://" in url else ""
        if scheme not in schemes:
            # Name the scheme only: the rest of a URL may hold a password.
            found = f"the scheme {scheme!r}" if scheme else "no scheme"
            raise SettingsError(
                f"KONTINGENT_{name.upper()} has {found}: use a URL starting with "
                + " or ".join(f"{s}://" for s in schemes)
            )


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a file-based SQLite database so a fresh checkout just runs."""
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and ":memory:" not in url:
        Path(url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)


def _check_rates(settings: Settings) -> None:
    for f in dataclasses.fields(Settings):
        if f.name.startswith("rate_") and f.name != "rate_limits":
            try:
                parse_limit(getattr(settings, f.name))
            except LimitSyntaxError as exc:
                raise SettingsError(f"KONTINGENT_{f.name.upper()}: {exc}") from None
    try:
        parse_networks(settings.trusted_proxies)
    except ValueError as exc:
        raise SettingsError(f"KONTINGENT_TRUSTED_PROXIES: {exc}") from None


def _check_waiting_room(settings: Settings) -> None:
    if settings.waiting_room_mode not in ("", "off", "scheduled", "auto"):
        raise SettingsError(
            f"KONTINGENT_WAITING_ROOM_MODE must be off, scheduled or auto, "
            f"not {settings.waiting_room_mode!r}"
        )
    opens = settings.waiting_room_opens_at
    if opens:
        try:
            parsed = datetime.fromisoformat(opens)
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise SettingsError(
                "KONTINGENT_WAITING_ROOM_OPENS_AT must be a time with its offset, "
                f"like 2021-01-25T08:00:00+01:00, not {opens!r}"
            )
    for name in ("admission_rate", "admission_ttl_s", "auto_threshold"):
        if getattr(settings, f"waiting_room_{name}") <= 0:
            raise SettingsError(f"KONTINGENT_WAITING_ROOM_{name.upper()} must be above 0")
    room_on = settings.waiting_room_mode not in ("", "off") or (
        settings.waiting_room and settings.waiting_room_mode == ""
    )
    if room_on and settings.workers > 1 and not settings.redis_url:
        # Without Redis each process would keep a queue of its own: tickets got from one
        # would be unknown to the others.
        raise SettingsError(
            "the waiting room with more than one worker needs KONTINGENT_REDIS_URL "
            "(one queue for all processes); without Redis serve with --workers 1"
        )


def _check_logging(settings: Settings) -> None:
    if settings.log_format not in ("auto", "json", "console"):
        raise SettingsError(
            f"KONTINGENT_LOG_FORMAT must be auto, json or console, not {settings.log_format!r}"
        )
    if settings.log_level not in ("critical", "error", "warning", "info", "debug"):
        raise SettingsError(
            "KONTINGENT_LOG_LEVEL must be critical, error, warning, info or debug, "
            f"not {settings.log_level!r}"
        )


def cors_origins(setting: str) -> list[str]:
    """The origins of KONTINGENT_CORS_ORIGINS as browsers send them (no trailing slash).
    `*` in a host stands for any run of characters (`https://*.example.org`)."""
    found = []
    for item in setting.split(","):
        origin = item.strip().lower().rstrip("/")
        if origin and origin != "*" and not _is_origin(origin):
            raise SettingsError(
                f"KONTINGENT_CORS_ORIGINS: {item.strip()!r} is not an origin: write each as "
                "scheme://host or scheme://host:port (http or https, no path), comma-separated, "
                "for example https://termine.example.org"
            )
        if origin:
            found.append(origin)
    return found


def _is_origin(text: str) -> bool:
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  # raises ValueError on a port that is not a number
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and not (parts.path or parts.query or parts.fragment)
        and text == f"{parts.scheme}://{parts.netloc}"
    )


def _check_origins(settings: Settings) -> None:
    cors_origins(settings.cors_origins)


def _check_metrics_token(settings: Settings) -> None:
    token = settings.metrics_token
    if token and (len(token) < MIN_METRICS_TOKEN_LENGTH or not token.isprintable() or " " in token):
        raise SettingsError(
            f"KONTINGENT_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_LENGTH} characters "
            f"without spaces, for example {secrets.token_urlsafe(24)!r}; leave it empty to "
            "keep /metrics and /readyz open"
        )
