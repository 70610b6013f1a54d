"""Messages that leave the system, their texts, and the delivery rules (standard library only).

Invariants kept here:
- Every message has a stable `message_id` made when it is queued, so a receiver can drop the
  duplicates that at-least-once delivery may produce. Reminders derive theirs from the
  appointment id, so queueing one twice is caught by the outbox's unique constraint.
- PINs go before everything else (priority 0); confirmations follow (5), reminders last (7).
- A PIN SMS carries its validity: delivered later than that it would only confuse, so the
  relay parks it as expired instead of sending it.
- Retries back off exponentially with jitter, and stop (park) after a bounded number of tries.
- A channel that keeps failing is left alone but for one probe at a time (its breaker is
  open); the first delivery that goes through closes it and says so, so that the messages
  waiting out their backoff can go at once instead of when their grown backoff ends.
- The per-domain e-mail budget never lets a domain take more than `rate` messages per second
  after an initial `burst`; a deferred message is not a failed one.
- No recipient gets more than `RecipientCap.count` messages other than PINs within any
  `RecipientCap.period` (the outbox applies it where messages are queued; see repository.py).
  Spellings of one mailbox (case, a `+tag`, dots at Gmail) count as one recipient.
- The texts of messages live in the gettext catalogues (kontingent.i18n) and are put together
  in messages.py; an SMS's cost is `sms_parts` of it (GSM-7 or, past that alphabet, UCS-2),
  and every SMS body passes `gsm7` first, so one accented name or a typographic dash in a
  translation does not send the whole SMS as UCS-2 (70 characters a part instead of 160).
- SMS go only to the number a PIN verified (the booking's phone); e-mail addresses are never
  confirmed, so they get only their own booking's confirmation, cancellation and rebooking
  messages: no reminders, no waitlist messages.
"""

from __future__ import annotations

import random
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from kontingent.clock import BERLIN

PRIORITY_PIN = 0
PRIORITY_CONFIRMATION = 5
PRIORITY_REMINDER = 7
# Reminders for an appointment go out from this hour (Berlin) on the day before: not at night.
REMINDER_HOUR = 9
# An appointment's length in calendars when the caller does not pass the centre's slot length
# (the schema's default slot length; the demo centres use 20 minutes).
APPOINTMENT_MINUTES = 15


