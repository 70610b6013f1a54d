"""The JSON API's constrained values in plain words, for the schema and for refusals.

Invariants kept here:
- A constraint is declared once, on a wire type in a `*/schemas.py` (msgspec `Meta`), from the
  pattern its domain module checks with: the decoder enforces it and the OpenAPI document
  carries it, so the document is as strict as the code (issue 11, item 12).
- A refusal by the decoder names the field (a header by its HTTP name) and says what to write
  instead, never the decoder's terms: "write five digits, like 48231", not "Expected `str`
  matching regex".
"""

from __future__ import annotations

import re

from kontingent.booking.model import CODE_PATTERN
from kontingent.booking.people import (
    CITY_PATTERN,
    EMAIL_PATTERN,
    HOUSE_NUMBER_PATTERN,
    NAME_PATTERN,
    POSTCODE_PATTERN,
    STREET_PATTERN,
)
from kontingent.verification.model import CALLER_PHONE_PATTERN, PHONE_PATTERN, PIN_PATTERN

# What a value of each pattern looks like, as the schema's description and the refusal's words.
WORDS = {
    NAME_PATTERN: "letters of any script, words joined by spaces, hyphens, apostrophes or dots",
    CITY_PATTERN: "letters of any script, words joined by spaces, hyphens, slashes, dots or "
    "brackets, like Halle (Westf.)",
    STREET_PATTERN: "letters and digits, joined by spaces, dots, apostrophes, hyphens or slashes",
    HOUSE_NUMBER_PATTERN: "a house number like 12, 12a, 12-14 or 3/1",
    POSTCODE_PATTERN: "five digits, like 48231",
    EMAIL_PATTERN: "an e-mail address like erika@example.org",
    PHONE_PATTERN: "a German mobile number like +49 170 1234567 or 0170 1234567",
    CALLER_PHONE_PATTERN: "a German phone number, landline or mobile, like 0251 1234567 or "
    "0170 1234567",
    PIN_PATTERN: "the 6 digits of the PIN as they stand in the SMS",
    CODE_PATTERN: "the booking code of 12 letters and digits, like ABCD-EFGH-JKLM",
}
DATE_WORDS = "YYYY-MM-DD, like 1939-05-01"

_LENGTH = re.compile(r"^Expected `(str|array)` of length ([<>])= (\d+)$")
_NUMBER = re.compile(r"^Expected `int` ([<>])= (-?\d+)$")
_MISSING = re.compile(r"^Object missing required field `([^`]+)`$")


def words(pattern: str) -> str:
    """The plain words for a pattern declared here; the schema's description of its values."""
    return WORDS[pattern]


def header_name(key: str) -> str:
    """The HTTP name of a header parameter: idempotency_key is Idempotency-Key."""
    return "-".join(part.capitalize() for part in key.split("_"))


def explain(key: str, message: str) -> tuple[str, str]:
    """A decoder's refusal of `key` as (field, what to fix) in plain words."""
    if missing := _MISSING.match(message):
        field = missing.group(1)
        return (f"{key}.{field}" if key not in ("", "data") else field), f"{field} is missing"
    if message.startswith("Expected `str` matching regex"):
        said = next((w for p, w in WORDS.items() if repr(p) in message), None)
        return key, f"write {said}" if said else "has a form that is not allowed here"
    if message.startswith("Invalid RFC3339 encoded date"):
        return key, f"is not a real date: write it as {DATE_WORDS}, and check the day and the month"
    if length := _LENGTH.match(message):
        kind, sign, limit = length.groups()
        if kind == "str":
            too = "too long: at most" if sign == "<" else "too short: at least"
            return key, f"{too} {limit} characters"
        return key, f"{'too many: at most' if sign == '<' else 'too few: at least'} {limit}"
    if number := _NUMBER.match(message):
        sign, limit = number.groups()
        return key, f"must be {'at most' if sign == '<' else 'at least'} {limit}"
    return key, message
