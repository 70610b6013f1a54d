"""Phone numbers, PINs and booking tokens (kontingent.verification.model).

The rules under test: only German mobile numbers are accepted, in any usual spelling, and stored
as E.164; a PIN is six digits from a CSPRNG, kept only as a keyed hash compared in constant time;
a token is genuine only under our key, unaltered and unexpired.
"""

from __future__ import annotations

import hmac
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontingent.verification import model
from kontingent.verification.model import (
    TOKEN_VALIDITY,
    TokenClaims,
    hash_pin,
    is_plausible_phone,
    issue_token,
    new_pin,
    new_verification_id,
    normalise_phone,
    pin_matches,
    read_token,
)
from tests.unit.properties import examples

SECRET = "unit-test-secret-" + "k" * 24
NOW = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
PHONE = "+491701234567"

# --- phone numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "01701234567",
        "0170 1234567",
        "0170 123 45 67",
        "0170/1234567",
        "0170-1234567",
        "0170 / 123 45 67",
        "(0170) 1234567",
        "+491701234567",
        "+49 170 1234567",
        "+49-170-1234567",
        "+49 (0)170 1234567",
        "+49 (0) 170/123 45 67",
        "+49 0170 1234567",
        "0049 170 1234567",
        "00491701234567",
        "0170.123.45.67",
        " 0170 1234567 ",
    ],
)
def test_a_german_mobile_number_in_any_usual_spelling_becomes_e164(typed: str) -> None:
    assert normalise_phone(typed) == PHONE


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("0151 12345678", "+4915112345678"),
        ("0160 1234567", "+491601234567"),
        ("0176 12345678", "+4917612345678"),
        ("0179 1234567", "+491791234567"),
    ],
)
def test_every_german_mobile_prefix_is_accepted(typed: str, e164: str) -> None:
    assert normalise_phone(typed) == e164


@pytest.mark.parametrize(
    "typed",
    [
        "0521 123456",  # Bielefeld landline
        "030 12345678",  # Berlin landline
        "0800 1234567",  # free-call number
        "0180 1234567",  # service number
        "+43 664 1234567",  # Austrian mobile
        "+1 202 555 0143",
        "0043 664 1234567",
        "00170 1234567",
        "0170",
        "0170 123",  # too short
        "0170 12345678901",  # too long
        "+49 170 1234567 ext 5",
        "0170 1234567a",
        "0170_1234567",
        "+49 170 ١٢٣٤٥٦٧",  # Arabic-Indic digits: \d would match them, no gateway dials them
        "０１７０ １２３４５６７",  # full-width digits
        "",
        "abc",
        "0170 1234567" + " " * 40,
        "+49+170 1234567",
    ],
)
def test_landlines_foreign_numbers_and_garbage_are_refused(typed: str) -> None:
    assert normalise_phone(typed) is None


@examples()
@given(st.text(max_size=45))
def test_whatever_is_accepted_is_a_german_mobile_number_in_e164(text: str) -> None:
    phone = normalise_phone(text)
    assert phone is None or re.fullmatch(r"\+491[5-7][0-9]{7,10}", phone)
    assert phone is None or is_plausible_phone(phone)


@examples()
@given(st.from_regex(r"1[5-7][0-9]{8}", fullmatch=True))
def test_normalising_is_idempotent(national: str) -> None:
    phone = normalise_phone("0" + national)
    assert phone == "+49" + national
    assert normalise_phone(phone) == phone


# --- PINs ---------------------------------------------------------------------------------------


def test_a_pin_is_six_ascii_digits_and_may_start_with_zero() -> None:
    pins = [new_pin() for _ in range(2000)]
    assert all(re.fullmatch(r"[0-9]{6}", pin) for pin in pins)
    assert any(pin.startswith("0") for pin in pins)  # 1 - 0.9**2000: not padding would show


def test_a_pin_is_drawn_from_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    bounds: list[int] = []

    def randbelow(n: int) -> int:
        bounds.append(n)
        return 42

    monkeypatch.setattr(model.secrets, "randbelow", randbelow)
    assert new_pin() == "000042"
    assert bounds == [1_000_000]


def test_the_stored_hash_verifies_the_right_pin_only() -> None:
    stored = hash_pin(SECRET, "v1", "123456")
    assert pin_matches(SECRET, "v1", "123456", stored)
    assert not pin_matches(SECRET, "v1", "123457", stored)
    assert not pin_matches(SECRET, "v1", "", stored)
    assert not pin_matches(SECRET, "v2", "123456", stored)  # bound to its verification
    assert not pin_matches("another-" + SECRET, "v1", "123456", stored)  # and to the key


