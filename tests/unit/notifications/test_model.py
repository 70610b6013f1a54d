"""The texts and identities of outgoing messages (kontingent.notifications.model).

The rules under test: a PIN SMS says the PIN and how long it is valid; a confirmation carries
the booking code, every appointment's date and time in Berlin and the centre; every message has
its own id, and a reminder's id is derived from its appointment so queueing it twice shows.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontingent.notifications.messages import (
    booking_messages,
    cancellation_messages,
    pin_sms,
    reminder_messages,
)
from kontingent.notifications.model import (
    PRIORITY_CONFIRMATION,
    PRIORITY_PIN,
    BookedAppointment,
    Breaker,
    DueReminder,
    Message,
    RetryPolicy,
)
from tests.unit.properties import examples

TZ = ZoneInfo("Europe/Berlin")
CODE = "ABCD-EFGH-JKMN"
PHONE = "+491701234567"
FIRST = datetime(2026, 1, 12, 9, 20, tzinfo=TZ)
SECOND = datetime(2026, 2, 2, 14, 40, tzinfo=TZ)
CENTRE, ADDRESS = "Impfzentrum Bielefeld", "Hauptstraße 1, 33602 Bielefeld"


def confirmation(
    emails: list[str], persons: tuple[str, ...] = ("Erika Mustermann",)
) -> list[Message]:
    appointments = [
        BookedAppointment(start, dose, name, person=person)
        for dose, start in ((1, FIRST), (2, SECOND))
        for person, name in enumerate(persons)
    ]
    return booking_messages(
        code=CODE,
        phone=PHONE,
        emails=emails,
        centre=CENTRE,
        address=ADDRESS,
        vaccine="BioNTech/Comirnaty",
        appointments=appointments,
    )


# --- dates as people read them -------------------------------------------------------------------


def reminder_at(start: datetime) -> str:
    (sms,) = reminder_messages(replace(due(7), start=start))
    return sms.body


def test_a_time_is_shown_in_berlin_with_the_german_weekday() -> None:
    assert "am Mo., 12.01.2026, 09:20 Uhr" in reminder_at(FIRST.astimezone(UTC))


def test_a_summer_time_appointment_is_shown_in_summer_time() -> None:
    assert "am Mo., 30.03.2026, 08:00 Uhr" in reminder_at(datetime(2026, 3, 30, 6, 0, tzinfo=UTC))
    assert "am Sa., 28.03.2026, 08:00 Uhr" in reminder_at(datetime(2026, 3, 28, 7, 0, tzinfo=UTC))


# --- the PIN ------------------------------------------------------------------------------------


def test_the_pin_sms_says_the_pin_and_how_long_it_is_valid() -> None:
    sms = pin_sms(PHONE, "042917", 30)
    assert (sms.channel, sms.recipient) == ("sms", PHONE)
    assert "042917" in sms.body
    assert "30 Minuten" in sms.body
    assert sms.valid_for == timedelta(minutes=30)


def test_a_pin_goes_before_any_confirmation() -> None:
    assert pin_sms(PHONE, "123456", 30).priority == PRIORITY_PIN < PRIORITY_CONFIRMATION
    assert all(m.priority == PRIORITY_CONFIRMATION for m in confirmation(["a@example.org"]))


# --- confirmations ------------------------------------------------------------------------------


def test_the_confirmation_sms_has_the_code_both_appointments_and_the_centre() -> None:
    (sms,) = confirmation([])
    assert (sms.channel, sms.recipient) == ("sms", PHONE)
    for part in (
        CODE,
        "1. Impfung",
        "Mo., 12.01.2026, 09:20 Uhr",
        "2. Impfung",
        "Mo., 02.02.2026, 14:40 Uhr",
        CENTRE,
        ADDRESS,
    ):
        assert part in sms.body, part


def test_the_confirmation_email_has_the_code_in_subject_and_body_and_both_dates() -> None:
    _, mail = confirmation(["erika@example.org"])
    assert (mail.channel, mail.recipient) == ("email", "erika@example.org")
    assert CODE in mail.subject
    for part in (
        CODE,
        "Montag, 12. Januar 2026, 09:20 Uhr",
        "Montag, 2. Februar 2026, 14:40 Uhr",
        CENTRE,
        ADDRESS,
    ):
        assert part in mail.body, part


def test_a_couple_sees_all_four_appointments_by_name_in_the_e_mail() -> None:
    _, mail = confirmation(["erika@example.org"], persons=("Erika Mustermann", "Max Mustermann"))
    for name in ("Erika Mustermann", "Max Mustermann"):
        assert mail.body.count(f"für {name}: ") == 2


def test_a_couples_sms_says_two_persons_lists_each_date_once_and_names_nobody() -> None:
    """A couple shares each slot; names stay out of SMS, which keeps them short and GSM-7."""
    (sms,) = confirmation([], persons=("Erika Mustermann", "Max Mustermann"))
    assert sms.body.startswith("Impftermine für 2 Personen gebucht")
    assert sms.body.count("09:20 Uhr") == sms.body.count("14:40 Uhr") == 1
    assert "Mustermann" not in sms.body


def test_each_address_gets_one_email_even_when_both_persons_share_it() -> None:
    messages = confirmation(["erika@example.org", "max@example.org", "erika@example.org"])
    assert [(m.channel, m.recipient) for m in messages] == [
        ("sms", PHONE),
        ("email", "erika@example.org"),
        ("email", "max@example.org"),
    ]


def test_a_cancellation_names_the_code_on_every_channel() -> None:
    messages = cancellation_messages(
        code=CODE, phone=PHONE, emails=["erika@example.org"] * 2, vaccine="BioNTech/Comirnaty"
    )
    assert [(m.channel, m.recipient) for m in messages] == [
        ("sms", PHONE),
        ("email", "erika@example.org"),
    ]
    assert all(CODE in m.body and "abgesagt" in m.body for m in messages)
    assert CODE in messages[1].subject


# --- message ids --------------------------------------------------------------------------------


def test_every_queued_message_has_its_own_id() -> None:
    messages = [
        *confirmation(["a@example.org", "b@example.org"]),
        *confirmation(["a@example.org"]),
        *cancellation_messages(code=CODE, phone=PHONE, emails=["a@example.org"], vaccine="X"),
        pin_sms(PHONE, "123456", 30),
        pin_sms(PHONE, "123456", 30),
    ]
    ids = [m.message_id for m in messages]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 for i in ids)


def due(appointment_id: int) -> DueReminder:
    return DueReminder(
        appointment_id=appointment_id,
        code=CODE,
        start=SECOND,
        dose=2,
        person_name="Erika Mustermann",
        phone=PHONE,
        centre=CENTRE,
        address=ADDRESS,
        booked_at=FIRST,
    )


def test_a_reminders_ids_are_derived_from_its_appointment() -> None:
    once, again = reminder_messages(due(7)), reminder_messages(due(7))
    assert [m.message_id for m in once] == [m.message_id for m in again]
    other = {m.message_id for m in reminder_messages(due(8))}
    assert not other & {m.message_id for m in once}


def test_a_reminder_is_one_sms_to_the_verified_number_and_no_e_mail() -> None:
    """Addresses are never confirmed: they get their booking's own messages only."""
    (sms,) = reminder_messages(due(7))
    assert (sms.channel, sms.recipient) == ("sms", PHONE)


