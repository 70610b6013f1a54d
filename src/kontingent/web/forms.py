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
from datetime import datetime
from typing import Any

from kontingent.errors import KontingentError, RateLimited
from kontingent.i18n import N_, Translator

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
SAME_ADDRESS = "same_address"  # the second person's box: "same address as person 1"
ADDRESS_FIELDS = ("street", "house_number", "postcode", "city")
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})$")
_OFFER_KEY = re.compile(r"^\d{1,12}(?:-\d{1,12}){0,7}$")
_PERSON_PATH = re.compile(r"^persons\[(\d)\](?:\.(\w+))?$")

# Domain error codes whose meaning does not depend on a field's wording.
_CODE_TEXT = {
    "vaccine_mismatch": N_("err.vaccine_mismatch"),
    "invalid_phone": N_("err.invalid_phone"),
    "unknown_postcode": N_("err.unknown_postcode"),
    "place_needed": N_("err.place_needed"),
    "unknown_district": N_("err.place_needed"),
    "resend_too_soon": N_("err.resend_too_soon"),
    "too_many_pins": N_("err.too_many_pins"),
    "invalid_pin": N_("err.invalid_pin"),
    "wrong_pin": N_("err.wrong_pin"),
    "pin_expired": N_("err.pin_expired"),
    "verification_used": N_("err.verification_used"),
    "unknown_verification": N_("err.verification_used"),
    "too_many_attempts": N_("err.too_many_attempts"),
    "already_booked": N_("err.already_booked"),
    "token_used": N_("err.token_used"),
    "not_eligible": N_("err.not_eligible"),
    "invalid_persons": N_("err.same_person"),
    "invalid_offer": N_("err.offer_gone"),
    "unknown_slot": N_("err.offer_gone"),
    "slot_not_bookable": N_("err.offer_gone"),
    "centre_closed": N_("err.centre_closed"),
    "invalid_code": N_("err.invalid_code"),
    "invalid_birth_date": N_("err.date.format"),
    "booking_not_found": N_("err.booking_not_found"),
    "lookup_locked": N_("err.lookup_locked"),  # says how long to wait
    "booking_cancelled": N_("err.booking_cancelled"),
    "unknown_centre": N_("err.centre"),
    "unknown_vaccine": N_("err.vaccine"),
    "rate_limited": N_("page.429.text"),  # says how long to wait before trying again
    "rate_limit_unavailable": N_("page.429.text"),
    "database_unavailable": N_("page.503.text"),
}
# A limit per booking or per number says whose budget ran out; a limit per address (shared
# with a whole network) says only that there are many requests.
_SUBJECT_LIMIT_TEXT = {
    "rebook": N_("rebook.too_often"),
    "cancel": N_("cancel.too_often"),
    "waitlist_join": N_("waitlist.too_often"),
}
_FORMAT_TEXT = {
    "first_name": N_("err.chars.name"),
    "last_name": N_("err.chars.name"),
    "city": N_("err.chars.name"),
    "street": N_("err.chars.street"),
    "house_number": N_("err.format.house_number"),
    "postcode": N_("err.format.postcode"),
    "email": N_("err.format.email"),
    "phone": N_("err.invalid_phone"),
    "pin": N_("err.invalid_pin"),
    "code": N_("err.invalid_code"),
}


# The label of each field a message can name; N_ lets `make messages` find the keys.
_LABELS = {
    "first_name": N_("field.first_name"),
    "last_name": N_("field.last_name"),
    "birth_date": N_("field.birth_date"),
    "street": N_("field.street"),
    "house_number": N_("field.house_number"),
    "postcode": N_("field.postcode"),
    "city": N_("field.city"),
    "email": N_("field.email"),
    "phone": N_("field.phone"),
    "pin": N_("field.pin"),
    "code": N_("field.code"),
    "centre": N_("field.centre"),
    "vaccine": N_("field.vaccine"),
}
_DATE_TEXT = {
    "date.format": N_("err.date.format"),
    "date.real": N_("err.date.real"),
    "date.future": N_("err.date.future"),
    "date.old": N_("err.date.old"),
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
        name: t("err.too_long", label=t(_LABELS[base_name(name)]), n=MAX_FIELD)
        for name, value in values.items()
        if len(value) > MAX_FIELD
    }