@dataclass(frozen=True, slots=True)
class Message:
    channel: str  # "sms" or "email"
    recipient: str
    body: str
    subject: str = ""
    priority: int = PRIORITY_CONFIRMATION
    message_id: str = field(default_factory=lambda: secrets.token_hex(16))
    calendar: str | None = None  # iCalendar text, attached to an e-mail
    qr: str | None = None  # a door ticket (checkin/model.py), shown in an e-mail as a QR code
    # The language the text is in: an e-mail's Content-Language and its QR image's alt text.
    language: str = "de"
    valid_for: timedelta | None = None  # undelivered after this long: park, do not send


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a transport did not deliver; `permanent` when trying again cannot help."""

    reason: str
    permanent: bool = False


# --- who may get how many messages -------------------------------------------------------------


def recipient_key(channel: str, recipient: str) -> str:
    """The mailbox or phone a message reaches, as the per-recipient cap counts it.

    Phone numbers are stored normalised (E.164) already. An e-mail address is folded the way
    mail providers deliver it, so that an attacker cannot multiply the cap by spelling one
    address many ways: case, a `+tag` after the local part, and dots at Gmail.
    """
    if channel != "email":
        return recipient
    local, _, domain = recipient.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def mailboxes(emails: Sequence[str]) -> list[str]:
    """The addresses to write to: one per mailbox (the first spelling of each), in order."""
    seen: dict[str, str] = {}
    for address in emails:
        seen.setdefault(recipient_key("email", address), address)
    return list(seen.values())


def is_capped(message: Message) -> bool:
    """Whether a message counts against its recipient's cap: all but PINs, which have their
    own, stricter rules per number (verification/model.py)."""
    return message.priority != PRIORITY_PIN


@dataclass(frozen=True, slots=True)
class RecipientCap:
    """At most `count` messages (PINs aside) to one recipient within any `period`; `count`
    None: no cap (only when rate limits are switched off for a load test)."""

    count: int | None
    period: timedelta

    def split(
        self, recent: Mapping[str, int], messages: Sequence[Message]
    ) -> tuple[list[Message], list[Message]]:
        """(to queue, to drop): each recipient's messages in order, while `recent` (messages
        queued to each key within the period) plus those queued here stay within the cap."""
        if self.count is None:
            return list(messages), []
        counted = dict(recent)
        queue: list[Message] = []
        dropped: list[Message] = []
        for message in messages:
            if not is_capped(message):
                queue.append(message)
                continue
            key = recipient_key(message.channel, message.recipient)
            if counted.get(key, 0) >= self.count:
                dropped.append(message)
                continue
            counted[key] = counted.get(key, 0) + 1
            queue.append(message)
        return queue, dropped


# Six fit a booking, two rebookings (a confirmation and, by e-mail, the old dates' removal
# each) and a cancellation within one hour; docs/operations.md, "Rate limits".
DEFAULT_CAP = RecipientCap(6, timedelta(hours=1))


@dataclass(frozen=True, slots=True)
class BookedAppointment:
    start: datetime
    dose: int
    person_name: str
    minutes: int = APPOINTMENT_MINUTES  # the centre's slot length, for calendars
    slot_id: int | None = None  # with `person`, names the calendar event (see calendar.py)
    person: int = 0


@dataclass(frozen=True, slots=True)
class DueReminder:
    """One booked appointment whose day-before reminder is due. `phone` is the booking's
    verified number, whoever of the booking the appointment is for; `language` the one the
    booking was made in."""

    appointment_id: int
    code: str
    start: datetime
    dose: int
    person_name: str
    phone: str
    centre: str
    address: str
    booked_at: datetime
    vaccine: str = ""
    doses: int = 2
    language: str = "de"


def reminder_due_from(start: datetime) -> datetime:
    """When the reminder for an appointment starting at `start` may go out."""
    day_before = start.astimezone(BERLIN).date() - timedelta(days=1)
    return datetime.combine(day_before, time(REMINDER_HOUR), BERLIN)


def reminder_window_end(now: datetime) -> datetime:
    """Appointments starting before this instant have their reminder due at `now`."""
    today = now.astimezone(BERLIN).date()
    days = 2 if now >= datetime.combine(today, time(REMINDER_HOUR), BERLIN) else 1
    return datetime.combine(today + timedelta(days=days), time(0), BERLIN)


def needs_reminder(due: DueReminder) -> bool:
    """A booking made after the reminder time got its confirmation recently enough."""
    return due.booked_at < reminder_due_from(due.start)


# --- delivery rules ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter; about an hour of tries before a message is parked."""

    max_attempts: int = 15
    base_s: float = 2.0
    max_s: float = 600.0

    def retry_at(
        self, attempts: int, now: datetime, rng: random.Random | None = None
    ) -> datetime | None:
        """When to try again after the `attempts`-th failed try; None: park it."""
        if attempts >= self.max_attempts:
            return None
        ceiling = min(self.max_s, self.base_s * 2 ** max(0, attempts - 1))
        # Jitter in the upper half: failed messages spread out instead of retrying in lockstep.
        return now + timedelta(seconds=(rng or random).uniform(ceiling / 2, ceiling))


@dataclass(slots=True)
class Breaker:
    """One channel's circuit breaker, as one relay process sees the channel.

    Closed: messages go as claimed. After `trip_after` failed deliveries in a row (failures
    that may be the channel's: permanent ones are the message's own) it opens: the relay then
    sends one message, the probe, every `probe_every`, and nothing else. A delivery that goes
    through, a probe's or one still in flight, closes it again."""

    trip_after: int = 3
    probe_every: timedelta = timedelta(seconds=2)
    failures: int = 0  # in a row, no delivery between them
    probe_at: datetime | None = None  # while open: when the next probe may go

    @property
    def is_open(self) -> bool:
        return self.probe_at is not None

    def take_probe(self, now: datetime) -> bool:
        """While open: True when a probe may go now; the next one not before `probe_every`."""
        if self.probe_at is None or now < self.probe_at:
            return False
        self.probe_at = now + self.probe_every
        return True

    def succeeded(self) -> bool:
        """A delivery went through; True when that closed the breaker (the channel is back)."""
        was_open = self.probe_at is not None
        self.failures, self.probe_at = 0, None
        return was_open

    def failed(self, now: datetime) -> None:
        """A delivery failed, perhaps for the channel's sake: the next probe counts from now."""
        self.failures += 1
        if self.probe_at is not None or self.failures >= self.trip_after:
            self.probe_at = now + self.probe_every


