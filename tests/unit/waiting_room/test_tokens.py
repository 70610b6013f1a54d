"""Admission tokens: signed, short-lived, bound to their ticket, checked with the key alone."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontingent.waiting_room import tokens

SECRET = "s" * 40
NOW = 1_000_000.0


def _refusal(token: str | None, now: float = NOW, ticket: str | None = None) -> str:
    with pytest.raises(tokens.AdmissionError) as caught:
        tokens.verify(SECRET, token, now, ticket)
    return caught.value.code


def test_a_genuine_token_admits_its_ticket_until_it_expires() -> None:
    ticket = tokens.new_ticket()
    token = tokens.sign(SECRET, ticket, NOW + 60)
    assert tokens.verify(SECRET, token, NOW, ticket) == tokens.Admission(ticket, NOW + 60)
    assert tokens.verify(SECRET, token, NOW + 59, ticket).ticket == ticket
    assert _refusal(token, NOW + 60) == "admission_expired"


def test_forged_altered_and_foreign_tokens_are_refused() -> None:
    ticket, other = tokens.new_ticket(), tokens.new_ticket()
    token = tokens.sign(SECRET, ticket, NOW + 60)
    _, owner, expiry, mac = token.split(".")
    assert _refusal(None) == "admission_required"
    assert _refusal("") == "admission_required"
    assert _refusal("garbage") == "admission_invalid"
    assert _refusal(tokens.sign("another key" * 4, ticket, NOW + 60)) == "admission_invalid"
    assert _refusal(f"v1.{owner}.{int(expiry) + 3600}.{mac}") == "admission_invalid"  # longer life
    assert _refusal(f"v1.{other}.{expiry}.{mac}") == "admission_invalid"  # swapped ticket
    assert _refusal(token, ticket=other) == "admission_invalid"  # another ticket's session
    assert _refusal(token + "x" * 300) == "admission_invalid"
    assert _refusal(f"v1.{owner}.{expiry}.{mac[:-1]}é") == "admission_invalid"


def test_tickets_are_long_random_and_distinct() -> None:
    drawn = {tokens.new_ticket() for _ in range(1000)}
    assert len(drawn) == 1000
    assert all(len(t) >= 22 and "." not in t for t in drawn)


def test_a_queue_ticket_carries_its_score_and_cannot_be_altered() -> None:
    score = tokens.quantize(1_796_284_799.123456789)
    ticket = tokens.scored_ticket(SECRET, score)
    assert len(ticket) == 43 and "." not in ticket
    assert tokens.ticket_score(SECRET, ticket) == score == 1_796_284_799.123457
    assert tokens.ticket_score("another key" * 4, ticket) is None
    for i in range(len(ticket)):  # any one character changed: not a ticket of ours
        changed = ticket[:i] + ("A" if ticket[i] != "A" else "B") + ticket[i + 1 :]
        assert tokens.ticket_score(SECRET, changed) is None
    for other in ("", tokens.new_ticket(), "é" * 43, "*" * 43, ticket[:-1], ticket + "A"):
        assert tokens.ticket_score(SECRET, other) is None


@given(st.integers(0, 63), st.sampled_from(["+", "/", "*", "="]))
def test_a_queue_ticket_has_one_spelling_only(last: int, odd: str) -> None:
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    ticket = tokens.scored_ticket(SECRET, 1_796_284_799.5)
    # The last character holds 4 bits of the MAC and 2 unused bits: another last character
    # that decodes to the same bytes is not the ticket.
    respelled = ticket[:-1] + alphabet[last]
    if respelled != ticket:
        assert tokens.ticket_score(SECRET, respelled) is None
    # The standard alphabet's "+" and "/" for "-" and "_", or a stray character, neither.
    swapped = ticket.replace("-", "+").replace("_", "/")
    if swapped != ticket:
        assert tokens.ticket_score(SECRET, swapped) is None
    assert tokens.ticket_score(SECRET, ticket[:20] + odd + ticket[21:]) is None
    assert tokens.sign(SECRET, ticket, NOW + 60).count(".") == 3  # fits the admission token
