"""Validation of the personal data a booking carries.

Every problem is reported at once, keyed by the field path the caller sent
(`persons[0].birth_date`), with words that say what to fix. Markup and control characters are
refused rather than stored, so nothing typed here can turn into script on a page later.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from kontingent.booking.model import Person
from kontingent.verification.model import normalise_phone

MAX_AGE = 130
# The patterns are public: the API's wire types carry them, so its schema says what is checked.
NAME_PATTERN = r"^[^\W\d_]+(?:[ '’.\-]+[^\W\d_]+)*\.?$"
CITY_PATTERN = r"^[^\W\d_]+(?:[ '’.\-/()]+[^\W\d_]+)*\.?\)?$"
STREET_PATTERN = r"^[\w][\w .'’\-/]*$"
# Numbers are [0-9], not \d, which also matches the digits of other scripts.
HOUSE_NUMBER_PATTERN = r"^[0-9]{1,5} ?[a-zA-Z]?(?: ?[-/] ?[0-9]{1,5} ?[a-zA-Z]?)?$"
POSTCODE_PATTERN = r"^[0-9]{5}$"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
# The local part refuses control characters too: PostgreSQL cannot even store a NUL.
EMAIL_PATTERN = rf"^[^@\s<>\"',;\x00-\x1f\x7f-\x9f]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$"
NAME_MAX_LENGTH, STREET_MAX_LENGTH, HOUSE_NUMBER_MAX_LENGTH, EMAIL_MAX_LENGTH = 100, 200, 20, 254
_NAME = re.compile(NAME_PATTERN)
_CITY = re.compile(CITY_PATTERN)
_STREET = re.compile(STREET_PATTERN)
_HOUSE_NUMBER = re.compile(HOUSE_NUMBER_PATTERN)
_POSTCODE = re.compile(POSTCODE_PATTERN)
_EMAIL = re.compile(EMAIL_PATTERN)


def parse_date(text: str, field: str, errors: dict[str, str]) -> date | None:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        errors[field] = f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 1939-05-01"
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = f"{text!r} is not a real date: check the day and the month"
        return None


def check_birth_date(text: str, today: date, field: str, errors: dict[str, str]) -> date | None:
    born = parse_date(text, field, errors)
    if born is None:
        return None
    if born > today:
        errors[field] = "the birth date lies in the future: check the year"
    elif today.year - born.year > MAX_AGE:
        errors[field] = f"a birth date more than {MAX_AGE} years ago cannot be right"
    return born


def _text(
    raw: Mapping[str, Any],
    name: str,
    prefix: str,
    errors: dict[str, str],
    *,
    pattern: re.Pattern[str],
    max_len: int,
    what: str,
    required: bool = True,
) -> str:
    value = raw.get(name)
    field = f"{prefix}{name}"
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[field] = f"{what} is missing"
        return ""
    if not isinstance(value, str):
        errors[field] = f"{what} must be text"
        return ""
    # NFC: a name typed as letter + combining accent is the same name as the composed letter.
    value = unicodedata.normalize("NFC", " ".join(value.split()))
    if len(value) > max_len:
        errors[field] = f"{what} is too long: at most {max_len} characters"
    elif not pattern.match(value):
        errors[field] = f"{what} contains characters that do not belong there"
    return value


def check_person(
    raw: Mapping[str, Any],
    index: int,
    today: date,
    default_phone: str,
    errors: dict[str, str],
    phones: Callable[[str], str | None] = normalise_phone,
    *,
    address: bool = True,
) -> Person | None:
    """One person from the wire, or None with the problems added to `errors`. `phones`
    normalises a phone number given, or says None when it is none it takes (a mobile's;
    on the hotline a landline's too). `address` False: the address may be left out (a
    second dose booked at a centre's desk, where the person stands with their papers)."""
    p = f"persons[{index}]."
    before = len(errors)
    first = _text(
        raw, "first_name", p, errors, pattern=_NAME, max_len=NAME_MAX_LENGTH, what="first name"
    )
    last = _text(
        raw, "last_name", p, errors, pattern=_NAME, max_len=NAME_MAX_LENGTH, what="last name"
    )
    city = _text(
        raw, "city", p, errors, pattern=_CITY, max_len=NAME_MAX_LENGTH, what="city",
        required=address,
    )  # fmt: skip
    street = _text(
        raw, "street", p, errors, pattern=_STREET, max_len=STREET_MAX_LENGTH, what="street",
        required=address,
    )  # fmt: skip
    number = _text(
        raw,
        "house_number",
        p,
        errors,
        pattern=_HOUSE_NUMBER,
        max_len=HOUSE_NUMBER_MAX_LENGTH,
        what="house number (like 12 or 12a)",
        required=address,
    )
    postcode = _text(
        raw, "postcode", p, errors, pattern=_POSTCODE, max_len=5, what="postcode (five digits)",
        required=address,
    )  # fmt: skip
    email = (
        _text(
            raw,
            "email",
            p,
            errors,
            pattern=_EMAIL,
            max_len=EMAIL_MAX_LENGTH,
            what="e-mail address",
            required=False,
        )
        or None
    )
    born_raw = raw.get("birth_date")
    born = None
    if not isinstance(born_raw, str) or not born_raw.strip():
        errors[f"{p}birth_date"] = "birth date is missing: write it as YYYY-MM-DD"
    else:
        born = check_birth_date(born_raw.strip(), today, f"{p}birth_date", errors)
    phone = default_phone
    if raw.get("phone"):
        phone_raw = raw["phone"]
        normalised = phones(phone_raw) if isinstance(phone_raw, str) else None
        if normalised is None:
            errors[f"{p}phone"] = (
                "phone number is not valid: write it like +49 170 1234567"
                if phones is normalise_phone
                else "phone number is not valid: write it like 0251 1234567 or 0170 1234567"
            )
        else:
            phone = normalised
    if len(errors) > before or born is None:
        return None
    return Person(first, last, born, postcode, city, street, number, phone, email)
