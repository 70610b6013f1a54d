"""The relay against a real local SMTP server (aiosmtpd), on SQLite and PostgreSQL.

Proves: the booking confirmation e-mail carries the outbox's message id as Message-ID and an
iCalendar attachment with both appointments; the per-domain rate limit defers without counting
a try; a refused recipient is parked while the others go; SMTP sessions are reused; a mail
server that is down means another try later, not a lost message.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, timedelta

from kontingent.app import Services
from kontingent.clock import FixedClock
from kontingent.notifications.model import Message
from tests.integration.notifications.conftest import MakeRelay, queue, rows
from tests.integration.notifications.servers import SmtpSink
from tests.support import BIELEFELD, claims_for, person, phone


def mail(to: str, i: int = 0) -> Message:
    return Message("email", to, f"Text {i}", subject=f"Betreff {i}")


async def test_the_confirmation_email_has_its_message_id_and_a_calendar_of_both_doses(
    services: Services, smtp: SmtpSink, make_relay: MakeRelay
) -> None:
    claims = await claims_for(services, phone(1))
    offer = (await services.inventory.offers(BIELEFELD, "BNT", limit=1)).offers[0]
    view = await services.booking.book(claims, [person(email="erika@web.test")], offer.slot_ids)
    relay = make_relay(smtp_url=smtp.url)

    assert (await relay.run_channel("email")).sent == 1

    [received] = smtp.accepted
    [row] = [r for r in await rows(services) if r["channel"] == "email"]
    assert received["Message-ID"] == f"<{row['message_id']}@kontingent.invalid>"
    assert received["To"] == "erika@web.test"
    assert view.code in received["Subject"]
    body = received.get_body(("plain",))
    assert body is not None and view.code in body.get_content()
    [calendar] = [p for p in received.iter_attachments() if p.get_content_type() == "text/calendar"]
    ics = calendar.get_content()
    starts = [
        a.starts_at.astimezone(UTC).strftime("DTSTART:%Y%m%dT%H%M%SZ") for a in view.appointments
    ]
    assert ics.count("BEGIN:VEVENT") == 2
    assert all(start in ics for start in starts)


async def test_the_per_domain_rate_limit_defers_without_counting_a_try(
    services: Services, clock: FixedClock, smtp: SmtpSink, make_relay: MakeRelay
) -> None:
    relay = make_relay(smtp_url=f"{smtp.url}?per_domain=2")
    await queue(services, [mail(f"p{i}@busy.test", i) for i in range(5)] + [mail("q@quiet.test")])

    def per_domain() -> Counter[str]:
        return Counter(str(m["To"]).rpartition("@")[2] for m in smtp.accepted)

    first = await relay.run_channel("email")
    assert (first.sent, first.deferred) == (3, 3)
    assert per_domain() == {"busy.test": 2, "quiet.test": 1}  # the burst: 2 per domain
    waiting = [r for r in await rows(services) if r["sent_at"] is None]
    assert [r["attempts"] for r in waiting] == [0, 0, 0]
    assert all(r["available_at"] > clock.now() for r in waiting)

    assert (await relay.run_channel("email")).sent == 0  # budget spent, nothing due
    clock.advance(timedelta(seconds=0.5))  # 2/s: one more token
    assert (await relay.run_channel("email")).sent == 1
    clock.advance(timedelta(seconds=1))  # two more tokens
    assert (await relay.run_channel("email")).sent == 2
    assert per_domain() == {"busy.test": 5, "quiet.test": 1}
    assert all(r["attempts"] == 1 for r in await rows(services))


async def test_a_refused_recipient_is_parked_and_the_others_are_delivered(
    services: Services, smtp: SmtpSink, make_relay: MakeRelay
) -> None:
    smtp.refuse = {"nobody@mail.test"}
    relay = make_relay(smtp_url=smtp.url)
    await queue(services, [mail("a@mail.test"), mail("nobody@mail.test"), mail("b@mail.test")])

    done = await relay.run_channel("email")

    assert (done.sent, done.parked) == (2, 1)
    assert sorted(str(m["To"]) for m in smtp.accepted) == ["a@mail.test", "b@mail.test"]
    [refused] = [r for r in await rows(services) if r["recipient"] == "nobody@mail.test"]
    assert refused["parked_at"] is not None and "550" in refused["last_error"]


async def test_smtp_sessions_are_pooled_and_reused_across_rounds(
    services: Services, smtp: SmtpSink, make_relay: MakeRelay
) -> None:
    relay = make_relay(smtp_url=f"{smtp.url}?connections=2&per_domain=1000", batch=20)
    await queue(services, [mail(f"p{i}@pool.test", i) for i in range(60)])

    for _ in range(3):
        assert (await relay.run_channel("email")).sent == 20

    assert len(smtp.accepted) == 60
    assert smtp.connections == 2


async def test_a_mail_server_that_is_down_means_another_try_later(
    services: Services, clock: FixedClock, smtp: SmtpSink, make_relay: MakeRelay
) -> None:
    url = smtp.url
    await smtp.stop()  # the port now refuses connections
    relay = make_relay(smtp_url=url)
    await queue(services, [mail("a@mail.test")])

    done = await relay.run_channel("email")

    assert (done.sent, done.failed, done.parked) == (0, 1, 0)
    [row] = await rows(services)
    assert row["available_at"] > clock.now() and row["last_error"]
