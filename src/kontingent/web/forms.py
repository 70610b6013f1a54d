"""Reading portal forms and turning the domain's refusals into inline messages.

Invariants kept here:
- The rules about what a valid name, date, phone or postcode is live in the domain; this module
  only reads raw form text, caps its length (input hygiene, like the API's 300-character
  limit), converts the German date style to ISO, and words the domain's answers for people.
- Every refusal becomes at least one message, keyed by the form field it is about ("_form"
  when it is about the whole form), so nothing fails silently.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from kontingent.errors import KontingentError, RateLimited
from kontingent.web.i18n import Translator

MAX_FIELD = 300  # the API's limit for any text field as well
FORM = "_form"
PERSON_FIELDS = (
    "first_name",
    "last_name",
    "birth_date",
    "street",
    "house_number",
    "postcode",
    "city",
    "email",
)
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})$")
_OFFER_KEY = re.compile(r"^\d{1,12}(?:-\d{1,12}){0,7}$")
_PERSON_PATH = re.compile(r"^persons\[(\d)\](?:\.(\w+))?$")

# Domain error codes whose meaning does not depend on a field's wording.
_CODE_TEXT = {
    "vaccine_mismatch": "err.vaccine_mismatch",
    "invalid_phone": "err.invalid_phone",
    "unknown_postcode": "err.unknown_postcode",
    "resend_too_soon": "err.resend_too_soon",
    "too_many_pins": "err.too_many_pins",
    "invalid_pin": "err.invalid_pin",
    "wrong_pin": "err.wrong_pin",
    "pin_expired": "err.pin_expired",
    "verification_used": "err.verification_used",
    "unknown_verification": "err.verification_used",
    "too_many_attempts": "err.too_many_attempts",
    "already_booked": "err.already_booked",
    "token_used": "err.token_used",
    "not_eligible": "err.not_eligible",
    "invalid_persons": "err.same_person",
    "invalid_offer": "err.offer_gone",
    "unknown_slot": "err.offer_gone",
    "slot_not_bookable": "err.offer_gone",
    "invalid_code": "err.invalid_code",
    "invalid_birth_date": "err.date.format",
    "booking_not_found": "err.booking_not_found",
    "lookup_locked": "err.lookup_locked",  # says how long to wait
    "booking_cancelled": "err.booking_cancelled",
    "unknown_centre": "err.centre",
    "unknown_vaccine": "err.vaccine",
    "rate_limited": "page.429.text",  # says how long to wait before trying again
    "rate_limit_unavailable": "page.429.text",
    "database_unavailable": "page.503.text",
}
# A limit per booking or per number says whose budget ran out; a limit per address (shared
# with a whole network) says only that there are many requests.
_SUBJECT_LIMIT_TEXT = {
    "rebook": "rebook.too_often",
    "cancel": "cancel.too_often",
    "waitlist_join": "waitlist.too_often",
}
_FORMAT_TEXT = {
    "first_name": "err.chars.name",
    "last_name": "err.chars.name",
    "city": "err.chars.name",
    "street": "err.chars.street",
    "house_number": "err.format.house_number",
    "postcode": "err.format.postcode",
    "email": "err.format.email",
    "phone": "err.invalid_phone",
    "pin": "err.invalid_pin",
    "code": "err.invalid_code",
}


def text_of(form: Mapping[str, Any], name: str) -> str:
    """The stripped text of one field; files and missing fields read as empty."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def read(form: Mapping[str, Any], names: Sequence[str]) -> dict[str, str]:
    return {name: text_of(form, name) for name in names}


def too_long(values: Mapping[str, str], t: Translator) -> dict[str, str]:
    """Fields longer than any valid answer can be; checked before anything else runs."""
    return {
        name: t("err.too_long", label=t(f"field.{base_name(name)}"), n=MAX_FIELD)
        for name, value in values.items()
        if len(value) > MAX_FIELD
    }


def check(values: Mapping[str, str], t: Translator, required: Sequence[str] = ()) -> dict[str, str]:
    """Empty required fields and overlong ones, before any use case is asked."""
    errors = too_long(values, t)
    for name in required:
        if not values.get(name) and name not in errors:
            errors[name] = t("err.missing", label=t(f"field.{base_name(name)}"))
    return errors


