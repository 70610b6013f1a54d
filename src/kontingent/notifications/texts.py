"""Every text of an SMS or e-mail, in German (first) and English (second).

The same shape as the portal's catalogue (web/catalogue.py), so both move to gettext together.
Placeholders are `str.format` fields. SMS texts stay short: each 160 characters cost a part.

Invariants kept here:
- Only "de" and "en" exist; anything else reads as German (the language a booking made before
  languages were stored has).
- The "bring along" list (`BRING_ALONG`) is the one the confirmation page shows too: one source.
- One-dose wording never names a second appointment.
"""

from __future__ import annotations

LANGUAGES = ("de", "en")
DEFAULT = "de"

T: dict[str, tuple[str, str]] = {
    # dates: "Mo 12.01.2026 09:20 Uhr" / "Mon 12 Jan 2026, 09:20"
    "when": (
        "{weekday} {date:%d.%m.%Y %H:%M} Uhr",
        "{weekday} {date.day} {month} {date:%Y, %H:%M}",
    ),
    "weekdays": ("Mo Di Mi Do Fr Sa So", "Mon Tue Wed Thu Fri Sat Sun"),
    "months": (
        "Jan Feb Mär Apr Mai Jun Jul Aug Sep Okt Nov Dez",
        "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    ),
    # what each appointment is
    "dose.n": ("{dose}. Impfung", "Dose {dose}"),
    "dose.single": ("Impfung (nur eine)", "Vaccination (single dose)"),
    "line": ("{label} {name}: {when}", "{label} {name}: {when}"),
    # PIN
    "pin.sms": (
        "Ihre PIN für die Impftermin-Buchung: {pin}. Sie gilt {minutes} Minuten. Geben Sie "
        "sie niemandem weiter.",
        "Your PIN for booking vaccination appointments: {pin}. It is valid for {minutes} "
        "minutes. Do not give it to anyone.",
    ),
    # confirmation (and, rebooked, the confirmation of the new appointments)
    "booked.sms": (
        "Impftermin gebucht ({vaccine}). Code {code}. {lines}. {centre}, {address}.",
        "Vaccination booked ({vaccine}). Code {code}. {lines}. {centre}, {address}.",
    ),
    "rebooked.sms": (
        "Impftermin umgebucht ({vaccine}). Code {code}. Neu: {lines}. {centre}, {address}.",
        "Vaccination rebooked ({vaccine}). Code {code}. New: {lines}. {centre}, {address}.",
    ),
    "booked.subject": (
        "Ihre Impftermine – Code {code}",
        "Your vaccination appointments – code {code}",
    ),
    "booked.subject.one": (
        "Ihr Impftermin – Code {code}",
        "Your vaccination appointment – code {code}",
    ),
    "rebooked.subject": (
        "Ihre Impftermine wurden umgebucht – Code {code}",
        "Your vaccination appointments were rebooked – code {code}",
    ),
    "mail.hello": ("Guten Tag,", "Hello,"),
    "booked.lead": (
        "Ihre Impftermine sind verbindlich gebucht.",
        "Your vaccination appointments are booked.",
    ),
    "booked.lead.one": (
        "Ihr Impftermin ist verbindlich gebucht.",
        "Your vaccination appointment is booked.",
    ),
    "rebooked.lead": (
        "Ihre Buchung wurde umgebucht. Das sind Ihre neuen Termine:",
        "Your booking was rebooked. These are your new appointments:",
    ),
    "rebooked.lead.one": (
        "Ihre Buchung wurde umgebucht. Das ist Ihr neuer Termin:",
        "Your booking was rebooked. This is your new appointment:",
    ),
    "mail.code": ("Buchungscode: {code}", "Booking code: {code}"),
    "mail.vaccine": ("Impfstoff: {vaccine}", "Vaccine: {vaccine}"),
    "mail.where": ("Ort: {centre}, {address}", "Place: {centre}, {address}"),
    "mail.bring": ("Bitte mitbringen:", "Please bring:"),
    "mail.lookup": (
        "Mit dem Code und Ihrem Geburtsdatum können Sie die Buchung jederzeit ansehen, "
        "umbuchen oder absagen.",
        "With the code and your date of birth you can view, rebook or cancel the booking at "
        "any time.",
    ),
    "mail.calendar": (
        "Die Termine hängen als Kalenderdatei (impftermine.ics) an.",
        "The appointments are attached as a calendar file (impftermine.ics).",
    ),
    "mail.calendar.one": (
        "Der Termin hängt als Kalenderdatei (impftermine.ics) an.",
        "The appointment is attached as a calendar file (impftermine.ics).",
    ),
    # what to bring: the confirmation page shows the same list (web/choose.py)
    "bring.id": ("Personalausweis oder Reisepass", "Identity card or passport"),
    "bring.card": ("Krankenversichertenkarte", "Health insurance card"),
    "bring.pass": ("Impfpass, falls vorhanden", "Vaccination record, if you have one"),
    "bring.code": (
        "Diesen Buchungscode (ausgedruckt oder aufgeschrieben)",
        "This booking code (printed or written down)",
    ),
    # cancellation
    "cancelled.text": (
        "Ihre Impftermine mit dem Code {code} sind abgesagt. Die Termine sind wieder frei.",
        "Your vaccination appointments with the code {code} are cancelled. They are free "
        "for others again.",
    ),
    "cancelled.subject": (
        "Absage Ihrer Impftermine – Code {code}",
        "Your vaccination appointments are cancelled – code {code}",
    ),
    # rebooking: the e-mail whose calendar removes the old appointments
    "moved.lead": (
        "Ihre Buchung {code} wurde umgebucht. Diese Termine gelten nicht mehr:",
        "Your booking {code} was rebooked. These appointments no longer apply:",
    ),
    "moved.new": (
        "Die neuen Termine stehen in der Buchungsbestätigung, die gleichzeitig kommt.",
        "The new appointments are in the confirmation that comes at the same time.",
    ),
    "moved.calendar": (
        "Der Kalenderanhang entfernt die alten Termine aus Ihrem Kalender.",
        "The calendar attachment removes the old appointments from your calendar.",
    ),
    "moved.subject": (
        "Alte Termine gestrichen – Code {code}",
        "Old appointments removed – code {code}",
    ),
    # reminder
    "reminder.sms": (
        "Erinnerung: {label} {name} am {when} ({vaccine}), {centre}, {address}. Code {code}. "
        "Bitte Ausweis mitbringen.",
        "Reminder: {label} {name} on {when} ({vaccine}), {centre}, {address}. Code {code}. "
        "Please bring your ID.",
    ),
    # waitlist
    "waitlist.sms": (
        "Im {centre} sind wieder Impftermine {who}frei ({vaccine}). Sie sind nicht für Sie "
        "reserviert: Buchen Sie bald unter {link} oder über die Hotline 116 117. Sie stehen "
        "nun nicht mehr auf der Warteliste.",
        "Vaccination appointments {who}are free again at {centre} ({vaccine}). They are not "
        "reserved for you: book soon at {link} or through the hotline 116 117. You are no "
        "longer on the waiting list.",
    ),
    "waitlist.two": ("für zwei Personen ", "for two persons "),
}

BRING_ALONG = ("bring.id", "bring.card", "bring.pass", "bring.code")


def language(code: str | None) -> str:
    """The language to write in: `code` when we speak it, else German."""
    return code if code in LANGUAGES else DEFAULT


def text(key: str, lang: str, **values: object) -> str:
    """The text `key` in `lang`, its placeholders filled."""
    template = T[key][LANGUAGES.index(language(lang))]
    return template.format(**values) if values else template


def bring_along(lang: str) -> list[str]:
    """What to bring to the appointment, as the page and the e-mail list it."""
    return [text(key, lang) for key in BRING_ALONG]
