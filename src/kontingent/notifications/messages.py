"""The SMS and e-mails of a booking's life, in the booking's language, from the gettext
catalogues (keys `sms.*`, `mail.*`, `ics.*`, `msg.*` and the shared `bring.*`).

Invariants kept here:
- Every message is written in the language of the booking, waitlist entry or PIN request it
  belongs to ("de" or "en"; anything else reads as German), dates and times by CLDR in that
  language and always in Berlin. Messages are kept and read later, so none says "heute".
- A confirmation names the vaccine, every appointment with its date and time, and the
  centre with its full address (street, postcode, city), in the SMS, the e-mail and the
  calendar file (whose titles and description are in the booking's language too).
- The e-mail's and the calendar's "bring along" list is `bring_along`, the list the
  confirmation page shows.
- One appointment is worded as one (`t.plural` on the number of appointments or persons),
  never as "both" or as a first dose.
- A rebooking's confirmation says "umgebucht"/"rebooked", never just "gebucht".
- A cancellation because the centre closed that day (`ClosureNotice`, admin/centres_closures.py)
  says so, the day and the reason, and gives the link to book anew (`msg.closure.*`).
- A confirmation e-mail carries the booking's door ticket (drawn as an inline QR code by the
  transport); no other message does.
- SMS name no persons but the reminder's, and pass `model.gsm7`, so each fits two GSM-7
  parts (tests/unit/notifications/test_sms_length.py); the e-mail has every name.
- An SMS goes only to a mobile number: a booking made on the phone may carry a landline,
  which gets no SMS (its e-mails, where given, still go).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from kontingent.i18n import N_, Translator
from kontingent.notifications import calendar
from kontingent.notifications.model import (
    PRIORITY_PIN,
    PRIORITY_REMINDER,
    BookedAppointment,
    DueReminder,
    Message,
    gsm7,
    mailboxes,
)
from kontingent.verification.model import is_mobile

# What to bring to the appointment: the confirmation page shows the same list (web/choose.py).
BRING_ALONG = (N_("bring.id"), N_("bring.card"), N_("bring.pass"), N_("bring.code"))


def bring_along(t: Translator) -> list[str]:
    """What to bring, as the confirmation page, the e-mail and the calendar list it."""
    return [t(key) for key in BRING_ALONG]


def dose_label(dose: int, doses: int, t: Translator) -> str:
    return t("msg.dose.single") if doses == 1 else t("msg.dose.n", dose=dose)


def _lines(appointments: Sequence[BookedAppointment], doses: int, t: Translator) -> list[str]:
    """One line per appointment with the person's name and the full date (e-mails)."""
    return [
        t("msg.line", label=dose_label(a.dose, doses, t), name=a.person_name, when=t.when(a.start))
        for a in appointments
    ]


def _dates(appointments: Sequence[BookedAppointment], doses: int, t: Translator) -> str:
    """The dates of an SMS: persons booked side by side share a slot, so one line per dose."""
    starts = sorted({(a.dose, a.start) for a in appointments})
    return "; ".join(
        t("sms.date", label=dose_label(dose, doses, t), when=t.when_short(start))
        for dose, start in starts
    )


def pin_sms(phone: str, pin: str, minutes_valid: int, lang: str = "de") -> Message:
    t = Translator(lang)
    body = t("sms.pin", pin=pin, minutes=minutes_valid)
    return Message(
        "sms", phone, gsm7(body), priority=PRIORITY_PIN, valid_for=timedelta(minutes=minutes_valid)
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
    ticket: str | None = None,
) -> list[Message]:
    """The confirmation: one SMS to the verified phone, one e-mail per mailbox named.
    `rebooked`: the confirmation of a rebooking's new appointments. `ticket`: the booking's
    door ticket (checkin/model.py), which each e-mail shows as a QR code."""
    t = Translator(lang)
    n = len(appointments)
    place = f"{centre}, {address}"
    values = {"vaccine": vaccine, "code": code, "dates": _dates(appointments, doses, t)}
    sms, lead, subject = _confirmation_wording(
        t, rebooked, n, len({a.person for a in appointments}) or 1, place=place, **values
    )
    body = "\n".join(
        [
            t("mail.hello"),
            "",
            lead,
            "",
            *_lines(appointments, doses, t),
            "",
            *_details(t, code, vaccine, place),
            "",
            t("mail.lookup"),
            t.plural("mail.calendar", "mail.calendar.plural", n),
        ]
    )
    ics = icalendar(
        code=code,
        location=place,
        appointments=appointments,
        attendees=emails,
        vaccine=vaccine,
        doses=doses,
        lang=lang,
    )
    messages = _sms(phone, sms)
    messages += [
        Message("email", to, body, subject=subject, calendar=ics, qr=ticket, language=t.lang)
        for to in mailboxes(emails)
    ]
    return messages


