"""Who a message counts against and how many fit (kontingent.notifications.model): spellings
of one mailbox are one recipient, PINs never count, and a cap lets through, in order, exactly
what fits on top of what was queued already."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontingent.config import Settings
from kontingent.notifications.messages import booking_messages, pin_sms
from kontingent.notifications.model import (
    DEFAULT_CAP,
    Message,
    RecipientCap,
    mailboxes,
    recipient_key,
)
from kontingent.ratelimit.service import recipient_cap
from tests.unit.properties import examples

PHONE = "+491701234567"


@pytest.mark.parametrize(
    "spelling",
    [
        "erika.m@example.org",
        "Erika.M@Example.ORG",
        " erika.m+impf@example.org",
        "ERIKA.M+a+b@example.org",
    ],
)
def test_spellings_of_one_mailbox_are_one_recipient(spelling: str) -> None:
    assert recipient_key("email", spelling) == "erika.m@example.org"


def test_gmail_ignores_dots_and_its_other_domain() -> None:
    assert recipient_key("email", "E.R.I.K.A@googlemail.com") == "erika@gmail.com"
    assert recipient_key("email", "e.rika@example.org") != recipient_key(
        "email", "erika@example.org"
    )


def test_a_phone_number_is_its_own_key() -> None:
    assert recipient_key("sms", PHONE) == PHONE


def test_a_booking_writes_once_to_each_mailbox() -> None:
    assert mailboxes(["a@example.org", "A+x@Example.org", "b@example.org"]) == [
        "a@example.org",
        "b@example.org",
    ]
    messages = booking_messages(
        code="K7QM-3XPA-9RTD",
        phone=PHONE,
        emails=["a@example.org", "A@example.org"],
        centre="Zentrum",
        address="Str. 1",
        vaccine="BioNTech/Comirnaty",
        appointments=[],
    )
    assert [(m.channel, m.recipient) for m in messages] == [
        ("sms", PHONE),
        ("email", "a@example.org"),
    ]


def mail(to: str, n: int = 0) -> Message:
    return Message("email", to, f"body {n}")


def test_the_cap_lets_through_in_order_what_fits_and_never_counts_a_pin() -> None:
    cap = RecipientCap(3, timedelta(hours=1))
    messages = [mail("a@x.org", 1), pin_sms(PHONE, "123456", 30), mail("A+1@x.org", 2)]
    messages += [mail("a@x.org", 3), Message("sms", PHONE, "confirmation"), mail("b@x.org", 4)]
    queue, dropped = cap.split({"a@x.org": 1, PHONE: 3}, messages)
    assert [m.body for m in queue] == ["body 1", messages[1].body, "body 2", "body 4"]
    assert [m.body for m in dropped] == ["body 3", "confirmation"]


def test_no_cap_lets_everything_through() -> None:
    messages = [mail("a@x.org", n) for n in range(50)]
    assert RecipientCap(None, timedelta(hours=1)).split({"a@x.org": 99}, messages) == (messages, [])


@examples()
@given(st.integers(1, 10), st.integers(0, 12), st.integers(0, 20))
def test_a_recipient_never_gets_more_than_the_cap(count: int, before: int, new: int) -> None:
    cap = RecipientCap(count, timedelta(hours=1))
    queue, dropped = cap.split({"a@x.org": before}, [mail("a@x.org", n) for n in range(new)])
    assert len(queue) == max(0, min(new, count - before))
    assert len(queue) + len(dropped) == new


def test_the_default_cap_is_the_default_setting_and_off_goes_with_the_limits() -> None:
    assert recipient_cap(Settings()) == DEFAULT_CAP
    assert recipient_cap(Settings(rate_messages_per_recipient="2/10m")) == RecipientCap(
        2, timedelta(minutes=10)
    )
    assert recipient_cap(Settings(rate_limits=False)).count is None
    assert recipient_cap(Settings(rate_messages_per_recipient="off")).count is None
