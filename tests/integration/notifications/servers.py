"""Local receivers for the relay: an HTTP SMS gateway and an SMTP server (aiosmtpd).

Both listen on 127.0.0.1 on a free port, in the event loop of the test that starts them, and
record what they accepted. The gateway can be told to fail its next N requests, or to take
messages but hold back its answers (a relay that dies meanwhile never hears of them). Run as
`python -m tests.integration.notifications.servers sms|smtp` they serve in a process of their
own (for bench/relay.py), print `ready PORT`, and on SIGTERM print how many they accepted.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import signal
import sys
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import Envelope, Session

# --- SMS gateway ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sms:
    to: str
    text: str
    message_id: str
    idempotency_key: str


@dataclass(slots=True)
class SmsGateway:
    """A tiny HTTP/1.1 server with keep-alive: POST JSON {"to", "text"} answers 200 or fails."""

    fail_next: int = 0
    fail_status: int = 503
    refuse: set[str] = field(default_factory=set)  # numbers answered 400 (permanently bad)
    accepted: list[Sms] = field(default_factory=list)
    attempts: list[Sms] = field(default_factory=list)
    connections: int = 0
    count_only: bool = False
    count: int = 0
    # Once this many were accepted, take the next ones too but answer them only on release().
    hold_after: int | None = None
    held: list[tuple[asyncio.Transport, bytes]] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _open: list[asyncio.BaseTransport] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_for(self, count: int, timeout_s: float = 60.0) -> None:
        """Return once `count` messages were accepted (an event, not a sleep)."""
        async with asyncio.timeout(timeout_s):
            while len(self.accepted) < count:
                self._arrived.clear()
                await self._arrived.wait()

    async def wait_held(self, count: int, timeout_s: float = 60.0) -> None:
        """Return once `count` requests wait for their held-back answer."""
        async with asyncio.timeout(timeout_s):
            while len(self.held) < count:
                self._arrived.clear()
                await self._arrived.wait()

    def holds(self) -> bool:
        """Whether the answer to the request just accepted is held back."""
        return self.hold_after is not None and len(self.accepted) > self.hold_after

    def release(self) -> None:
        """Answer the held requests whose client still listens; answer at once from now on."""
        self.hold_after = None
        held, self.held = self.held, []
        for transport, reply in held:
            if not transport.is_closing():
                transport.write(reply)

    async def start(self) -> str:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _HttpProtocol(self), "127.0.0.1", 0)
        return self.url

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms"

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for transport in self._open:
                transport.close()
            await self._server.wait_closed()

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        if self.count_only:
            self.count += 1
            return 200
        data = json.loads(body)
        sms = Sms(
            data["to"],
            data["text"],
            headers.get("x-message-id", ""),
            headers.get("idempotency-key", ""),
        )
        self.attempts.append(sms)
        if self.fail_next > 0:
            self.fail_next -= 1
            return self.fail_status
        if sms.to in self.refuse:
            return 400
        self.accepted.append(sms)
        self._arrived.set()
        return 200


REPLIES = {200: b"{}", 400: b'{"error": "invalid number"}'}


class _HttpProtocol(asyncio.Protocol):
    def __init__(self, gateway: SmsGateway) -> None:
        self.gateway = gateway
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        self.gateway.connections += 1
        self.gateway._open.append(transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in head[1:])
            }
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            status = self.gateway.handle(headers, body)
            reply = REPLIES.get(status, b'{"error": "try later"}')
            assert self.transport is not None
            answer = (
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(reply)}\r\n\r\n".encode()
                + reply
            )
            if status == 200 and self.gateway.holds():
                self.gateway.held.append((self.transport, answer))
                self.gateway._arrived.set()
            else:
                self.transport.write(answer)


# --- SMTP -------------------------------------------------------------------------------------


@dataclass(slots=True)
class SmtpSink:
    """An aiosmtpd server that keeps every accepted mail; `refuse` addresses get 550."""

    refuse: set[str] = field(default_factory=set)
    accepted: list[EmailMessage] = field(default_factory=list)
    connections: int = 0
    count_only: bool = False
    count: int = 0
    _server: asyncio.Server | None = None
    _open: list[asyncio.BaseTransport] = field(default_factory=list)

    async def start(self, port: int = 0) -> str:
        """Listen on `port` (0: a free one); the fault suite starts it again on its old one."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, "127.0.0.1", port)
        return self.url

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def _protocol(self) -> SMTPProtocol:
        self.connections += 1
        protocol = _TrackedSmtp(self, hostname="sink.test", ident="sink")
        protocol.sink = self
        return protocol

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for transport in self._open:
                transport.close()
            await self._server.wait_closed()

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if self.count_only:
            self.count += 1
            return "250 OK"
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.accepted.append(parsed)
        return "250 OK"


class _TrackedSmtp(SMTPProtocol):  # type: ignore[misc]
    sink: SmtpSink

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.sink._open.append(transport)
        super().connection_made(transport)


# --- standalone (bench) -----------------------------------------------------------------------


async def _serve(kind: str) -> None:
    server: SmsGateway | SmtpSink = (
        SmsGateway(count_only=True) if kind == "sms" else SmtpSink(count_only=True)
    )
    await server.start()
    print(f"ready {server.port}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await server.stop()
    print(f"accepted {server.count}", flush=True)


if __name__ == "__main__":
    import uvloop

    uvloop.run(_serve(sys.argv[1]))
