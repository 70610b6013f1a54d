"""The personal data of a booking (kontingent.booking.people).

The rule under test: every problem is reported at once, keyed by the field path, in words that
say what to fix; markup and control characters are refused, never stored; a valid person passes.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontingent.booking.model import Person
from kontingent.booking.people import check_birth_date, check_person
from tests.unit.properties import examples

TODAY = date(2026, 1, 12)
VERIFIED_PHONE = "+491701000000"


def valid(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_name": "Erika",
        "last_name": "Mustermann",
        "birth_date": "1939-05-01",
        "postcode": "33602",
        "city": "Bielefeld",
        "street": "Hauptstraße",
        "house_number": "12a",
        "email": "erika@example.org",
    }
    data.update(overrides)
    return data


def check(raw: dict[str, Any], index: int = 0) -> tuple[Person | None, dict[str, str]]:
    errors: dict[str, str] = {}
    return check_person(raw, index, TODAY, VERIFIED_PHONE, errors), errors


def test_a_valid_person_passes_with_the_verified_phone() -> None:
    person, errors = check(valid())
    assert errors == {}
    assert person == Person(
        "Erika",
        "Mustermann",
        date(1939, 5, 1),
        "33602",
        "Bielefeld",
        "Hauptstraße",
        "12a",
        VERIFIED_PHONE,
        "erika@example.org",
    )


def test_a_phone_given_for_the_person_is_stored_in_e164() -> None:
    person, _ = check(valid(phone="0171 / 234 56 78"))
    assert person is not None and person.phone == "+491712345678"


@pytest.mark.parametrize("email", [None, "", "   "])
def test_the_email_address_is_optional(email: str | None) -> None:
    person, errors = check(valid(email=email))
    assert errors == {} and person is not None and person.email is None


def test_whitespace_is_collapsed_before_storing() -> None:
    person, _ = check(valid(first_name="  Anne   Marie ", city="Halle  (Westf.)"))
    assert person is not None
    assert (person.first_name, person.city) == ("Anne Marie", "Halle (Westf.)")


def test_a_name_typed_with_a_combining_accent_is_stored_composed() -> None:
    person, errors = check(valid(first_name="Jose\u0301"))
    assert errors == {}
    assert person is not None and person.first_name == "José"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "Anne-Marie"),
        ("first_name", "Dr. Hans"),
        ("last_name", "O'Brien"),
        ("last_name", "Müller-Lüdenscheidt"),
        ("last_name", "van der Weiß"),
        ("last_name", "Çelik"),
        ("last_name", "Łukasiewicz"),
        ("last_name", "Παπαδόπουλος"),
        ("city", "Rheda-Wiedenbrück"),
        ("city", "Mülheim an der Ruhr"),
        ("city", "Halle (Westf.)"),
        ("street", "Straße des 17. Juni"),
        ("street", "Am Bahnhof"),
        ("house_number", "12"),
        ("house_number", "12 a"),
        ("house_number", "12-14"),
        ("house_number", "3/1"),
        ("email", "erika.mustermann+impfung@mail.example-domain.de"),
        ("birth_date", "1944-02-29"),
        ("birth_date", TODAY.isoformat()),
    ],
)
def test_real_world_spellings_are_accepted(field: str, value: str) -> None:
    person, errors = check(valid(**{field: value}))
    assert errors == {}, errors
    assert person is not None


MISSING = "is missing"
BAD_CHARS = "contains characters that do not belong there"


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("first_name", "", "first name is missing"),
        ("first_name", "   ", "first name is missing"),
        ("first_name", None, "first name is missing"),
        ("first_name", 42, "first name must be text"),
        ("first_name", "E" * 101, "first name is too long: at most 100 characters"),
        ("first_name", "<script>alert(1)</script>", f"first name {BAD_CHARS}"),
        ("first_name", "Erika2", f"first name {BAD_CHARS}"),
        ("first_name", "Erika\x00", f"first name {BAD_CHARS}"),
        ("first_name", "Eri\u202eka", f"first name {BAD_CHARS}"),
        ("last_name", "", "last name is missing"),
        ("last_name", "Muster&mann", f"last name {BAD_CHARS}"),
        ("city", "", "city is missing"),
        ("city", "<b>Bielefeld</b>", f"city {BAD_CHARS}"),
        ("city", "B" * 101, "city is too long: at most 100 characters"),
        ("street", "", "street is missing"),
        ("street", "Hauptstraße <script>", f"street {BAD_CHARS}"),
        ("street", "S" * 201, "street is too long: at most 200 characters"),
        ("street", "-Hauptstraße", f"street {BAD_CHARS}"),
        ("house_number", "", "house number (like 12 or 12a) is missing"),
        ("house_number", "zwölf", f"house number (like 12 or 12a) {BAD_CHARS}"),
        ("house_number", "123456", f"house number (like 12 or 12a) {BAD_CHARS}"),
        ("house_number", "1" * 21, "house number (like 12 or 12a) is too long: at most 20"),
        ("house_number", "١٢", f"house number (like 12 or 12a) {BAD_CHARS}"),
        ("postcode", "", "postcode (five digits) is missing"),
        ("postcode", "4823", f"postcode (five digits) {BAD_CHARS}"),
        ("postcode", "4823a", f"postcode (five digits) {BAD_CHARS}"),
        ("postcode", "482316", "postcode (five digits) is too long: at most 5 characters"),
        ("postcode", "٤٨٢٣١", f"postcode (five digits) {BAD_CHARS}"),
        ("postcode", 48231, "postcode (five digits) must be text"),
        ("email", "not-an-email", f"e-mail address {BAD_CHARS}"),
        ("email", "erika@localhost", f"e-mail address {BAD_CHARS}"),
        ("email", "erika@@example.org", f"e-mail address {BAD_CHARS}"),
        ("email", "<erika@example.org>", f"e-mail address {BAD_CHARS}"),
        ("email", "erika@example.org<script>", f"e-mail address {BAD_CHARS}"),
        ("email", "eri\x00ka@example.org", f"e-mail address {BAD_CHARS}"),
        ("email", "eri\x1bka@example.org", f"e-mail address {BAD_CHARS}"),
        ("email", "e" * 250 + "@example.org", "e-mail address is too long: at most 254"),
        ("birth_date", "", "birth date is missing: write it as YYYY-MM-DD"),
        ("birth_date", None, "birth date is missing: write it as YYYY-MM-DD"),
        ("birth_date", "2021-02-30", "is not a real date: check the day and the month"),
        ("birth_date", "1943-02-29", "is not a real date: check the day and the month"),
        ("birth_date", "1939-13-01", "is not a real date: check the day and the month"),
        ("birth_date", "01.05.1939", "is not a date: write it as YYYY-MM-DD"),
        ("birth_date", "1939-5-1", "is not a date: write it as YYYY-MM-DD"),
        ("birth_date", "١٩٣٩-٠٥-٠١", "is not a date: write it as YYYY-MM-DD"),
        ("birth_date", "2026-01-13", "the birth date lies in the future: check the year"),
        ("birth_date", "1850-01-01", "a birth date more than 130 years ago cannot be right"),
        ("phone", "12345", "phone number is not valid: write it like +49 170 1234567"),
        ("phone", "0521 123456", "phone number is not valid"),
        ("phone", "+43 664 1234567", "phone number is not valid"),
        ("phone", 1701234567, "phone number is not valid"),
    ],
)
def test_bad_input_is_reported_for_its_field_in_plain_words(
    field: str, value: Any, words: str
) -> None:
    person, errors = check(valid(**{field: value}))
    assert person is None
    assert list(errors) == [f"persons[0].{field}"]
    assert words in errors[f"persons[0].{field}"]


def test_every_problem_is_reported_at_once_under_the_persons_index() -> None:
    person, errors = check(
        valid(first_name="", postcode="123", birth_date="2021-02-30", email="x"), index=1
    )
    assert person is None
    assert set(errors) == {
        "persons[1].first_name",
        "persons[1].postcode",
        "persons[1].birth_date",
        "persons[1].email",
    }


def test_a_missing_field_is_reported_even_when_the_key_is_absent() -> None:
    raw = valid()
    del raw["street"]
    _, errors = check(raw)
    assert errors == {"persons[0].street": "street is missing"}


def test_check_birth_date_refuses_a_future_date_without_a_person() -> None:
    errors: dict[str, str] = {}
    assert check_birth_date("2030-01-01", TODAY, "birth_date", errors) is not None
    assert errors == {"birth_date": "the birth date lies in the future: check the year"}


# --- property: whatever a real person could type passes ----------------------------------------

letters = st.characters(categories=["Lu", "Ll"], max_codepoint=0x4FF)
words = st.text(letters, min_size=1, max_size=12)
names = st.lists(words, min_size=1, max_size=3).flatmap(
    lambda parts: st.sampled_from([" ", "-", "'"]).map(lambda sep: sep.join(parts))
)
ascii_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
emails = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    st.from_regex(r"[A-Za-z0-9._%+-]{1,20}", fullmatch=True),
    ascii_label,
    st.sampled_from(["de", "org", "com", "nrw"]),
)
house_numbers = st.builds(
    lambda n, suffix: f"{n}{suffix}", st.integers(1, 99999), st.sampled_from(["", "a", " b"])
)
mobiles = st.builds(
    lambda prefix, rest, style: style.format(prefix, rest),
    st.sampled_from(["151", "160", "170", "176", "179"]),
    st.integers(1_000_000, 99_999_999),
    st.sampled_from(["0{} {}", "+49 {} {}", "0049{}{}", "0{}/{}", "+49 (0){}-{}"]),
)
people = st.fixed_dictionaries(
    {
        "first_name": names,
        "last_name": names,
        "birth_date": st.dates(date(1900, 1, 1), TODAY).map(date.isoformat),
        "postcode": st.from_regex(r"[0-9]{5}", fullmatch=True),
        "city": names,
        "street": st.builds(lambda w, n: f"{w} {n}".strip(), words, st.sampled_from(["", "Str."])),
        "house_number": house_numbers,
        "email": st.one_of(st.none(), emails),
    },
    optional={"phone": mobiles},
)


@examples(300)
@given(people)
def test_any_valid_person_passes_and_is_stored_as_typed(raw: dict[str, Any]) -> None:
    person, errors = check(raw)
    assert errors == {}
    assert person is not None
    assert person.first_name == unicodedata.normalize("NFC", raw["first_name"])
    assert person.birth_date.isoformat() == raw["birth_date"]
    assert person.postcode == raw["postcode"]
    assert person.phone.startswith("+491")


@examples()
@given(st.dictionaries(st.sampled_from(list(valid())), st.text(max_size=30)))
def test_any_input_is_either_a_person_or_a_list_of_errors_never_both(raw: dict[str, Any]) -> None:
    person, errors = check({**valid(), **raw})
    assert (person is None) == bool(errors)
    assert all(key.startswith("persons[0].") for key in errors)