def test_the_stored_hash_does_not_reveal_the_pin() -> None:
    stored = hash_pin(SECRET, "v1", "123456")
    assert re.fullmatch(r"[0-9a-f]{64}", stored)
    assert "123456" not in stored


def test_pins_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: bytes | str, b: bytes | str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(model.hmac, "compare_digest", spy)
    stored = hash_pin(SECRET, "v1", "123456")
    assert not pin_matches(SECRET, "v1", "000000", stored)
    assert calls and calls[-1][1] == stored


@examples(200)
@given(st.from_regex(r"[0-9]{6}", fullmatch=True), st.from_regex(r"[0-9]{6}", fullmatch=True))
def test_no_other_pin_matches_a_stored_hash(right: str, guess: str) -> None:
    stored = hash_pin(SECRET, "v1", right)
    assert pin_matches(SECRET, "v1", guess, stored) == (guess == right)


def test_verification_ids_are_long_random_and_url_safe() -> None:
    ids = {new_verification_id() for _ in range(500)}
    assert len(ids) == 500
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{24}", i) for i in ids)


# --- tokens -------------------------------------------------------------------------------------


def token(now: datetime = NOW, secret: str = SECRET) -> str:
    return issue_token(secret, "verif-123", PHONE, now)


def test_a_token_reads_back_its_verification_phone_and_expiry() -> None:
    assert read_token(SECRET, token(), NOW) == TokenClaims("verif-123", PHONE, NOW + TOKEN_VALIDITY)


def test_a_token_is_valid_until_the_second_before_it_expires() -> None:
    expires = NOW + TOKEN_VALIDITY
    assert read_token(SECRET, token(), expires - timedelta(seconds=1)) is not None
    assert read_token(SECRET, token(), expires) is None
    assert read_token(SECRET, token(), expires + timedelta(days=1)) is None


def test_a_token_signed_with_another_key_is_refused() -> None:
    assert read_token(SECRET, token(secret="another-" + SECRET), NOW) is None


def test_a_token_with_a_swapped_phone_or_later_expiry_is_refused() -> None:
    vid, phone, expires, signature = token().split(".")
    other_phone = f"{vid}.491709999999.{expires}.{signature}"
    later = f"{vid}.{phone}.{int(expires) + 86400}.{signature}"
    assert read_token(SECRET, other_phone, NOW) is None
    assert read_token(SECRET, later, NOW) is None


@pytest.mark.parametrize(
    "text",
    ["", ".", "...", "a.b.c", "a.b.c.d.e", "verif.4917.soon.sig", "verif.4917.²³.sig", "Bearer x"],
)
def test_malformed_tokens_are_refused(text: str) -> None:
    assert read_token(SECRET, text, NOW) is None


@examples(500)
@given(st.data())
def test_any_single_character_change_of_a_token_is_refused(data: st.DataObject) -> None:
    original = token()
    i = data.draw(st.integers(0, len(original) - 1), label="position")
    char = data.draw(st.characters().filter(lambda c: c != original[i]), label="new character")
    assert read_token(SECRET, original[:i] + char + original[i + 1 :], NOW) is None


@examples()
@given(st.text(max_size=120))
def test_reading_any_text_as_a_token_never_raises_and_never_authorises(text: str) -> None:
    assert read_token(SECRET, text, NOW) is None


# --- the phone pattern of the API's schema ----------------------------------------------------

phone_like = st.text(alphabet="+0123456789 -/().\t", max_size=30) | st.builds(
    lambda prefix, seps, digits: prefix + seps + digits,
    st.sampled_from(["+49", "0049", "0", "+49(0)", "+49 0", "00 49", "+4 9", "+490"]),
    st.sampled_from(["", " ", "-", "/", " (0) ", ".", "\n"]),
    st.from_regex(r"1[4-8][0-9 \-/]{5,14}", fullmatch=True),
)


@examples(2000)
@given(phone_like)
def test_the_schemas_phone_pattern_accepts_exactly_what_normalise_phone_does(text: str) -> None:
    assert (re.search(model.PHONE_PATTERN, text) is not None) == (normalise_phone(text) is not None)


@examples(500)
@given(st.text(alphabet="0123456789a \t\n", max_size=10))
def test_the_schemas_pin_pattern_accepts_exactly_six_digits_around_spaces(text: str) -> None:
    stripped = text.strip()
    six_digits = len(stripped) == 6 and stripped.isascii() and stripped.isdigit()
    assert (re.search(model.PIN_PATTERN, text) is not None) == six_digits