def recipient_domain(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: datetime


class DomainBudget:
    """A token bucket per recipient domain: mail providers throttle senders that burst."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("the per-domain rate must be positive")
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self._buckets: dict[str, _Bucket] = {}

    def split(self, domains: Sequence[str], now: datetime) -> list[timedelta | None]:
        """For each message (by its domain) None to send now, or how long to defer it."""
        waiting: dict[str, int] = {}
        plan: list[timedelta | None] = []
        for domain in domains:
            bucket = self._refill(domain, now)
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                plan.append(None)
                continue
            # Space the deferred ones out so they come back one token apart, not in a herd.
            queued = waiting[domain] = waiting.get(domain, 0) + 1
            plan.append(timedelta(seconds=(queued - bucket.tokens) / self.rate))
        return plan

    def _refill(self, domain: str, now: datetime) -> _Bucket:
        bucket = self._buckets.get(domain)
        if bucket is None:
            bucket = self._buckets[domain] = _Bucket(self.burst, now)
        elapsed = max(0.0, (now - bucket.at).total_seconds())
        bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
        bucket.at = max(bucket.at, now)
        return bucket


def masked(recipient: str) -> str:
    """A recipient as logs may show it: enough to find it, not enough to read it."""
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"{recipient[:5]}***{recipient[-2:]}"


# GSM 03.38: the 7-bit default alphabet an SMS is sent in when every character is in it (German
# umlauts and ß are); the extension table's characters cost two septets. One character outside
# both (an en dash, „quotes“, a Turkish ş in a name) sends the whole SMS as UCS-2.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
_GSM7 = GSM7_BASIC | GSM7_EXTENSION


# Look-alikes for characters outside GSM-7 that Unicode does not decompose into one inside it.
_GSM7_STAND_INS = str.maketrans(
    {
        "\u2013": "-", "\u2014": "-", "\u2011": "-", "\u00a0": " ", "\u202f": " ",
        "\u201e": '"', "\u201c": '"', "\u201d": '"', "\u201a": "'", "\u2018": "'",
        "\u2019": "'", "\u2026": "...", "ł": "l", "Ł": "L", "ı": "i", "đ": "d", "Đ": "D",
        "œ": "oe", "Œ": "OE",
    }
)  # fmt: skip


def _fold(char: str) -> str:
    if char in GSM7_BASIC or char in GSM7_EXTENSION:
        return char
    stand_in = char.translate(_GSM7_STAND_INS)
    if stand_in != char:
        return stand_in
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return base if base and all(c in GSM7_BASIC for c in base) else char


def gsm7(text: str) -> str:
    """`text` in the GSM-7 alphabet where it can be without losing a letter: Latin letters
    lose the accents GSM-7 lacks (Ayşe: Ayse, Łukasz: Lukasz, Đorđe: Dorde), typographic
    dashes and quotes become plain ones. A character with no such stand-in (a Cyrillic
    name) stays: the SMS then goes as UCS-2 and costs more parts, but names nobody wrongly."""
    if _GSM7.issuperset(text):  # nearly every text: nothing to fold, character by character
        return text
    return "".join(_fold(c) for c in text)


def sms_parts(text: str) -> tuple[str, int]:
    """The encoding ("gsm7" or "ucs2") an SMS of `text` is sent in and how many parts it takes:
    one part holds 160 septets (70 UCS-2 units); a longer text is split into parts of 153
    (67), the rest of each part carrying the header that joins them again."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        size = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        return "gsm7", 1 if size <= 160 else -(-size // 153)
    size = len(text.encode("utf-16-le")) // 2
    return "ucs2", 1 if size <= 70 else -(-size // 67)
