"""The waitlist: people who found nothing free ask for one SMS when offers appear.

Invariants kept here (standard library only):
- One waiting entry per phone, centre and vaccine at a time; joining again changes nothing.
- An entry is notified once: the SMS is queued in the transaction that marks it notified.
- The SMS names the centre and vaccine and says plainly that the place is not reserved.
- The SMS is written in the language the entry was made in, and its link opens the offers it
  announces: that centre first, that vaccine, for that many persons, in that language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from kontingent.i18n import Translator, pick
from kontingent.notifications.model import Message, gsm7

MAX_PERSONS = 2


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    phone: str
    centre_id: int
    vaccine_code: str
    persons: int
    created_at: datetime
    notified_at: datetime | None
    language: str = "de"


@dataclass(frozen=True, slots=True)
class Joined:
    entry: Entry
    already: bool  # True when the same phone was already waiting for this centre and vaccine


def offers_link(portal_url: str, entry: Entry) -> str:
    """The portal page that shows the offers the SMS announces (web/choose.py reads it)."""
    query = {
        "centre": entry.centre_id,
        "vaccine": entry.vaccine_code,
        "persons": entry.persons,
        "lang": pick(entry.language),
    }
    return f"{portal_url.rstrip('/')}/choose?{urlencode(query)}"


def released_sms(entry: Entry, centre: str, vaccine: str, portal_url: str) -> Message:
    t = Translator(entry.language)
    link = offers_link(portal_url, entry)
    values = {"centre": centre, "vaccine": vaccine, "link": link}
    body = t.plural("sms.waitlist", "sms.waitlist.plural", entry.persons, **values)
    return Message("sms", entry.phone, gsm7(body))
