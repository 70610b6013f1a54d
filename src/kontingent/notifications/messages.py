"""The SMS and e-mails of a booking's life, put together from texts.py (standard library only).

Invariants kept here:
- Every message is written in the language of the booking, waitlist entry or PIN request it
  belongs to ("de" or "en"; anything else reads as German).
- A confirmation names the vaccine, every appointment with its date and time in Berlin, and
  the centre with its full address (street, postcode, city), in the SMS and in the e-mail.
- The e-mail's "bring along" list is texts.BRING_ALONG, the list the confirmation page shows.
- A one-dose booking is worded as one appointment, never as "both" or as a first dose.
- A rebooking's confirmation says "umgebucht"/"rebooked", never just "gebucht".
- An SMS goes only to a mobile number: a booking made on the phone may carry a landline,
  which gets no SMS (its e-mails, where given, still go).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from kontingent.clock import BERLIN
from kontingent.notifications import calendar
from kontingent.notifications.model import (
    PRIORITY_PIN,
    PRIORITY_REMINDER,
    BookedAppointment,
    DueReminder,
    Message,
    mailboxes,
)
from kontingent.notifications.texts import bring_along, text
from kontingent.verification.model import is_mobile


def when(at: datetime, lang: str = "de") -> str:
    """Mo 12.01.2026 09:20 Uhr / Mon 12 Jan 2026, 09:20 (always in Berlin)."""
    local = at.astimezone(BERLIN)
    weekday = text("weekdays", lang).split()[local.weekday()]
    month = text("months", lang).split()[local.month - 1]
    return text("when", lang, weekday=weekday, month=month, date=local)


def dose_label(dose: int, doses: int, lang: str) -> str:
    return text("dose.single", lang) if doses == 1 else text("dose.n", lang, dose=dose)


def _lines(appointments: Sequence[BookedAppointment], doses: int, lang: str) -> list[str]:
    return [
        text(
            "line",
            lang,
            label=dose_label(a.dose, doses, lang),
            name=a.person_name,
            when=when(a.start, lang),
        )
        for a in appointments
    ]


def pin_sms(phone: str, pin: str, minutes_valid: int, lang: str = "de") -> Message:
    body = text("pin.sms", lang, pin=pin, minutes=minutes_valid)
    return Message(
        "sms", phone, body, priority=PRIORITY_PIN, valid_for=timedelta(minutes=minutes_valid)
    )


def booking_messages(
    *,
    code: str,
    phone: str,
    emails: Sequence[str],
    centre: str,
    address: str,
    vaccine: str,
    appointments: Sequence[BookedAppointment],
    doses: int = 2,
    lang: str = "de",
    rebooked: bool = False,
) -> list[Message]:
    """The confirmation: one SMS to the verified phone, one e-mail per mailbox named.
    `rebooked`: the confirmation of a rebooking's new appointments."""
    kind = "rebooked" if rebooked else "booked"
    one = "" if doses > 1 or len({a.person for a in appointments}) > 1 else ".one"
    lines = _lines(appointments, doses, lang)
    where = {"centre": centre, "address": address}
    sms = text(f"{kind}.sms", lang, vaccine=vaccine, code=code, lines="; ".join(lines), **where)
    body = "\n".join(
        [
            text("mail.hello", lang),
            "",
            text(f"{kind}.lead{one}", lang),
            text("mail.code", lang, code=code),
            text("mail.vaccine", lang, vaccine=vaccine),
            "",
            *lines,
            "",
            text("mail.where", lang, **where),
            "",
            text("mail.bring", lang),
            *(f"- {item}" for item in bring_along(lang)),
            "",
            text("mail.lookup", lang),
            text(f"mail.calendar{one}", lang),
        ]
    )
    subject = text(f"{kind}.subject" if rebooked else f"booked.subject{one}", lang, code=code)
    ics = icalendar(
        code=code, location=f"{centre}, {address}", appointments=appointments, attendees=emails
    )
    messages = _sms(phone, sms)
    messages += [
        Message("email", to, body, subject=subject, calendar=ics) for to in mailboxes(emails)
    ]
    return messages


def cancellation_messages(
    *,
    code: str,
    phone: str,
    emails: Sequence[str],
    location: str = "",
    appointments: Sequence[BookedAppointment] = (),
    lang: str = "de",
) -> list[Message]:
    """SMS and e-mail saying the booking is cancelled; the e-mail carries an iCalendar CANCEL
    of the booking's events, so calendars remove them."""
    body = text("cancelled.text", lang, code=code)
    subject = text("cancelled.subject", lang, code=code)
    ics = _cancel(code, location, appointments, emails)
    return _sms(phone, body) + [
        Message("email", to, body, subject=subject, calendar=ics) for to in mailboxes(emails)
    ]


def moved_messages(
    *,
    code: str,
    emails: Sequence[str],
    location: str,
    appointments: Sequence[BookedAppointment],
    doses: int = 2,
    lang: str = "de",
) -> list[Message]:
    """After a rebooking: an e-mail whose iCalendar CANCEL removes the appointments given up;
    the confirmation of the new ones (a REQUEST) is queued beside it."""
    if not appointments:
        return []
    body = "\n".join(
        [
            text("mail.hello", lang),
            "",
            text("moved.lead", lang, code=code),
            *_lines(appointments, doses, lang),
            "",
            text("moved.new", lang),
            text("moved.calendar", lang),
        ]
    )
    ics = _cancel(code, location, appointments, emails)
    subject = text("moved.subject", lang, code=code)
    return [Message("email", to, body, subject=subject, calendar=ics) for to in mailboxes(emails)]


def reminder_messages(due: DueReminder) -> list[Message]:
    """One SMS to the booking's verified number. No e-mail: the addresses a booking names
    were never confirmed by their owners, so they get their booking's own messages only."""
    lang = due.language
    body = text(
        "reminder.sms",
        lang,
        label=dose_label(due.dose, due.doses, lang),
        name=due.person_name,
        when=when(due.start, lang),
        vaccine=due.vaccine,
        centre=due.centre,
        address=due.address,
        code=due.code,
    )
    base = f"rem-{due.appointment_id}"
    return _sms(due.phone, body, priority=PRIORITY_REMINDER, message_id=base)


def _sms(phone: str, body: str, **options: Any) -> list[Message]:
    """The SMS to `phone`, or none when it is a landline (a caller's number on the phone)."""
    return [Message("sms", phone, body, **options)] if is_mobile(phone) else []


# --- iCalendar (RFC 5545): see calendar.py ----------------------------------------------------


def icalendar(
    *,
    code: str,
    location: str,
    appointments: Sequence[BookedAppointment],
    stamp: datetime | None = None,
    attendees: Sequence[str] = (),
) -> str:
    """A calendar REQUEST with one event per appointment; UIDs are stable per appointment."""
    return calendar.calendar(
        method=calendar.REQUEST,
        code=code,
        location=location,
        events=[_event(a) for a in appointments],
        attendees=attendees,
        stamp=stamp,
    )


def _cancel(
    code: str, location: str, appointments: Sequence[BookedAppointment], emails: Sequence[str]
) -> str | None:
    if not appointments:
        return None
    return calendar.calendar(
        method=calendar.CANCEL,
        code=code,
        location=location,
        events=[_event(a) for a in appointments],
        attendees=emails,
    )


def _event(a: BookedAppointment) -> calendar.Event:
    return calendar.Event(a.start, a.dose, a.person_name, a.minutes, a.slot_id, a.person)
