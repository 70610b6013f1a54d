"""A hotline caller's number (kontingent.verification.model.normalise_caller_phone): German
landlines as well as mobiles, in any usual spelling, as E.164; whether an SMS can reach it
(is_mobile); and the wire pattern never refusing a number the service would take."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontingent.verification.model import (
    CALLER_PHONE_PATTERN,
    is_mobile,
    is_plausible_phone,
    normalise_caller_phone,
    normalise_phone,
)
from tests.unit.properties import examples


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("0521 123456", "+49521123456"),
        ("0521/12 34 56", "+49521123456"),
        ("(0521) 123456", "+49521123456"),
        ("+49 (0)521 123456", "+49521123456"),
        ("0049 30 1234567", "+49301234567"),
        ("02361 12345", "+49236112345"),
        ("0170 1234567", "+491701234567"),  # a mobile, as normalise_phone makes it
        ("+49 151 12345678", "+4915112345678"),
    ],
)
def test_landlines_and_mobiles_become_e164(typed: str, e164: str) -> None:
    assert normalise_caller_phone(typed) == e164


@pytest.mark.parametrize(
    "typed",
    [
        "0180 1234567",  # a service number, no caller's line
        "0800 1234567",  # freephone
        "0900 1234567",  # premium
        "+43 1 1234567",  # not German
        "0521 12",  # too short
        "0521 123456789012",  # too long
        "0521 123456a",
        "",
        "abc",
    ],
)
def test_service_foreign_and_garbled_numbers_are_refused(typed: str) -> None:
    assert normalise_caller_phone(typed) is None


def test_only_a_mobile_number_gets_an_sms() -> None:
    assert is_mobile("+491701234567") and is_mobile("+4915112345678")
    assert not is_mobile("+49521123456") and not is_mobile("+49301234567")


@examples()
@given(st.text(max_size=45))
def test_whatever_is_accepted_is_a_plausible_german_number(text: str) -> None:
    phone = normalise_caller_phone(text)
    assert phone is None or (phone.startswith("+49") and is_plausible_phone(phone))
    if normalise_phone(text) is not None:
        assert phone == normalise_phone(text)  # one number, one form: searches find it


@examples(1000)
@given(st.from_regex(r"0[2-9][0-9 /\-]{5,12}", fullmatch=True))
def test_the_wire_pattern_lets_every_accepted_number_through(text: str) -> None:
    if normalise_caller_phone(text) is not None:
        assert re.search(CALLER_PHONE_PATTERN, text)