def check(values: Mapping[str, str], t: Translator, required: Sequence[str] = ()) -> dict[str, str]:
    """Empty required fields and overlong ones, before any use case is asked."""
    errors = too_long(values, t)
    for name in required:
        if not values.get(name) and name not in errors:
            errors[name] = t("err.missing", label=t(_LABELS[base_name(name)]))
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
    """Each person's fields as typed; from the second on, the "same address" box too."""
    people = [{f: text_of(form, f"p{i}.{f}") for f in PERSON_FIELDS} for i in range(count)]
    for i, person in enumerate(people[1:], start=1):
        person[SAME_ADDRESS] = "1" if text_of(form, f"p{i}.{SAME_ADDRESS}") else ""
    return people


def from_flat(flat_values: Mapping[str, str], count: int) -> list[dict[str, str]]:
    """Person values back from their form fields (a draft), the "same address" box included."""
    people = [{f: flat_values.get(f"p{i}.{f}", "") for f in PERSON_FIELDS} for i in range(count)]
    for i, person in enumerate(people[1:], start=1):
        person[SAME_ADDRESS] = flat_values.get(f"p{i}.{SAME_ADDRESS}", "")
    return people


def same_address(people: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """The persons as booked: where "same address as person 1" is ticked, person 1's address
    replaces whatever the (hidden) address fields held; the box itself is no person data."""
    first = people[0] if people else {}
    out = []
    for person in people:
        copied = {k: v for k, v in person.items() if k != SAME_ADDRESS}
        if person.get(SAME_ADDRESS):
            copied.update({k: first.get(k, "") for k in ADDRESS_FIELDS})
        out.append(copied)
    return out


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
    label = t(_LABELS[base])
    kind = _kind(message)
    if kind == "missing":
        return t("err.missing", label=label)
    if kind == "too_long":
        found = re.search(r"at most (\d+)", message)
        return t("err.too_long", label=label, n=found.group(1) if found else MAX_FIELD)
    if kind in _DATE_TEXT:
        return t(_DATE_TEXT[kind])
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
    if exc.code == "outside_region":
        key = (
            N_("err.outside.nr")
            if exc.details.get("book_with") == "kv_nordrhein"
            else N_("err.outside.de")
        )
    if exc.code == "rate_limited" and exc.details.get("per") != "address":
        key = _SUBJECT_LIMIT_TEXT.get(str(exc.details.get("action")), key)
    if key is None:
        return {name: t("err.generic", message=exc.message)}
    if exc.code == "wrong_pin":
        key = _tries_text(exc.details.get("tries_left"))
    seconds = exc.retry_after_s if isinstance(exc, RateLimited) else 0
    return {name: t(key, seconds=seconds, wait=t.wait(seconds), **_said(exc, seconds, t))}


def _tries_text(tries_left: object) -> str:
    if not isinstance(tries_left, int) or tries_left > 1:
        return N_("err.wrong_pin")
    return N_("err.wrong_pin.one") if tries_left == 1 else N_("err.wrong_pin.last")


def _said(exc: KontingentError, seconds: int, t: Translator) -> dict[str, object]:
    """What a refusal's details name, worded: tries left, a limit, the moment it resets."""
    values: dict[str, object] = {
        "tries": exc.details.get("tries_left", ""),
        "limit": exc.details.get("limit", ""),
    }
    resets = exc.details.get("resets_at")
    if isinstance(resets, str):
        at = datetime.fromisoformat(resets)
        values["until"] = t.at(at)
    return values


def postcode_help(exc: KontingentError, t: Translator) -> dict[str, Any]:
    """What the eligibility page shows beside a postcode refusal: the places to choose from
    where the postcode spans districts, or where to book for a postcode outside the region."""
    if exc.code == "outside_region":
        nordrhein = exc.details.get("book_with") == "kv_nordrhein"
        return {"elsewhere": t(N_("elsewhere.nr") if nordrhein else N_("elsewhere.de"))}
    places = exc.details.get("places")
    if exc.code in ("place_needed", "unknown_district") and isinstance(places, list):
        return {"places": [(p["district"], f"{p['places']} ({p['district']})") for p in places]}
    return {}


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
