"""Admission tokens: signed, short-lived, bound to their ticket, checked with the key alone."""

from __future__ import annotations

import pytest

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
