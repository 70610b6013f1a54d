"""The load driver: concurrent clients booking through the real API, and their ledger.

Each client plays one person after another. One person's journey, as the portal's API
clients make it: join the waiting room and poll the ticket until admitted (when the room is
armed), ask for a PIN, read it from the SMS box as a person reads the text, confirm it, read
the offers of a centre, book one with an `Idempotency-Key`, and now and then send that same
booking again (a replay). People have patience: a step that fails (a 5xx or 429, or no
answer within `TIMEOUT_S`) is tried again after a pause (`PAUSE_S`, or as long as
Retry-After asks but at most `MAX_PAUSE_S`) until `STEP_PATIENCE_S` has passed; a booking
is always tried again with the same key. 409 `slot_taken` means a fresh offer and a fresh
key; any other 4xx ends the journey (the person would start over).

Invariants kept here (what the ledger may be trusted for):
- Every booking answered 201 is in `Ledger.confirmed` with its code, its slots and the time
  the answer came; nothing else is.
- Every answer that is not 2xx, and every request without an answer (status 0), is one
  `Event` with the time it ended, the step, the status and the error code (or the exception).
- Every replay is counted, and every replay not answered with the first answer's code is
  kept in `Ledger.odd_replays`: answered with another booking (a double booking) or refused
  (an error instead of the first answer).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

API = "/api/v1"
TIMEOUT_S = 8.0  # a person looking at a spinner gives up and reloads after this long
STEP_PATIENCE_S = 45.0
PAUSE_S = (1.0, 2.5)  # a person clicking again after an error page
MAX_PAUSE_S = 5.0
PIN_PATIENCE_S = 150.0  # how long a person waits for the PIN text before giving up
PIN_POLL_S = 0.25
REPLAY_SHARE = 0.3  # bookings sent a second time with the same key, after their 201


@dataclass(frozen=True, slots=True)
class Event:
    at: float  # Unix time the request ended
    step: str
    status: int  # 0: no answer (refused, reset, timed out)
    code: str  # the error's code, or the exception's name


@dataclass(frozen=True, slots=True)
class Confirmed:
    code: str
    slot_ids: tuple[int, ...]
    key: str
    sent: float  # Unix time the request that got the 201 was sent (the last try)
    at: float  # and the time the 201 came


@dataclass(frozen=True, slots=True)
class OddReplay:
    """A replay of a confirmed booking's request not answered with that booking."""

    code: str  # the booking the first 201 confirmed
    status: int
    error: str
    returned: str | None  # the booking code the replay's answer named, if any

    @property
    def double(self) -> bool:
        return self.returned is not None and self.returned != self.code


@dataclass(slots=True)
class Ledger:
    events: list[Event] = field(default_factory=list)
    confirmed: list[Confirmed] = field(default_factory=list)
    replays: int = 0
    odd_replays: list[OddReplay] = field(default_factory=list)
    gave_up: int = 0  # people who gave up on a step while the load ran


class Abandon(Exception):
    """This person gives up; the client starts with the next one."""


@dataclass(slots=True)
class Answer:
    status: int
    data: Any
    retry_after: float | None
    sent: float = 0.0  # Unix time the request was sent

    @property
    def code(self) -> str:
        error = self.data.get("error") if isinstance(self.data, dict) else None
        return str(error.get("code", "")) if isinstance(error, dict) else ""