def _confirmation_wording(
    t: Translator, rebooked: bool, n: int, persons: int, **values: str
) -> tuple[str, str, str]:
    """SMS, e-mail lead and subject: "umgebucht" after a rebooking, else "gebucht"; worded
    for the number of persons (SMS) and of appointments (e-mail)."""
    code = values["code"]
    if rebooked:
        return (
            t.plural("sms.rebooked", "sms.rebooked.plural", persons, **values),
            t.plural("mail.rebooked.lead", "mail.rebooked.lead.plural", n),
            t.plural("mail.rebooked.subject", "mail.rebooked.subject.plural", n, code=code),
        )
    return (
        t.plural("sms.booked", "sms.booked.plural", persons, **values),
        t.plural("mail.booked.lead", "mail.booked.lead.plural", n),
        t.plural("mail.booked.subject", "mail.booked.subject.plural", n, code=code),
    )


def _details(t: Translator, code: str, vaccine: str, place: str) -> list[str]:
    """Code, vaccine, place and what to bring: the e-mail's and the calendar's lines."""
    return [
        t("mail.code", code=code),
        t("mail.vaccine", vaccine=vaccine),
        t("mail.where", place=place),
        "",
        t("mail.bring"),
        *(f"- {item}" for item in bring_along(t)),
    ]


@dataclass(frozen=True, slots=True)
class ClosureNotice:
    """Why a booking is cancelled by staff: its centre closes on `day` (`reason` as the admin
    gave it), and where to book anew (`link`)."""

    day: date
    reason: str
    link: str


def cancellation_messages(
    *,
    code: str,
    phone: str,
    emails: Sequence[str],
    vaccine: str,
    location: str = "",
    appointments: Sequence[BookedAppointment] = (),
    doses: int = 2,
    lang: str = "de",
    closure: ClosureNotice | None = None,
) -> list[Message]:
    """SMS and e-mail saying the booking is cancelled (`closure`: because the centre closes
    that day); the e-mail carries an iCalendar CANCEL of the booking's events, so calendars
    remove them."""
    t = Translator(lang)
    n = len(appointments)  # none known: worded as several, as a booking mostly has
    if closure is not None:
        sms, lead, tail, subject = _closure_texts(t, code, closure)
    else:
        sms = t.plural("sms.cancelled", "sms.cancelled.plural", n, code=code)
        lead = t.plural("mail.cancelled.lead", "mail.cancelled.lead.plural", n, code=code)
        tail = t.plural("mail.cancelled.free", "mail.cancelled.free.plural", n)
        subject = t.plural("mail.cancelled.subject", "mail.cancelled.subject.plural", n, code=code)
    body = "\n".join([t("mail.hello"), "", lead, "", *_lines(appointments, doses, t), "", tail])
    ics = _cancel(code, location, vaccine, appointments, emails, doses, t)
    return _sms(phone, sms) + [
        Message("email", to, body, subject=subject, calendar=ics, language=t.lang)
        for to in mailboxes(emails)
    ]


def _closure_texts(t: Translator, code: str, closure: ClosureNotice) -> tuple[str, str, str, str]:
    """(SMS, e-mail lead, e-mail close, subject) of a cancellation for a closed day."""
    day = t.day(closure.day)
    reason = closure.reason or t("msg.closure.no_reason")
    return (
        t("msg.closure.sms", code=code, day=day, link=closure.link),
        t("msg.closure.lead", code=code, day=day, reason=reason),
        t("msg.closure.rebook", link=closure.link),
        t("msg.closure.subject", code=code, day=day),
    )


