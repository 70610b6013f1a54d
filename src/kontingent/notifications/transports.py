"""Real transports: SMTP for e-mail, an HTTP gateway for SMS; and choosing them from settings.

Invariants kept here:
- Every try carries the message's stable id (`Message-ID` for mail; `Idempotency-Key` and
  `X-Message-Id` for the SMS gateway), so a receiver drops the duplicates at-least-once makes.
- Connections are reused: one HTTP client with a keep-alive pool for SMS, a small pool of SMTP
  sessions for e-mail, each carrying many messages.
- A transport never raises for one message: it answers each with None (accepted) or a Failure,
  marked permanent only when the receiver said that trying again cannot help (an SMTP 5xx, an
  HTTP 4xx other than timeouts and throttling).
- A channel without a configured URL goes to the dev mailbox, so demo and tests need no server.
- An e-mail with a door ticket shows it as an inline PNG in an HTML alternative of the very
  same text; the plain text stays first and complete for clients that show no HTML.
"""

from __future__ import annotations

import email.charset
import email.encoders
import email.message
import email.utils
import html
from dataclasses import dataclass
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from urllib.parse import parse_qs, unquote, urlsplit

import aiohttp
import aiosmtplib
import msgspec

from kontingent.checkin import drawing
from kontingent.checkin.model import ticket_code
from kontingent.clock import Clock
from kontingent.config import Settings, SettingsError
from kontingent.db import Database
from kontingent.i18n import Translator, pick
from kontingent.notifications.calendar import method_of, with_organizer
from kontingent.notifications.model import DomainBudget, Failure, Message
from kontingent.notifications.service import DevMailbox, Relay, Transport
from kontingent.ratelimit.service import recipient_cap

DEFAULT_SENDER = "Impftermine <termine@kontingent.invalid>"
DEFAULT_DOMAIN_RATE = 50.0  # e-mails per second per recipient domain
RETRYABLE_HTTP = {408, 425, 429}