def test_a_reminder_says_dose_time_place_and_code() -> None:
    (sms,) = reminder_messages(due(7))
    for part in ("2. Impfung", "Mo., 02.02.2026, 14:40 Uhr", CENTRE, CODE):
        assert part in sms.body, part


# --- retries ------------------------------------------------------------------------------------


@pytest.mark.parametrize("attempts", [15, 16, 100])
def test_a_message_is_parked_after_the_last_attempt(attempts: int) -> None:
    assert RetryPolicy().retry_at(attempts, FIRST) is None


@examples()
@given(st.integers(0, 14), st.integers(0, 2**32))
def test_retries_wait_between_half_and_all_of_a_doubling_delay_capped_at_ten_minutes(
    attempts: int, seed: int
) -> None:
    policy = RetryPolicy()
    assert (policy.base_s, policy.max_s) == (2.0, 600.0)
    at = policy.retry_at(attempts, FIRST, random.Random(seed))
    assert at is not None
    ceiling = min(policy.max_s, policy.base_s * 2 ** max(0, attempts - 1))
    assert ceiling / 2 <= (at - FIRST).total_seconds() <= ceiling


# --- the channel's breaker -------------------------------------------------------------------


def test_the_breaker_opens_after_failures_in_a_row_and_a_success_between_resets_them() -> None:
    breaker = Breaker(trip_after=3)
    breaker.failed(FIRST)
    breaker.failed(FIRST)
    assert breaker.succeeded() is False  # closed all along: nothing to pull forward
    breaker.failed(FIRST)
    breaker.failed(FIRST)
    assert not breaker.is_open
    breaker.failed(FIRST)
    assert breaker.is_open


def test_an_open_breaker_lets_one_probe_go_per_interval_and_a_success_closes_it() -> None:
    breaker = Breaker(trip_after=1, probe_every=timedelta(seconds=2))
    breaker.failed(FIRST)
    assert not breaker.take_probe(FIRST + timedelta(seconds=1))
    assert breaker.take_probe(FIRST + timedelta(seconds=2))
    assert not breaker.take_probe(FIRST + timedelta(seconds=3))  # one at a time
    breaker.failed(FIRST + timedelta(seconds=3))  # the probe failed: wait from its failure
    assert not breaker.take_probe(FIRST + timedelta(seconds=4))
    assert breaker.take_probe(FIRST + timedelta(seconds=5))
    assert breaker.succeeded() is True  # it was open: the channel is back
    assert not breaker.is_open and not breaker.take_probe(FIRST + timedelta(seconds=9))