def moved_messages(
    *,
    code: str,
    emails: Sequence[str],
    location: str,
    appointments: Sequence[BookedAppointment],
    vaccine: str,
    doses: int = 2,
    lang: str = "de",
) -> list[Message]:
    """After a rebooking: an e-mail whose iCalendar CANCEL removes the appointments given up;
    the confirmation of the new ones (a REQUEST) is queued beside it."""
    if not appointments:
        return []
    t = Translator(lang)
    n = len(appointments)
    body = "\n".join(
        [
            t("mail.hello"),
            "",
            t.plural("mail.moved.lead", "mail.moved.lead.plural", n, code=code),
            *_lines(appointments, doses, t),
            "",
            t("mail.moved.new"),
            t.plural("mail.moved.calendar", "mail.moved.calendar.plural", n),
        ]
    )
    ics = _cancel(code, location, vaccine, appointments, emails, doses, t)
    subject = t.plural("mail.moved.subject", "mail.moved.subject.plural", n, code=code)
    return [
        Message("email", to, body, subject=subject, calendar=ics, language=t.lang)
        for to in mailboxes(emails)
    ]


def reminder_messages(due: DueReminder) -> list[Message]:
    """One SMS to the booking's verified number. No e-mail: the addresses a booking names
    were never confirmed by their owners, so they get their booking's own messages only.
    The reminder names its person: a couple's two reminders go to the same number."""
    t = Translator(due.language)
    body = t(
        "sms.reminder",
        label=dose_label(due.dose, due.doses, t),
        name=due.person_name,
        when=t.when_short(due.start),
        vaccine=due.vaccine,
        place=f"{due.centre}, {due.address}",
        code=due.code,
    )
    base = f"rem-{due.appointment_id}"
    return _sms(due.phone, body, priority=PRIORITY_REMINDER, message_id=base)


def _sms(phone: str, body: str, **options: Any) -> list[Message]:
    """The SMS to `phone` in GSM-7, or none when it is a landline (a caller's number taken on
    the phone)."""
    return [Message("sms", phone, gsm7(body), **options)] if is_mobile(phone) else []


# --- iCalendar (RFC 5545): see calendar.py ----------------------------------------------------


def icalendar(
    *,
    code: str,
    location: str,
    appointments: Sequence[BookedAppointment],
    stamp: datetime | None = None,
    vaccine: str,
    attendees: Sequence[str] = (),
    doses: int = 2,
    lang: str = "de",
) -> str:
    """A calendar REQUEST with one event per appointment; UIDs are stable per appointment."""
    t = Translator(lang)
    return calendar.calendar(
        method=calendar.REQUEST,
        code=code,
        location=location,
        description="\n".join(_details(t, code, vaccine, location)),
        events=[_event(a, vaccine, doses, t) for a in appointments],
        attendees=attendees,
        stamp=stamp,
    )


def _cancel(
    code: str,
    location: str,
    vaccine: str,
    appointments: Sequence[BookedAppointment],
    emails: Sequence[str],
    doses: int,
    t: Translator,
) -> str | None:
    if not appointments:
        return None
    return calendar.calendar(
        method=calendar.CANCEL,
        code=code,
        location=location,
        description="\n".join(_details(t, code, vaccine, location)),
        events=[_event(a, vaccine, doses, t, cancelled=True) for a in appointments],
        attendees=emails,
    )


def _event(
    a: BookedAppointment, vaccine: str, doses: int, t: Translator, cancelled: bool = False
) -> calendar.Event:
    label = dose_label(a.dose, doses, t)
    summary = t("ics.summary", label=label, vaccine=vaccine, name=a.person_name)
    if cancelled:
        summary = t("ics.cancelled", summary=summary)
    return calendar.Event(a.start, a.dose, a.person_name, a.minutes, a.slot_id, a.person, summary)