class Load:
    """`clients` people at a time against `url`, until `stop()`."""

    def __init__(
        self, url: str, sms_url: str, clients: int, centres: list[dict[str, Any]], room: bool
    ) -> None:
        self.url = url
        self.sms_url = sms_url
        self.clients = clients
        self.centres = centres
        self.room = room
        self.ledger = Ledger()
        self.stopping = asyncio.Event()
        self._serial = itertools.count()
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None

    def start(self, run_id: int) -> None:
        """The clients start their journeys; people are numbered from `run_id` millions."""
        self._run = run_id
        connector = aiohttp.TCPConnector(limit=self.clients * 2)
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        self._session = aiohttp.ClientSession(connector=connector, timeout=timeout)
        self._tasks = [asyncio.create_task(self._client()) for _ in range(self.clients)]

    async def stop(self, grace_s: float) -> None:
        """No new people; those in the middle of a journey get `grace_s` to finish it."""
        self.stopping.set()
        _, late = await asyncio.wait(self._tasks, timeout=grace_s)
        for task in late:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        for task in self._tasks:  # (after an error elsewhere, the clients may still run)
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def _client(self) -> None:
        while not self.stopping.is_set():
            try:
                await Person(self, next(self._serial)).journey()
            except Abandon:
                if not self.stopping.is_set():  # (not the load's end cutting a journey short)
                    self.ledger.gave_up += 1

    # --- one request --------------------------------------------------------------------------

    async def call(
        self,
        step: str,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One request of a client, in the ledger."""
        answer = await self.send(method, path, body, headers)
        if answer.status >= 300 or answer.status == 0:
            self.ledger.events.append(Event(time.time(), step, answer.status, answer.code))
        return answer

    async def send(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        assert self._session is not None
        return await self.send_with(self._session, self.url, method, path, body, headers)

    @staticmethod
    async def send_with(
        session: aiohttp.ClientSession,
        url: str,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One request; status 0 and the exception's name as the code when none came."""
        sent = time.time()
        try:
            async with session.request(method, url + path, json=body, headers=headers) as response:
                data = await response.json(content_type=None) if response.content_length else None
                wait = _seconds(response.headers.get("Retry-After"))
                return Answer(response.status, data, wait, sent)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return Answer(0, {"error": {"code": type(exc).__name__}}, None, sent)

    async def read_pin(self, phone: str) -> str | None:
        """Poll the SMS box for the PIN text, as a person glances at the phone."""
        assert self._session is not None
        deadline = time.monotonic() + PIN_PATIENCE_S
        while time.monotonic() < deadline:
            try:
                url = f"{self.sms_url}/pin"
                async with self._session.get(url, params={"to": phone}) as response:
                    if response.status == 200:
                        return str((await response.json())["pin"])
            except (aiohttp.ClientError, TimeoutError):
                pass  # the SMS box is ours and local: a hiccup there is no finding
            await asyncio.sleep(PIN_POLL_S)  # the person looks at the phone again
        return None


def _seconds(header: str | None) -> float | None:
    try:
        return float(header) if header else None
    except ValueError:
        return None


def _letters(n: int) -> str:
    """A name part of letters only (names may not hold digits): 0 -> 'a', 27 -> 'bb'."""
    text = ""
    while True:
        text = chr(ord("a") + n % 26) + text
        n //= 26
        if n == 0:
            return text


class Person:
    def __init__(self, load: Load, serial: int) -> None:
        self.load = load
        self.uid = load._run * 1_000_000 + serial
        self.phone = f"+49152{self.uid:08d}"
        self.centre = random.choice(load.centres)
        self.admission: str | None = None

    async def journey(self) -> None:
        if self.load.room:
            await self.wait_in_room()
        token = await self.verify()
        await self.book(token)

    # --- steps -------------------------------------------------------------------------------

    async def step(
        self,
        name: str,
        method: str,
        path: str,
        body: Any = None,
        auth: str | None = None,
        key: str | None = None,
    ) -> Answer:
        """Send until answered 2xx or 4xx other than 429; patience limits the tries."""
        deadline = time.monotonic() + STEP_PATIENCE_S
        while True:
            answer = await self.load.call(name, method, path, body, self._headers(auth, key))
            if 200 <= answer.status < 300 or (400 <= answer.status < 500 and answer.status != 429):
                return answer
            if time.monotonic() > deadline or (self.load.stopping.is_set() and not key):
                raise Abandon(name)
            pause = (
                answer.retry_after if answer.retry_after is not None else random.uniform(*PAUSE_S)
            )
            await asyncio.sleep(min(pause, MAX_PAUSE_S))  # then try the same request again

    def _headers(self, auth: str | None, key: str | None) -> dict[str, str]:
        headers = {}
        if self.admission:
            headers["X-Admission"] = self.admission
        if auth:
            headers["Authorization"] = f"Bearer {auth}"
        if key:
            headers["Idempotency-Key"] = key
        return headers

    async def wait_in_room(self) -> None:
        answer = await self.step("queue join", "POST", f"{API}/queue")
        if answer.status != 201:
            raise Abandon("queue join")
        view = answer.data
        while not view.get("admitted"):
            await asyncio.sleep(min(float(view.get("poll_after_s") or 1.0), 5.0))
            answer = await self.step("queue poll", "GET", f"{API}/queue/{view['ticket']}")
            if answer.status != 200:
                raise Abandon("queue poll")  # the ticket is gone: a person would start over
            view = answer.data
        self.admission = view.get("admission_token")

    async def verify(self) -> str:
        answer = await self.step("send PIN", "POST", f"{API}/verifications", {"phone": self.phone})
        if answer.status != 201:
            raise Abandon("send PIN")
        pin = await self.load.read_pin(self.phone)
        if pin is None:
            raise Abandon("PIN never came")
        path = f"{API}/verifications/{answer.data['verification_id']}"
        answer = await self.step("check PIN", "POST", path, {"pin": pin})
        if answer.status != 200:
            raise Abandon("check PIN")
        return str(answer.data["token"])

    async def offers(self) -> list[dict[str, Any]]:
        path = f"{API}/centres/{self.centre['id']}/offers?vaccine=BNT&persons=1&limit=10"
        answer = await self.step("offers", "GET", path)
        if answer.status != 200:
            raise Abandon("offers")
        return list(answer.data.get("offers") or [])

    async def book(self, token: str) -> None:
        offers = await self.offers()
        for _ in range(5):  # a person tries a few offers, then gives up for today
            if not offers:
                raise Abandon("no offers")
            key, offer = str(uuid.uuid4()), random.choice(offers[:5])
            body = {
                "persons": [self.details()],
                "slot_ids": [a["slot_id"] for a in offer["appointments"]],
            }
            answer = await self.step("book", "POST", f"{API}/bookings", body, token, key)
            if answer.status == 201:
                await self.confirmed(answer, body, token, key)
                return
            if answer.code == "slot_taken":
                offers = list((answer.data["error"].get("details") or {}).get("offers") or [])
            elif answer.code == "slot_not_bookable":
                offers = await self.offers()
            else:
                raise Abandon(f"book: {answer.status} {answer.code}")
        raise Abandon("book: offers kept going")

    async def confirmed(self, answer: Answer, body: dict[str, Any], token: str, key: str) -> None:
        code = str(answer.data["code"])
        slots = tuple(sorted(a["slot_id"] for a in answer.data["appointments"]))
        self.load.ledger.confirmed.append(Confirmed(code, slots, key, answer.sent, time.time()))
        if random.random() >= REPLAY_SHARE:
            return
        again = await self.step("replay", "POST", f"{API}/bookings", body, token, key)
        self.load.ledger.replays += 1
        returned = again.data.get("code") if isinstance(again.data, dict) else None
        if again.status not in (200, 201) or returned != code:
            odd = OddReplay(code, again.status, again.code, returned)
            self.load.ledger.odd_replays.append(odd)

    def details(self) -> dict[str, str]:
        return {
            "first_name": "Erika",
            "last_name": f"Fault{_letters(self.uid)}",
            "birth_date": "1939-05-01",
            "postcode": self.centre["postcode"],
            "city": self.centre["city"],
            "street": "Hauptstraße",
            "house_number": "7",
            "phone": self.phone,
            "email": f"f{self.uid}@example.org",
        }
