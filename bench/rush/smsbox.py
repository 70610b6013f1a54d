"""A local SMS gateway for the rush benchmark that keeps each phone's texts, so a simulated
person can read its PIN the way a real one reads the SMS.

The relay POSTs `{"to", "text"}` as JSON (API.md) to any path and gets 200. Simulated people
ask `GET /pin?to=+49...`: 200 `{"pin": "123456", "at": <epoch s when it arrived>}` with the
newest PIN sent to that number, or 404 while none has come. `GET /stats` answers how many
texts arrived, of which PINs and booking confirmations, and the codes confirmed by SMS, so the
benchmark can check that every booking's confirmation was delivered. For the fault suite
(bench/faults/): `GET /ids` answers how often each message id arrived, and
`POST /control/outage` `{"failing": true|false}` makes the gateway answer every text 503
(recording none) until told otherwise, as a gateway in an outage does.

It is a bare asyncio protocol on uvloop (HTTP/1.1 keep-alive, content-length bodies only):
the gateway shares the two cores with what it serves, so it must stay cheap. Run as
`python bench/rush/smsbox.py`: it prints `ready PORT`, serves until SIGTERM, then prints its
counts as one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

PIN = re.compile(r"PIN[^:]*: (\d{6})")
# The confirmation SMS (sms.booked): "Impftermin gebucht (BioNTech). Code …." since the
# vaccine was named in it (before, without the parenthesis); a couple's "Impftermine für 2
# Personen gebucht (…)".
CODE = re.compile(
    r"Impftermine?(?: für \d+ Personen)? gebucht(?: \([^)]*\))?\. Code ([A-Z0-9-]+)\."
)


@dataclass
class Inbox:
    """Texts by phone number: only what the benchmark reads is kept (PINs, booking codes)."""

    pins: dict[str, tuple[str, float]] = field(default_factory=dict)
    booked_codes: set[str] = field(default_factory=set)
    texts: int = 0
    pin_texts: int = 0
    duplicates: int = 0
    arrivals: Counter[str] = field(default_factory=Counter)  # by message id, repeats included
    failing: bool = False  # in an outage: every text is answered 503 and not recorded
    refused: int = 0

    def receive(self, message_id: str, body: bytes) -> int:
        """The status the gateway answers."""
        if self.failing:
            self.refused += 1
            return 503
        if message_id:
            self.arrivals[message_id] += 1
            if self.arrivals[message_id] > 1:
                self.duplicates += 1  # at-least-once delivery: a receiver drops repeats by id
                return 200
        data = json.loads(body)
        self.texts += 1
        text = data["text"]
        if (pin := PIN.search(text)) is not None:
            self.pin_texts += 1
            self.pins[data["to"]] = (pin.group(1), time.time())
        elif (code := CODE.search(text)) is not None:
            self.booked_codes.add(code.group(1))
        return 200

    def control(self, target: str, body: bytes) -> tuple[int, bytes]:
        if urlsplit(target).path == "/control/outage":
            self.failing = bool(json.loads(body or b"{}").get("failing"))
            return 200, json.dumps({"failing": self.failing}).encode()
        return 404, b'{"error": {"code": "unknown_path"}}'

    def answer(self, method: str, target: str) -> tuple[int, bytes]:
        url = urlsplit(target)
        if method == "GET" and url.path == "/pin":
            phone = parse_qs(url.query).get("to", [""])[0]
            found = self.pins.get(phone)
            if found is None:
                return 404, b'{"error": {"code": "no_pin_yet"}}'
            return 200, json.dumps({"pin": found[0], "at": found[1]}).encode()
        if method == "GET" and url.path == "/stats":
            return 200, json.dumps(self.stats(with_codes=True)).encode()
        if method == "GET" and url.path == "/ids":
            return 200, json.dumps(self.arrivals).encode()
        return 404, b'{"error": {"code": "unknown_path"}}'

    def stats(self, with_codes: bool = False) -> dict[str, object]:
        out: dict[str, object] = {
            "texts": self.texts,
            "pin_texts": self.pin_texts,
            "booking_texts": len(self.booked_codes),
            "duplicates": self.duplicates,
            "refused": self.refused,
        }
        if with_codes:
            out["booked_codes"] = sorted(self.booked_codes)
        return out


class _Http(asyncio.Protocol):
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while (end := self.buf.find(b"\r\n\r\n")) >= 0:
            lines = self.buf[:end].decode("latin-1").split("\r\n")
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])
            }
            length = int(headers.get("content-length", "0"))
            if len(self.buf) < end + 4 + length:
                return
            body = self.buf[end + 4 : end + 4 + length]
            self.buf = self.buf[end + 4 + length :]
            method, target, _ = lines[0].split(" ", 2)
            if method == "POST" and target.startswith("/control/"):
                status, reply = self.inbox.control(target, body)
            elif method == "POST":
                status = self.inbox.receive(headers.get("x-message-id", ""), body)
                reply = b"{}" if status == 200 else b'{"error": "try later"}'
            else:
                status, reply = self.inbox.answer(method, target)
            self._reply(status, reply)

    def _reply(self, status: int, reply: bytes) -> None:
        assert self.transport is not None
        self.transport.write(
            f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
            f"content-length: {len(reply)}\r\n\r\n".encode()
            + reply
        )


async def serve(port: int = 0) -> None:
    inbox = Inbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Http(inbox), "127.0.0.1", port, backlog=4096)
    print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()
    print(json.dumps(inbox.stats()), flush=True)


if __name__ == "__main__":
    import uvloop

    uvloop.run(serve())
