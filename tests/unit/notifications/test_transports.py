"""Transports and delivery rules without a network: URL parsing, the e-mail as sent, how
failures are classed, the per-domain budget, backoff, the iCalendar attachment and the
reminder schedule. (The SMS request as sent: tests/integration/notifications.)"""

from __future__ import annotations

import email
import email.message
import email.policy
import random
from datetime import UTC, datetime, timedelta

import aiosmtplib
import pytest
from aiosmtplib.email import flatten_message

from kontingent.clock import BERLIN, FixedClock
from kontingent.config import Settings, SettingsError
from kontingent.db import Database, make_engine
from kontingent.notifications.messages import icalendar
from kontingent.notifications.model import (
    BookedAppointment,
    DomainBudget,
    DueReminder,
    Message,
    RetryPolicy,
    needs_reminder,
    reminder_due_from,
    reminder_window_end,
)
from kontingent.notifications.service import DevMailbox
from kontingent.notifications.transports import (
    HttpSmsGateway,
    SmtpConfig,
    SmtpMailer,
    http_failure,
    mime,
    relay_for,
    smtp_failure,
)

T = datetime(2026, 1, 12, 9, 0, tzinfo=BERLIN)

# --- SMTP URL -----------------------------------------------------------------------------------


def test_a_plain_smtp_url_uses_port_25_and_opportunistic_starttls() -> None:
    config = SmtpConfig.parse("smtp://mail.example.org")
    assert (config.host, config.port, config.implicit_tls, config.start_tls) == (
        "mail.example.org",
        25,
        False,
        None,
    )
    assert config.username is None and config.connections == 4 and config.per_domain == 50


def test_smtps_with_credentials_and_options() -> None:
    config = SmtpConfig.parse(
        "smtps://relay%40example.org:p%40ss%3Aword@mail.example.org"
        "?from=Impfzentrum%20%3Ctermine%40example.org%3E&connections=8&per_domain=20"
    )
    assert (config.port, config.implicit_tls, config.start_tls) == (465, True, False)
    assert (config.username, config.password) == ("relay@example.org", "p@ss:word")
    assert config.sender == "Impfzentrum <termine@example.org>"
    assert (config.connections, config.per_domain) == (8, 20.0)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://mail.example.org", "smtp://host:port"),
        ("smtp://", "smtp://host:port"),
        ("smtp://mail.example.org?connections=many", "bad number"),
        ("smtp://mail.example.org?per_domain=0", "must be > 0"),
        ("smtp://mail.example.org?starttls=maybe", "starttls must be"),
    ],
)
def test_a_bad_smtp_url_is_refused_with_what_to_fix(url: str, says: str) -> None:
    with pytest.raises(SettingsError, match="KONTINGENT_SMTP_URL") as refused:
        SmtpConfig.parse(url)
    assert says in str(refused.value)


def test_an_sms_gateway_url_must_be_http() -> None:
    with pytest.raises(SettingsError, match="KONTINGENT_SMS_GATEWAY_URL"):
        HttpSmsGateway("ftp://gateway.example.org/send")


# --- the e-mail as sent -------------------------------------------------------------------------


def as_sent(mail: email.message.Message) -> email.message.EmailMessage:
    """The mail as the SMTP server receives it, read back with the standard policy."""
    return email.message_from_bytes(flatten_message(mail), policy=email.policy.default)


def test_the_mail_carries_the_stable_message_id_and_the_calendar() -> None:
    message = Message(
        "email", "erika@example.org", "Guten Tag", subject="Ihre Impftermine", calendar="X"
    )
    mail = as_sent(mime(message, "Impftermine <termine@example.org>"))

    assert mail["Message-ID"] == f"<{message.message_id}@example.org>"
    assert (mail["To"], mail["Subject"]) == ("erika@example.org", "Ihre Impftermine")
    assert mail["Auto-Submitted"] == "auto-generated"
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "impftermine.ics"


def test_a_mail_without_calendar_has_no_attachment() -> None:
    mail = as_sent(mime(Message("email", "a@example.org", "Text", subject="S"), "x@example.org"))
    assert list(mail.iter_attachments()) == []
    assert mail.get_content_type() == "text/plain" and mail.get_content() == "Text"


def test_german_text_subject_and_sender_name_arrive_unchanged() -> None:
    body = "Guten Tag,\nIhr Termin im Impfzentrum Münster, Hafenstraße 12 – bitte pünktlich.\n"
    message = Message("email", "a@example.org", body, subject="Ihre Impftermine – Code X")
    mail = as_sent(mime(message, "Impfzentren Münster <termine@example.org>"))
    assert mail["Subject"] == "Ihre Impftermine – Code X"
    assert mail["From"].addresses[0].display_name == "Impfzentren Münster"
    assert mail["From"].addresses[0].addr_spec == "termine@example.org"
    assert mail.get_content() == body
    raw = flatten_message(mime(message, "termine@example.org"))
    assert raw.isascii()  # quoted-printable and encoded words: any server takes it
    assert b"Hafenstra=C3=9Fe 12" in raw  # and the text stays readable in the raw mail


# --- failures: final or worth another try -------------------------------------------------------


def test_only_a_5xx_from_the_mail_server_is_final() -> None:
    refused = aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(550, "no such mailbox", "x@example.org")]
    )
    assert smtp_failure(refused).permanent
    assert not smtp_failure(aiosmtplib.SMTPResponseException(451, "try later")).permanent
    assert not smtp_failure(aiosmtplib.SMTPServerDisconnected("gone")).permanent
    assert not smtp_failure(ConnectionRefusedError(111, "refused")).permanent