def shown(values: Mapping[str, str]) -> dict[str, str]:
    """Values to put back into a re-rendered form, cut to what a field may hold."""
    return {name: value[:MAX_FIELD] for name, value in values.items()}


def iso_date(text: str) -> str:
    """`01.05.1939` or `1.5.1939` as `1939-05-01`; other text is passed on for the domain."""
    found = _GERMAN_DATE.match(text.strip())
    if found is None:
        return text.strip()
    day, month, year = found.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def base_name(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def form_name(path: str) -> str:
    """A domain field path (`persons[1].city`) as the form field it came from (`p1.city`)."""
    found = _PERSON_PATH.match(path)
    if found is None:
        return path
    index, field = found.groups()
    return f"p{index}.{field or 'birth_date'}"


def field_id(name: str) -> str:
    return name.replace(".", "-")


def parse_offer(key: str) -> list[int] | None:
    """The slot ids of an offer key (`12-12-40-40`), or None if it cannot be one."""
    if not _OFFER_KEY.match(key):
        return None
    return [int(part) for part in key.split("-")]


def persons_in(slot_ids: Sequence[int]) -> int:
    """How many persons an offer seats: each person takes one seat per slot."""
    return max(Counter(slot_ids).values(), default=1)


def person_values(form: Mapping[str, Any], count: int) -> list[dict[str, str]]:
    return [{f: text_of(form, f"p{i}.{f}") for f in PERSON_FIELDS} for i in range(count)]


def flat(people: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """Person values as form fields (`p0.first_name`), for inputs and hidden fields alike."""
    return {f"p{i}.{k}": v for i, p in enumerate(people) for k, v in p.items()}


def for_domain(people: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """What the booking service takes: ISO birth dates, no empty optional e-mail."""
    out = []
    for p in people:
        person = {k: v for k, v in p.items() if v or k != "email"}
        person["birth_date"] = iso_date(p.get("birth_date", ""))
        out.append(person)
    return out


def _kind(message: str) -> str:
    for marker, kind in (
        ("is missing", "missing"),
        ("too long", "too_long"),
        ("not a real date", "date.real"),
        ("not a date", "date.format"),
        ("in the future", "date.future"),
        ("years ago", "date.old"),
    ):
        if marker in message:
            return kind
    return "format"


def describe(name: str, message: str, t: Translator) -> str:
    """One domain field message in plain words of the person's language."""
    base = base_name(name)
    label = t(f"field.{base}")
    kind = _kind(message)
    if kind == "missing":
        return t("err.missing", label=label)
    if kind == "too_long":
        found = re.search(r"at most (\d+)", message)
        return t("err.too_long", label=label, n=found.group(1) if found else MAX_FIELD)
    if kind.startswith("date."):
        return t(f"err.{kind}")
    if base == "birth_date":
        return t("err.date.format")
    key = _FORMAT_TEXT.get(base)
    return t(key, label=label) if key else t("err.generic", message=message)


def messages(exc: KontingentError, t: Translator, default_field: str = FORM) -> dict[str, str]:
    """Inline messages for a refusal from a use case, keyed by form field."""
    fields = exc.details.get("fields")
    if isinstance(fields, dict) and fields:
        return {form_name(k): describe(form_name(k), str(v), t) for k, v in fields.items()}
    raw_field = exc.details.get("field")
    name = form_name(raw_field) if isinstance(raw_field, str) else default_field
    if name in ("slot_ids", "persons"):
        name = FORM
    key = _CODE_TEXT.get(exc.code)
    if exc.code == "rate_limited" and exc.details.get("per") != "address":
        key = _SUBJECT_LIMIT_TEXT.get(str(exc.details.get("action")), key)
    if key is None:
        return {name: t("err.generic", message=exc.message)}
    seconds = exc.retry_after_s if isinstance(exc, RateLimited) else 0
    return {name: t(key, seconds=seconds, wait=t.wait(seconds))}


def summary(errors: Mapping[str, str], t: Translator, persons: int = 1) -> list[tuple[str, str]]:
    """The error summary's entries: (anchor id or "", text), person named when there are two."""
    entries = []
    for name, text in errors.items():
        if name == FORM:
            entries.append(("", text))
            continue
        prefix = ""
        found = re.match(r"^p(\d)\.", name)
        if found and persons > 1:
            prefix = t("details.person", n=int(found.group(1)) + 1) + ": "
        entries.append((field_id(name), prefix + text))
    return entries
