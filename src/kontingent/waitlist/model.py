"""The waitlist: people who found nothing free ask for one SMS when offers appear.

Invariants kept here (standard library only):
- One waiting entry per phone, centre and vaccine at a time; joining again changes nothing.
- An entry is notified once: the SMS is queued in the transaction that marks it notified.
- The SMS names the centre and vaccine and says plainly that the place is not reserved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kontingent.notifications.model import Message

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


@dataclass(frozen=True, slots=True)
class Joined:
    entry: Entry
    already: bool  # True when the same phone was already waiting for this centre and vaccine


def released_sms(phone: str, centre: str, vaccine: str, persons: int) -> Message:
    who = "für zwei Personen " if persons == 2 else ""
    text = (
        f"Im {centre} sind wieder Impftermine {who}frei ({vaccine}). Die Termine sind nicht "
        "für Sie reserviert: Buchen Sie bald im Portal oder über die Hotline 116 117. "
        "Sie stehen nun nicht mehr auf der Warteliste."
    )
    return Message("sms", phone, text)