@pytest.mark.parametrize(
    ("status", "permanent"), [(400, True), (422, True), (408, False), (429, False), (503, False)]
)
def test_only_a_client_error_from_the_gateway_is_final(status: int, permanent: bool) -> None:
    failure = http_failure(status, "x")
    assert failure.permanent is permanent and str(status) in failure.reason


# --- choosing transports from settings ----------------------------------------------------------


async def test_unset_urls_mean_the_dev_mailbox_and_set_ones_the_real_transports() -> None:
    db = Database(make_engine("sqlite+aiosqlite:///:memory:"))  # never connected here
    clock = FixedClock(T)
    try:
        dev = relay_for(Settings(), db, clock)
        real = relay_for(
            Settings(smtp_url="smtp://127.0.0.1:2525?per_domain=7", sms_gateway_url="http://g/x"),
            db,
            clock,
        )
    finally:
        await db.dispose()
    assert all(isinstance(t, DevMailbox) for t in dev.transports.values())
    assert dev.email_budget is None
    assert isinstance(real.transports["email"], SmtpMailer)
    assert isinstance(real.transports["sms"], HttpSmsGateway)
    assert real.email_budget is not None and real.email_budget.rate == 7


# --- the per-domain budget ----------------------------------------------------------------------


def test_a_domain_gets_its_burst_then_its_rate_and_others_are_unaffected() -> None:
    budget = DomainBudget(rate=2, burst=2)
    plan = budget.split(["a.test"] * 5 + ["b.test"], T)

    assert plan[:2] == [None, None] and plan[5] is None
    assert plan[2:5] == [timedelta(seconds=s) for s in (0.5, 1.0, 1.5)]  # one token apart
    assert budget.split(["a.test"], T + timedelta(seconds=0.5)) == [None]
    assert budget.split(["a.test"], T + timedelta(seconds=0.5)) == [timedelta(seconds=0.5)]


def test_an_idle_domain_saves_up_no_more_than_its_burst() -> None:
    budget = DomainBudget(rate=10, burst=3)
    budget.split(["a.test"] * 3, T)
    plan = budget.split(["a.test"] * 5, T + timedelta(hours=1))
    assert plan[:3] == [None] * 3 and all(p is not None for p in plan[3:])


def test_a_budget_needs_a_positive_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        DomainBudget(rate=0)


# --- backoff ------------------------------------------------------------------------------------


def test_backoff_doubles_with_jitter_is_capped_and_parks_at_the_limit() -> None:
    policy = RetryPolicy(max_attempts=12, base_s=2, max_s=600)
    rng = random.Random(7)
    for attempts, ceiling in ((1, 2), (2, 4), (5, 32), (10, 600), (11, 600)):
        for _ in range(20):
            retry = policy.retry_at(attempts, T, rng)
            assert retry is not None
            assert ceiling / 2 <= (retry - T).total_seconds() <= ceiling
    assert policy.retry_at(12, T, rng) is None


# --- the iCalendar attachment -------------------------------------------------------------------


def test_the_calendar_has_one_folded_escaped_event_per_appointment() -> None:
    first = datetime(2026, 1, 13, 10, 15, tzinfo=BERLIN)
    text = icalendar(
        code="K7QM-3XPA-9RTD",
        location="Impfzentrum Bielefeld, Am Stadtholz 24; Halle 2, 33609 Bielefeld, "
        "Nord-West-Eingang",
        vaccine="BioNTech/Comirnaty",
        appointments=[
            BookedAppointment(first, 1, "Erika Mustermann"),
            BookedAppointment(first + timedelta(days=21), 2, "Erika Mustermann"),
        ],
        stamp=T,
    )
    lines = text.split("\r\n")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in lines)
    assert text.count("BEGIN:VEVENT") == 2
    assert "DTSTART:20260113T091500Z" in lines and "DTEND:20260113T093000Z" in lines
    unfolded = text.replace("\r\n ", "")
    assert "Am Stadtholz 24\\; Halle 2\\, 33609" in unfolded
    assert "UID:K7QM-3XPA-9RTD-1-2@kontingent" in unfolded


# --- when reminders are due ---------------------------------------------------------------------


def due(start: datetime, booked_at: datetime) -> DueReminder:
    return DueReminder(1, "CODE", start, 1, "Erika", "+49170", "Zentrum", "Str. 1", booked_at)


def test_a_reminder_is_due_from_nine_on_the_berlin_day_before_even_across_dst() -> None:
    start = datetime(2026, 3, 29, 8, 0, tzinfo=BERLIN)  # the morning clocks go forward
    assert reminder_due_from(start) == datetime(2026, 3, 28, 9, 0, tzinfo=BERLIN)
    night = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # 00:30 on the 29th in Berlin: before 9
    assert reminder_window_end(night) == datetime(2026, 3, 30, 0, 0, tzinfo=BERLIN)


def test_before_nine_only_todays_appointments_are_in_the_window() -> None:
    morning = datetime(2026, 1, 12, 8, 59, tzinfo=BERLIN)
    assert reminder_window_end(morning) == datetime(2026, 1, 13, 0, 0, tzinfo=BERLIN)
    assert reminder_window_end(morning + timedelta(minutes=1)) == datetime(
        2026, 1, 14, 0, 0, tzinfo=BERLIN
    )


def test_no_reminder_for_a_booking_made_after_its_reminder_was_due() -> None:
    start = datetime(2026, 1, 14, 10, 0, tzinfo=BERLIN)
    assert needs_reminder(due(start, datetime(2026, 1, 13, 8, 59, tzinfo=BERLIN)))
    assert not needs_reminder(due(start, datetime(2026, 1, 13, 9, 0, tzinfo=BERLIN)))
