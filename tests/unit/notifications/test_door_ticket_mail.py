"""The door ticket in the confirmation e-mail: every e-mail of a confirmation carries it, no
SMS does; the mail shows it as an inline PNG (multipart/related, by Content-ID) in an HTML
alternative of the same text, and the PNG scans back to the ticket."""

from __future__ import annotations

import email
import email.message
import email.policy
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import zxingcpp
from aiosmtplib.email import flatten_message
from PIL import Image

from kontingent.checkin.model import read_ticket, sign_ticket
from kontingent.notifications.messages import booking_messages, cancellation_messages
from kontingent.notifications.model import BookedAppointment, Message
from kontingent.notifications.transports import mime

SECRET = "s" * 40
CODE = "ABCD-EFGH-JKMN"
TICKET = sign_ticket(SECRET, CODE)
FIRST = datetime(2026, 1, 12, 9, 20, tzinfo=ZoneInfo("Europe/Berlin"))
BODY = f"Guten Tag,\n\nIhre Impftermine sind gebucht.\nBuchungscode: {CODE}\n\nBitte <pünktlich>."


def as_sent(mail: email.message.Message) -> email.message.EmailMessage:
    return email.message_from_bytes(flatten_message(mail), policy=email.policy.default)


def decoded(png: bytes) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_each_confirmation_e_mail_carries_the_ticket_and_the_sms_does_not() -> None:
    messages = booking_messages(
        code=CODE,
        phone="+491701234567",
        emails=["erika@example.org", "max@example.org"],
        centre="Impfzentrum Bochum",
        address="Stadionring 20, 44791 Bochum",
        vaccine="BioNTech/Comirnaty",
        appointments=[BookedAppointment(FIRST, 1, "Erika Mustermann")],
        ticket=TICKET,
    )
    assert [(m.channel, m.qr) for m in messages] == [
        ("sms", None),
        ("email", TICKET),
        ("email", TICKET),
    ]
    cancelled = cancellation_messages(
        code=CODE, phone="+491701234567", emails=["e@example.org"], vaccine="BioNTech"
    )
    assert all(m.qr is None for m in cancelled)


def test_the_mail_shows_the_ticket_inline_under_the_code_and_it_scans() -> None:
    message = Message("email", "erika@example.org", BODY, subject="S", qr=TICKET)
    mail = as_sent(mime(message, "Impftermine <termine@example.org>"))
    assert mail.get_content_type() == "multipart/alternative"
    plain, related = mail.get_payload()  # type: ignore[misc]
    assert plain.get_content() == BODY  # the text unchanged, first, for text-only clients
    assert related.get_content_type() == "multipart/related"
    html, image = related.get_payload()
    assert (html.get_content_type(), image.get_content_type()) == ("text/html", "image/png")
    cid = image["Content-ID"].strip("<>")
    assert cid == f"qr-{message.message_id}@example.org"
    assert image.get_content_disposition() == "inline"
    page = html.get_content()
    img = f'<img src="cid:{cid}" alt="QR-Code zum Buchungscode {CODE}" width="264" height="264">'
    assert f"Buchungscode: {CODE}</p>\n<p>{img}</p>" in page
    assert "Bitte &lt;pünktlich&gt;." in page
    [text] = decoded(image.get_content())
    assert text == TICKET and read_ticket(SECRET, text) == CODE


def test_the_image_text_and_content_language_are_the_message_s_language() -> None:
    message = Message("email", "erika@example.org", BODY, subject="S", qr=TICKET, language="en")
    mail = as_sent(mime(message, "Impftermine <termine@example.org>"))
    assert mail["Content-Language"] == "en"
    _, related = mail.get_payload()  # type: ignore[misc]
    html, _ = related.get_payload()
    assert f'alt="QR code for booking code {CODE}"' in html.get_content()
    english = booking_messages(
        code=CODE, phone="+491701234567", emails=["e@example.org"], centre="C", address="A",
        vaccine="V", appointments=[BookedAppointment(FIRST, 1, "E")], ticket=TICKET, lang="en",
    )  # fmt: skip
    assert {m.language for m in english if m.channel == "email"} == {"en"}


def test_the_calendar_stays_an_attachment_beside_the_ticket() -> None:
    ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    message = Message("email", "a@example.org", BODY, subject="S", calendar=ics, qr=TICKET)
    mail = as_sent(mime(message, "termine@example.org"))
    assert mail.get_content_type() == "multipart/mixed"
    assert mail.get_body(("plain",)).get_content() == BODY  # type: ignore[union-attr]
    assert mail.get_body(("html",)) is not None
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    raw = flatten_message(mime(message, "termine@example.org"))
    assert raw.count(b"MIME-Version") == 1 and raw.isascii()


def test_a_mail_without_a_ticket_stays_plain_text() -> None:
    mail = as_sent(mime(Message("email", "a@example.org", BODY, subject="S"), "x@example.org"))
    assert mail.get_content_type() == "text/plain" and mail.get_content() == BODY