# --- SMTP ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """`smtp://[user[:password]@]host[:port][?from=...&connections=4&per_domain=50]`;
    `smtps://` for implicit TLS. `starttls=require|no` overrides opportunistic STARTTLS."""

    host: str
    port: int
    implicit_tls: bool = False
    start_tls: bool | None = None  # None: use it when the server offers it
    username: str | None = None
    password: str | None = None
    sender: str = DEFAULT_SENDER
    connections: int = 4
    per_domain: float = DEFAULT_DOMAIN_RATE
    timeout_s: float = 30.0

    @classmethod
    def parse(cls, url: str) -> SmtpConfig:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise SettingsError(
                f"KONTINGENT_SMTP_URL must look like smtp://host:port or smtps://user:pass@host, "
                f"not {url!r}"
            )
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        implicit = parts.scheme == "smtps"
        try:
            port = parts.port or (465 if implicit else 25)
            connections = int(query.get("connections", "4"))
            per_domain = float(query.get("per_domain", str(DEFAULT_DOMAIN_RATE)))
        except ValueError as exc:
            raise SettingsError(f"KONTINGENT_SMTP_URL has a bad number: {exc}") from None
        if connections < 1 or per_domain <= 0:
            raise SettingsError("KONTINGENT_SMTP_URL: connections and per_domain must be > 0")
        return cls(
            host=parts.hostname,
            port=port,
            implicit_tls=implicit,
            start_tls=_start_tls(query.get("starttls", "auto"), implicit),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=query.get("from", DEFAULT_SENDER),
            connections=connections,
            per_domain=per_domain,
        )


def _start_tls(value: str, implicit: bool) -> bool | None:
    choices: dict[str, bool | None] = {"auto": None, "require": True, "no": False}
    if value not in choices:
        raise SettingsError("KONTINGENT_SMTP_URL: starttls must be auto, require or no")
    return False if implicit else choices[value]


# Plain text as quoted-printable UTF-8: readable in the raw mail, safe on any server.
_TEXT_CHARSET = email.charset.Charset("utf-8")
_TEXT_CHARSET.body_encoding = email.charset.QP


def mime(message: Message, sender: str) -> email.message.Message:
    """The e-mail for `message`: German plain text, stable Message-ID, calendar attached;
    with a door ticket, an HTML alternative that shows it as a QR code (`_with_ticket`).

    Built with the compat32 MIME classes, which take headers as given: with the default
    policy's `EmailMessage`, which parses every header it is given, building and flattening a
    confirmation took 1.68-1.76 ms of the relay's CPU, with these 0.43 ms (`bench/clients.py
    mime`)."""
    name, address = email.utils.parseaddr(sender)
    body: email.message.Message = _text("plain", message.body)
    if message.qr:
        body = _with_ticket(body, message, address)
    mail = body
    if message.calendar:
        # A REQUEST or CANCEL needs an organizer, and only the transport knows the sender.
        text = with_organizer(message.calendar, address)
        attachment = MIMEBase("text", "calendar", method=method_of(text), charset="utf-8")
        attachment.set_payload(text.encode())  # base64: the calendar's CRLFs arrive as sent
        email.encoders.encode_base64(attachment)
        attachment.add_header("Content-Disposition", "attachment", filename="impftermine.ics")
        for part in (body, attachment):
            del part["MIME-Version"]  # once, on the whole mail
        mail = MIMEMultipart("mixed", _subparts=[body, attachment])
    mail["From"] = email.utils.formataddr((name, address), charset="utf-8")
    mail["To"] = message.recipient
    mail["Subject"] = _header(message.subject)
    mail["Date"] = email.utils.formatdate(localtime=False)
    mail["Message-ID"] = message_id_header(message.message_id, address)
    mail["Auto-Submitted"] = "auto-generated"  # no vacation replies to a no-reply sender
    mail["Content-Language"] = pick(message.language)
    return mail


def _text(subtype: str, text: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype)
    part.set_payload(text, _TEXT_CHARSET)  # (MIMEText takes a charset's name only)
    return part


def _with_ticket(plain: email.message.Message, message: Message, address: str) -> MIMEMultipart:
    """multipart/alternative: the plain text, and the same text as HTML with the door ticket
    drawn in as a PNG (multipart/related, by Content-ID, so no client has to load an image
    from anywhere: most block those). The image stands under the paragraph that names the
    booking code; its text alternative says what it is, with the code, in the message's
    language."""
    assert message.qr is not None
    code = ticket_code(message.qr)
    cid = f"qr-{message.message_id}@{address.rpartition('@')[2] or 'kontingent.invalid'}"
    image = MIMEImage(drawing.png(message.qr), "png")
    image.add_header("Content-ID", f"<{cid}>")
    image.add_header("Content-Disposition", "inline", filename="buchungscode-qr.png")
    t = Translator(pick(message.language))
    alt = t("mail.qr_alt", code=code)
    html = _text("html", _html(message.body, code, cid, alt))
    related = MIMEMultipart("related", _subparts=[html, image], type="text/html")
    for part in (plain, html, image, related):
        del part["MIME-Version"]  # once, on the whole mail
    return MIMEMultipart("alternative", _subparts=[plain, related])


def _html(text: str, code: str, cid: str, alt: str) -> str:
    """The plain text as HTML paragraphs, with the QR image after the first that names `code`."""
    size = 33 * drawing.PNG_SCALE  # 25 modules and the quiet zone: the PNG's own pixels
    alt = html.escape(alt, quote=True)
    img = f'<p><img src="cid:{cid}" alt="{alt}" width="{size}" height="{size}"></p>'
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    parts = [f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs]
    at = next((i + 1 for i, p in enumerate(paragraphs) if code and code in p), len(parts))
    parts.insert(at, img)
    return "<!doctype html>\n<html><body>\n" + "\n".join(parts) + "\n</body></html>\n"


def _header(text: str) -> str:
    """A header value as RFC 2047 encoded words where it is not plain ASCII."""
    return text if text.isascii() else Header(text, "utf-8").encode()


def message_id_header(message_id: str, address: str) -> str:
    """`<id@domain>`, the domain of the sender's `address` (a bare address, already parsed)."""
    domain = address.rpartition("@")[2] or "kontingent.invalid"
    return f"<{message_id}@{domain}>"


def smtp_failure(exc: Exception) -> Failure:
    """Only a 5xx answer is final; a dropped connection or a 4xx is worth another try."""
    code = getattr(exc, "code", None)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        code = exc.recipients[0].code
    text = f"{type(exc).__name__}: {exc}"
    return Failure(text, permanent=isinstance(code, int) and 500 <= code < 600)


class SmtpMailer:
    """Sends e-mail over a small pool of SMTP sessions, many messages per session."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.concurrency = config.connections
        self._idle: list[aiosmtplib.SMTP] = []

    async def send(self, message: Message) -> Failure | None:
        """One message over an idle session (or a new one), which then goes back idle."""
        mail = mime(message, self.config.sender)
        for fresh in (False, True):  # an idle session the server closed gets one reconnect
            session: aiosmtplib.SMTP | None = None
            try:
                session = await self._session(fresh)
                await session.send_message(mail)
                self._idle.append(session)
                return None
            except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError, OSError) as exc:
                await _close(session)
                if fresh:
                    return smtp_failure(exc)
            except aiosmtplib.SMTPException as exc:
                if (kept := await self._reset(session)) is not None:
                    self._idle.append(kept)
                return smtp_failure(exc)
        raise AssertionError("unreachable")

    async def _session(self, fresh: bool) -> aiosmtplib.SMTP:
        while not fresh and self._idle:
            reused = self._idle.pop()
            if reused.is_connected:
                return reused
        config = self.config
        smtp = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            use_tls=config.implicit_tls,
            start_tls=config.start_tls,
            username=config.username,
            password=config.password,
            timeout=config.timeout_s,
        )
        await smtp.connect()
        return smtp

    async def _reset(self, session: aiosmtplib.SMTP | None) -> aiosmtplib.SMTP | None:
        """After a refused message, clear the SMTP transaction; drop a session that balks."""
        if session is None:
            return None
        try:
            await session.rset()
        except (aiosmtplib.SMTPException, OSError):
            await _close(session)
            return None
        return session

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for session in idle:
            await _close(session, polite=True)


async def _close(session: aiosmtplib.SMTP | None, polite: bool = False) -> None:
    if session is None or not session.is_connected:
        return
    try:
        if polite:
            await session.quit()
        else:
            session.close()
    except (aiosmtplib.SMTPException, OSError):
        session.close()


# --- SMS gateway ------------------------------------------------------------------------------


def http_failure(status: int, text: str) -> Failure:
    permanent = 400 <= status < 500 and status not in RETRYABLE_HTTP
    return Failure(f"gateway answered {status}: {text[:200]}", permanent=permanent)


class HttpSmsGateway:
    """POSTs `{"to", "text"}` as JSON; any 2xx means delivered. Keep-alive connections.

    aiohttp, not httpx: posting SMS to a local gateway cost httpx 0.65-0.71 ms of CPU per
    message and aiohttp 0.10 ms (`bench/clients.py sms`, 16 connections, 20,000 posts
    each), and the relay's CPU is what PINs wait for."""

    def __init__(self, url: str, *, connections: int = 16, timeout_s: float = 15.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingsError(f"KONTINGENT_SMS_GATEWAY_URL must be an http(s) URL, not {url!r}")
        self.url = url
        self.connections = self.concurrency = max(1, connections)
        self.timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._encoder = msgspec.json.Encoder()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connections),
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
            )
        return self._session

    async def send(self, message: Message) -> Failure | None:
        session = self._http()
        body = self._encoder.encode({"to": message.recipient, "text": message.body})
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.message_id,
            "X-Message-Id": message.message_id,
        }
        try:
            async with session.post(self.url, data=body, headers=headers) as response:
                if 200 <= response.status < 300:
                    await response.read()  # the connection goes back to the pool for reuse
                    return None
                text = await response.text(errors="replace")
                return http_failure(response.status, text)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Failure(f"{type(exc).__name__}: {exc}")

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


# --- wiring -----------------------------------------------------------------------------------


def relay_for(settings: Settings, db: Database, clock: Clock) -> Relay:
    """The relay the settings ask for: real transports where URLs are set, else the dev mailbox."""
    mailbox = DevMailbox(db, clock)
    sms: Transport = mailbox
    mail: Transport = mailbox
    budget = None
    if settings.sms_gateway_url:
        sms = HttpSmsGateway(settings.sms_gateway_url)
    if settings.smtp_url:
        config = SmtpConfig.parse(settings.smtp_url)
        mail = SmtpMailer(config)
        budget = DomainBudget(config.per_domain)
    return Relay(
        db, clock, {"sms": sms, "email": mail}, email_budget=budget, cap=recipient_cap(settings)
    )
