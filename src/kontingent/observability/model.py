"""What logs may say about a person: nothing that identifies them.

Invariants kept here (standard library only):
- A value under a personal key (names, phone, e-mail, birth date, address, PIN, token,
  secret, password, recipient) never leaves as it came: it is replaced by a mask that keeps
  at most a hint (the first characters of a phone number, the domain of an e-mail address).
- Inside every other string, phone numbers, e-mail addresses, bare dates (birth dates; a date
  followed by a time is a timestamp and stays), booking codes (first group kept) and bearer or
  admission tokens are masked wherever they appear, tracebacks and SQL error texts included;
  SQLAlchemy's `[parameters: ...]` block is dropped whole, since it may hold any column.
- Masking is applied to nested dicts, lists and tuples; numbers, booleans and None pass as
  they are (ids and counts are not personal).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

MASK = "***"

# Keys whose values are personal whatever they look like; matched on the lower-cased key,
# as whole words of a snake_case name (`first_name`, `phone`, `to`, `recipient_email`);
# `last_error` or `number_of_seats` are not personal, so "last" and "number" are no words here.
PERSONAL_WORDS = frozenset(
    {
        "name",
        "names",
        "phone",
        "mobile",
        "email",
        "mail",
        "birth",
        "born",
        "birthday",
        "dob",
        "street",
        "address",
        "house",
        "postcode",
        "city",
        "pin",
        "token",
        "authorization",
        "cookie",
        "secret",
        "password",
        "recipient",
        "to",
        "body",
        "text",
        "person",
        "persons",
        "people",
    }
)
# Keys that look personal by the words above but are not (counts, ids, error names).
NOT_PERSONAL = frozenset({"persons_count"})
# Added by the log pipeline itself (level, time, logger name): nothing personal can be there.
TRUSTED_KEYS = frozenset({"level", "timestamp", "logger", "logger_name"})
CODE_KEYS = frozenset({"code", "booking_code"})  # masked only when the value is a booking code

_EMAIL = re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")
# +49 170 1234567, 0049…, 0170/1234567, 0170-123 45 67: a leading + or 0 and at least 7 digits.
_PHONE = re.compile(r"(?<![\w.:])(?:\+|00|0)[1-9](?:[ /()-]{0,2}\d){6,16}(?![\w.:])")
# 1939-05-01 or 01.05.1939 not followed by a time (a timestamp is not a birth date).
_DATE = re.compile(
    r"(?<![\w.-])(?:\d{4}-\d{2}-\d{2}|\d{1,2}\.\d{1,2}\.\d{4})(?![\w:.-]|[T ]\d{2}:)"
)
_CODE_SYMBOL = "[2-9A-HJ-NP-Z]"
_BOOKING_CODE = re.compile(rf"\b({_CODE_SYMBOL}{{4}})-{_CODE_SYMBOL}{{4}}-{_CODE_SYMBOL}{{4}}\b")
_BEARER = re.compile(r"(?i)\bbearer\s+[\w.~+/=-]+")
# Our signed tokens (phone and admission): dotted fields, an expiry in unix seconds, then a
# base64url HMAC-SHA256 (43 characters); the phone token carries the number among its fields.
_SIGNED = re.compile(r"[\w-]+(?:\.[\w-]+)*\.\d{9,11}\.[\w-]{40,}")
# Every pattern needs a digit, an @, a hyphen (an all-letter booking code) or a bracket (SQL
# parameters); a text with none of them is passed over with one search, not seven.
_SUSPECT = re.compile(r"[\d@\[-]")
_SQL_PARAMETERS = re.compile(r"\[parameters: .*?\](?=\s*(?:\(|$|\n))", re.DOTALL)


@functools.lru_cache(maxsize=1024)
def is_personal_key(key: str) -> bool:
    lowered = key.lower()
    if lowered in NOT_PERSONAL:
        return False
    return any(word in PERSONAL_WORDS for word in lowered.split("_"))


def mask_email(match: re.Match[str]) -> str:
    return f"{MASK}@{match.group(1)}"


def mask_phone(text: str) -> str:
    """Country and network prefix only: enough to tell a German mobile from a typo."""
    digits = re.sub(r"\D", "", text)
    return f"{'+' if text.startswith('+') else ''}{digits[:4]}{MASK}"


def mask_code(match: re.Match[str]) -> str:
    return f"{match.group(1)}-****-****"


def scrub_text(text: str) -> str:
    """Mask everything personal that a free text may carry."""
    if _SUSPECT.search(text) is None:  # most values: nothing the patterns below could match
        return text
    text = _SQL_PARAMETERS.sub("[parameters: (hidden)]", text)
    text = _BEARER.sub(f"Bearer {MASK}", text)
    text = _SIGNED.sub(MASK, text)
    text = _EMAIL.sub(mask_email, text)
    text = _BOOKING_CODE.sub(mask_code, text)
    text = _DATE.sub(MASK, text)
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)


def mask_value(value: Any) -> Any:
    """A personal key's value: keep only its hint, whatever its type."""
    if value is None or isinstance(value, bool | int | float):
        return value if value is None or isinstance(value, bool) else MASK
    if isinstance(value, str):
        if _EMAIL.fullmatch(value):
            return _EMAIL.sub(mask_email, value)
        if _PHONE.fullmatch(value.strip()):
            return mask_phone(value.strip())
        return MASK
    if isinstance(value, Mapping):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(v) for v in value]
    return MASK


def scrub_value(value: Any) -> Any:
    """A value under a key that is not personal: mask what it carries, keep the rest."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):  # a bare date in an event is most likely someone's birthday
        return MASK
    if isinstance(value, Mapping):
        return scrub_mapping(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub_value(v) for v in value]
    return scrub_text(str(value))


def scrub_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = str(key)
        if name in TRUSTED_KEYS:
            out[key] = value
            continue
        if name in CODE_KEYS and isinstance(value, str):
            out[key] = _BOOKING_CODE.sub(mask_code, value)
        elif is_personal_key(name):
            out[key] = mask_value(value)
        else:
            out[key] = scrub_value(value)
    return out
