"""iCalendar for a booking's life (kontingent.notifications.calendar and the messages that
carry it): a booking's REQUEST, a cancellation's CANCEL with the same UIDs and a higher
SEQUENCE, a rebooking's CANCEL of only the appointments it gave up, events as long as the
centre's slot, the organizer the mail transport adds, titles and descriptions in the booking's
language, and text that an independent parser (the `icalendar` package) reads back exactly."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta

import icalendar
import pytest
from aiosmtplib.email import flatten_message

from kontingent.clock import BERLIN
from kontingent.i18n import Translator
from kontingent.notifications import calendar
from kontingent.notifications.messages import (
    booking_messages,
    bring_along,
    cancellation_messages,
    moved_messages,
)
from kontingent.notifications.model import BookedAppointment
from kontingent.notifications.transports import mime

FIRST = datetime(2026, 1, 13, 10, 20, tzinfo=BERLIN)
BOOKED = [
    BookedAppointment(FIRST, 1, "Erika Mustermann", 20, slot_id=101, person=0),
    BookedAppointment(FIRST + timedelta(days=21), 2, "Erika Mustermann", 20, slot_id=202),
]


def fields(text: str, name: str) -> list[str]:
    unfolded = text.replace("\r\n ", "")
    return [line.split(":", 1)[1] for line in unfolded.split("\r\n") if line.startswith(name)]


def email_calendar(messages: list[object]) -> str:
    [mail] = [m for m in messages if getattr(m, "channel", "") == "email"]
    text = getattr(mail, "calendar", None)
    assert isinstance(text, str)
    return text


def test_a_booking_requests_events_as_long_as_the_centres_slot() -> None:
    messages = booking_messages(
        code="K7QM-3XPA-9RTD",
        phone="+491701234567",
        emails=["erika@example.org"],
        centre="Impfzentrum Bielefeld",
        address="Am Stadtholz 24, 33609 Bielefeld",
        vaccine="BioNTech/Comirnaty",
        appointments=BOOKED,
    )
    text = email_calendar(messages)
    assert fields(text, "METHOD") == ["REQUEST"]
    assert fields(text, "UID") == [
        "K7QM-3XPA-9RTD-101-0@kontingent",
        "K7QM-3XPA-9RTD-202-0@kontingent",
    ]
    assert fields(text, "DTSTART")[0] == "20260113T092000Z"
    assert fields(text, "DTEND")[0] == "20260113T094000Z"  # 20 minutes, the slot's length
    assert fields(text, "ATTENDEE;RSVP=FALSE") == ["mailto:erika@example.org"] * 2


def test_a_cancellation_cancels_the_same_uids_with_a_higher_sequence() -> None:
    booked = calendar.calendar(
        method=calendar.REQUEST,
        code="K7QM-3XPA-9RTD",
        location="Impfzentrum Bielefeld",
        events=[calendar.Event(a.start, a.dose, a.person_name, 20, a.slot_id) for a in BOOKED],
        stamp=FIRST - timedelta(days=1),
    )
    cancel = email_calendar(
        cancellation_messages(
            code="K7QM-3XPA-9RTD",
            phone="+491701234567",
            emails=["erika@example.org"],
            location="Impfzentrum Bielefeld",
            vaccine="BioNTech/Comirnaty",
            appointments=BOOKED,
        )
    )
    assert fields(cancel, "METHOD") == ["CANCEL"]
    assert fields(cancel, "UID") == fields(booked, "UID")
    assert fields(cancel, "STATUS") == ["CANCELLED"] * 2
    assert min(map(int, fields(cancel, "SEQUENCE"))) > max(map(int, fields(booked, "SEQUENCE")))


def test_cancel_outranks_a_request_of_the_same_second_and_a_later_request_outranks_it() -> None:
    now = datetime(2026, 1, 12, 9, 0, 0, tzinfo=BERLIN)
    request = calendar.sequence(calendar.REQUEST, now)
    cancel = calendar.sequence(calendar.CANCEL, now)
    later = calendar.sequence(calendar.REQUEST, now + timedelta(seconds=1))
    assert request < cancel < later < 2**31


def test_a_rebooking_cancels_only_what_it_gave_up() -> None:
    gone = [BOOKED[1]]  # the first dose stays, the second moves
    [mail] = moved_messages(
        code="K7QM-3XPA-9RTD",
        emails=["erika@example.org", "erika@example.org"],
        location="Impfzentrum Bielefeld",
        vaccine="BioNTech/Comirnaty",
        appointments=gone,
    )
    assert mail.calendar is not None
    assert fields(mail.calendar, "UID") == ["K7QM-3XPA-9RTD-202-0@kontingent"]
    assert "nicht mehr" in mail.body and "Buchungsbestätigung" in mail.body
    assert (
        moved_messages(code="X", emails=["a@b.de"], location="", vaccine="", appointments=[]) == []
    )


def test_the_transport_names_the_sender_as_organizer_and_the_method_in_the_mime_type() -> None:
    [cancel_mail] = [
        m
        for m in cancellation_messages(
            code="K7QM-3XPA-9RTD",
            phone="+491701234567",
            emails=["erika@example.org"],
            location="Impfzentrum Bielefeld",
            vaccine="BioNTech/Comirnaty",
            appointments=BOOKED,
        )
        if m.channel == "email"
    ]
    raw = flatten_message(mime(cancel_mail, "Impftermine <termine@example.org>"))
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_param("method") == "CANCEL"
    text = attachment.get_content()
    assert (
        fields(text.replace("\n", "\r\n").replace("\r\r", "\r"), "ORGANIZER")
        == ["mailto:termine@example.org"] * 2
    )
    assert calendar.with_organizer(text, "x@example.org") == text  # named once, not twice


def test_a_cancellation_without_appointments_carries_no_calendar() -> None:
    messages = cancellation_messages(
        code="C", phone="+491701234567", emails=["a@example.org"], vaccine="X"
    )
    assert all(m.calendar is None for m in messages)


# --- titles in the booking's language, read back by an independent parser ----------------------

ADDRESS = "Am Stadtholz 24; Halle 2, 33609 Bielefeld"


def parsed_events(text: str) -> list[icalendar.Event]:
    """The events as the `icalendar` package reads them (it refuses malformed content lines)."""
    return list(icalendar.Calendar.from_ical(text).walk("VEVENT"))


def confirmation_calendar(lang: str, names: tuple[str, ...] = ("Erika Mustermann",)) -> str:
    return email_calendar(
        booking_messages(
            code="K7QM-3XPA-9RTD",
            phone="+491701234567",
            emails=["erika@example.org"],
            centre="Impfzentrum Bielefeld",
            address=ADDRESS,
            vaccine="BioNTech/Comirnaty",
            appointments=[
                BookedAppointment(FIRST, 1, name, 20, slot_id=101, person=person)
                for person, name in enumerate(names)
            ],
            lang=lang,
        )
    )


@pytest.mark.parametrize(
    ("lang", "summary", "description", "foreign"),
    [
        ("de", "1. Impfung: BioNTech/Comirnaty, ", ("Buchungscode", "Bitte mitbringen"), "Dose"),
        ("en", "Dose 1: BioNTech/Comirnaty, ", ("Booking code", "Please bring"), "Impfung"),
    ],
)
def test_the_events_are_titled_and_described_in_the_bookings_language(
    lang: str, summary: str, description: tuple[str, str], foreign: str
) -> None:
    [event] = parsed_events(confirmation_calendar(lang))
    assert str(event["summary"]) == summary + "Erika Mustermann"
    assert str(event["location"]) == f"Impfzentrum Bielefeld, {ADDRESS}"
    text = str(event["description"])
    assert all(part in text for part in description) and "K7QM-3XPA-9RTD" in text
    assert "BioNTech/Comirnaty" in text and ADDRESS in text
    assert foreign not in str(event["summary"]) + text
    for item in bring_along(Translator(lang)):  # the confirmation page's list
        assert f"- {item}" in text.splitlines()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_cancellation_titles_its_events_as_cancelled_in_the_bookings_language(
    lang: str,
) -> None:
    text = email_calendar(
        cancellation_messages(
            code="K7QM-3XPA-9RTD",
            phone="+491701234567",
            emails=["erika@example.org"],
            location=f"Impfzentrum Bielefeld, {ADDRESS}",
            vaccine="BioNTech/Comirnaty",
            appointments=BOOKED,
            lang=lang,
        )
    )
    prefix = {"de": "ABGESAGT: 1. Impfung", "en": "CANCELLED: Dose 1"}[lang]
    assert str(parsed_events(text)[0]["summary"]).startswith(prefix)


def test_long_and_special_texts_survive_folding_and_escaping_exactly() -> None:
    """Names with `;` `,` `\\`, umlauts on a fold, a newline: the parser reads back what was
    written, every line stays within 75 octets and ends in CRLF (RFC 5545 3.1)."""
    name = "Ökür-Ünal\\Äßmann; Jr., Gräfin von Übelhausen-Überlingen " + "ü" * 40
    text = confirmation_calendar("de", names=(name,))
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    [event] = parsed_events(text)
    assert str(event["summary"]) == f"1. Impfung: BioNTech/Comirnaty, {name}"
    assert "\n- Krankenversichertenkarte\n" in str(event["description"])
    assert event.decoded("dtstart") == FIRST
