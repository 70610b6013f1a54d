"""The fault suite's SMTP server: the relay tests' sink (aiosmtpd), counting each mail by the
outbox message id in its `Message-ID` header, so lost and repeated mails can be told apart.

Run as `python bench/faults/mailbox.py [PORT]` (0 or none: a free port): it prints `ready
PORT`, serves until SIGTERM, then prints `{"message id": times received}` as one JSON line.
The "SMTP down" scenario stops it and starts it again on the same port.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/ holds the sink

from aiosmtpd.smtp import Envelope, Session
from tests.integration.notifications.servers import SmtpSink

MESSAGE_ID = re.compile(rb"^Message-ID:\s*<([^@>]+)@", re.IGNORECASE | re.MULTILINE)


@dataclass(slots=True)
class CountingSink(SmtpSink):
    """Keeps only how often each message id arrived: parsing every mail would cost the
    shared cores more than the relay it serves."""

    arrivals: Counter[str] = field(default_factory=Counter)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        found = MESSAGE_ID.search(envelope.original_content or b"")
        self.arrivals[found.group(1).decode() if found else ""] += 1
        return "250 OK"


async def serve(port: int) -> None:
    sink = CountingSink()
    await sink.start(port)
    print(f"ready {sink.port}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await sink.stop()
    print(json.dumps(sink.arrivals), flush=True)


if __name__ == "__main__":
    import uvloop

    uvloop.run(serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
