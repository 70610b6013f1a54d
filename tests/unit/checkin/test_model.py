"""The door ticket: the booking code and a MAC under a key of its own, refused when forged,
altered, foreign or malformed."""

from __future__ import annotations

import base64
import hmac
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontingent.booking.model import CODE_ALPHABET, CODE_LENGTH, new_code
from kontingent.checkin.model import TicketRefused, read_ticket, sign_ticket
from kontingent.waiting_room import tokens
from kontingent.web import session
from tests.unit.properties import examples

SECRET = "s" * 40
CODE = "K7QM-3XPA-9RTD"
QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")

codes = st.text(CODE_ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH).map(
    lambda raw: "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))
)


def _refusal(text: str, secret: str = SECRET) -> str:
    with pytest.raises(TicketRefused) as caught:
        read_ticket(secret, text)
    assert caught.value.status == 422 and caught.value.details == {"field": "qr"}
    return caught.value.code


def test_a_ticket_carries_its_code_and_reads_back() -> None:
    ticket = sign_ticket(SECRET, CODE)
    prefix, code, mac = ticket.split(":")
    assert (prefix, code) == ("KT1", CODE) and len(mac) == 16
    assert read_ticket(SECRET, ticket) == CODE


def test_every_spelling_of_a_code_signs_the_same_ticket() -> None:
    assert sign_ticket(SECRET, "k7qm 3xpa 9rtd") == sign_ticket(SECRET, CODE)
    with pytest.raises(ValueError, match="not a booking code"):
        sign_ticket(SECRET, "K7QM-3XPA-9RT0")  # 0 is not in the alphabet


@given(codes)
@examples(200)
def test_a_ticket_is_short_and_of_qr_alphanumeric_characters(code: str) -> None:
    ticket = sign_ticket(SECRET, code)
    assert len(ticket) == 35 and set(ticket) <= QR_ALPHANUMERIC
    assert read_ticket(SECRET, ticket) == code


def test_a_scanner_typing_with_caps_lock_or_a_trailing_enter_still_reads() -> None:
    ticket = sign_ticket(SECRET, CODE)
    assert read_ticket(SECRET, f"  {ticket.lower()}\r\n") == CODE


def test_another_deployments_ticket_is_not_genuine() -> None:
    assert _refusal(sign_ticket("another key" * 4, CODE)) == "qr_not_genuine"


def test_forged_tickets_are_not_genuine() -> None:
    genuine = sign_ticket(SECRET, CODE)
    other = new_code()
    assert _refusal(f"KT1:{other}:{genuine.split(':')[2]}") == "qr_not_genuine"  # code swapped
    assert _refusal(f"KT1:{CODE}:{'A' * 16}") == "qr_not_genuine"


def test_the_key_is_the_tickets_own_not_one_of_the_other_signatures() -> None:
    """A MAC made under the secret for another purpose does not pass as a ticket's."""
    admission = tokens.sign(SECRET, CODE, 10**10)
    cookie = session.encode(session.Flow(booked=CODE), SECRET, datetime(2026, 12, 5, tzinfo=UTC))
    for text in (admission, cookie):
        assert _refusal(text) == "qr_malformed"
    # HMAC-SHA256 straight under the secret (as a careless second use of it would sign):
    plain = hmac.digest(SECRET.encode(), f"KT1:{CODE}".encode(), "sha256")
    assert _refusal(f"KT1:{CODE}:{base64.b32encode(plain[:10]).decode()}") == "qr_not_genuine"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "K7QM-3XPA-9RTD",  # a typed code is no ticket (the check-in takes it as {"code"})
        "https://example.org/?KT1:K7QM-3XPA-9RTD:AAAAAAAAAAAAAAAA",
        "KT2:K7QM-3XPA-9RTD:AAAAAAAAAAAAAAAA",  # an unknown version
        "KT1:K7QM3XPA9RTD:AAAAAAAAAAAAAAAA",  # the code not in its one spelling
        "KT1:K7QM-3XPA-9RT0:AAAAAAAAAAAAAAAA",  # 0 is not in the code alphabet
        "KT1:K7QM-3XPA-9RTD:AAAAAAAAAAAAAAA",  # MAC cut short
        "KT1:K7QM-3XPA-9RTD:AAAAAAAAAAAAAAA1",  # 1 is not base32
        "KT1:K7QM-3XPA-9RTD:AAAAAAAAAAAAAAAA:",
        "KT1:K7QM-3XPA-9RTD:" + "A" * 200,
        "KT1:K7QM-3XPA-9RTD:AAAAAAAAAAAAAAAß",  # not ASCII: never folded into a ticket
    ],
)
def test_malformed_texts_are_refused_as_such(text: str) -> None:
    assert _refusal(text) == "qr_malformed"


@given(codes, st.data())
@examples(300)
def test_any_altered_character_is_refused(code: str, data: st.DataObject) -> None:
    ticket = sign_ticket(SECRET, code)
    i = data.draw(st.integers(0, len(ticket) - 1), label="position")
    new = data.draw(st.characters(codec="utf-8").filter(lambda c: c.upper() != ticket[i]))
    altered = ticket[:i] + new + ticket[i + 1 :]
    with pytest.raises(TicketRefused):
        read_ticket(SECRET, altered)


@given(codes, st.data())
@examples(200)
def test_any_character_dropped_or_added_is_refused(code: str, data: st.DataObject) -> None:
    ticket = sign_ticket(SECRET, code)
    i = data.draw(st.integers(0, len(ticket) - 1), label="position")
    added = data.draw(st.characters(codec="utf-8").filter(lambda c: not c.isspace()))
    for altered in (ticket[:i] + ticket[i + 1 :], ticket[:i] + added + ticket[i:]):
        with pytest.raises(TicketRefused):
            read_ticket(SECRET, altered)
