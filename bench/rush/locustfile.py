"""The 08:00 rush as Locust users: each user is one person (or a couple) trying to book.

Started by bench/rush/run.py (`locust -f bench/rush/locustfile.py --headless ...`), which
passes the scenario in RUSH_* environment variables. Journey of one person:
1. arrives at a planned moment around the opening (RUSH_OPENING, a Unix time): many in the
   seconds before it, most in the burst right after, a tail later;
2. looks up eligibility once (an information page: stays open during the rush);
3. with the waiting room on: joins the queue and polls its ticket, honouring `poll_after_s`,
   until admitted (the admission token then goes with every verification and booking call);
   with it off: reloads eligibility until the cohort opens, then goes straight on;
4. asks for a PIN, reads it from the local SMS box (as a person reads the SMS), confirms it;
5. reads the offers of the home centre (another centre's if the home one has none), picks
   one of the first few, fills in the form and books (one person, or a couple); a 409 brings
   fresh offers and the person picks again, and so does a 422 `slot_not_bookable` (the
   slot's start passed while they chose) after reading the offers again.
A share of people (RUSH_AGGRESSIVE) reload like someone pressing F5: they poll without
waiting for `poll_after_s` and retry failed calls at once. Think times are realistic journey
times multiplied by RUSH_THINK_SCALE, which shortens each person's stay but not the number or
kind of requests.

Each process writes one JSON line per person and its error counts to RUSH_OUT at the end; the
benchmark computes fairness and checks every 201 against the database from those.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, events, task
from locust.env import Environment
from locust.exception import StopUser

API = "/api/v1"
VACCINES = (("BNT", 0.75), ("MOD", 0.25))
EMAIL_DOMAINS = ("gmx.test", "web.test", "t-online.test", "gmail.test", "posteo.test")
# Realistic seconds a person spends on each step before the next request, before scaling.
THINK = {"phone": 15.0, "pin": 12.0, "offers": 20.0, "form": 45.0, "form_two": 75.0}
PATIENT_RELOAD_S = (4.0, 12.0)  # someone who reloads the start page now and then
AGGRESSIVE_RELOAD_S = (0.2, 0.6)  # someone pressing F5 / retrying at once
STEP_TRIES = 25  # a person gives up a step after this many failed tries

RECORDS: list[dict[str, Any]] = []
KINDS: Counter[str] = Counter()
_serial = itertools.count()
_finished = 0


class Scenario:
    """The RUSH_* settings, read once when the test starts."""

    def __init__(self) -> None:
        env = os.environ
        self.opening = float(env["RUSH_OPENING"])
        self.room = env.get("RUSH_ROOM", "1") == "1"
        self.sms_url = env["RUSH_SMS_URL"]
        self.out = Path(env["RUSH_OUT"])
        self.run = int(env.get("RUSH_RUN", "1"))
        self.aggressive = float(env.get("RUSH_AGGRESSIVE", "0.2"))
        self.couples = float(env.get("RUSH_COUPLES", "0.2"))
        self.think_scale = float(env.get("RUSH_THINK_SCALE", "0.05"))
        self.before_s = float(env.get("RUSH_BEFORE_S", "15"))
        self.burst_s = float(env.get("RUSH_BURST_S", "6"))
        self.tail_s = float(env.get("RUSH_TAIL_S", "40"))
        self.centres: list[dict[str, Any]] = []
        self.seed = int(env.get("RUSH_SEED", "8"))
        self.random = random.Random(self.seed)

    def arrival(self) -> float:
        """40% in the seconds before the opening (denser towards it), 45% in an exponential
        burst right after it, 15% spread over the tail."""
        r, draw = self.random, self.random.random()
        if draw < 0.40:
            return self.opening - self.before_s * r.random() ** 2
        if draw < 0.85:
            return self.opening + min(r.expovariate(1 / self.burst_s), self.tail_s)
        return self.opening + r.uniform(0, self.tail_s)


SCENARIO: Scenario | None = None


@events.test_start.add_listener
def _start(environment: Environment, **_: Any) -> None:
    global SCENARIO
    SCENARIO = Scenario()
    SCENARIO.out.mkdir(parents=True, exist_ok=True)
    # Each Locust process draws its own people: same seed and process index, same crowd.
    worker = getattr(environment.runner, "worker_index", 0) or 0
    SCENARIO.random.seed(SCENARIO.seed * 1000 + worker)
    import urllib.request

    with urllib.request.urlopen(f"{environment.host}{API}/centres", timeout=30) as r:  # noqa: S310
        SCENARIO.centres = json.loads(r.read())


@events.test_stop.add_listener
@events.quitting.add_listener
def _stop(environment: Environment, **_: Any) -> None:
    if SCENARIO is None or not RECORDS:
        return
    # The benchmark's stop signal may come while Locust stops on its own: not mid-file.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        text = "".join(json.dumps(rec) + "\n" for rec in RECORDS)
        (SCENARIO.out / f"people-{os.getpid()}.jsonl").write_text(text)
        (SCENARIO.out / f"kinds-{os.getpid()}.json").write_text(json.dumps(KINDS))
    finally:
        signal.signal(signal.SIGINT, previous)


# No 'm': the person key's TR39 skeleton reads 'rn' as 'm' (bench/dataset.py says more).
LETTERS = "abcdefghijklnopqrstuvwxyz"


def _letters(n: int) -> str:
    text = ""
    while True:
        text = LETTERS[n % len(LETTERS)] + text
        n //= len(LETTERS)
        if n == 0:
            return text


class Person(FastHttpUser):
    network_timeout = 15.0  # a page that hangs longer counts as failed; the person reloads
    connection_timeout = 15.0

    def on_start(self) -> None:
        assert SCENARIO is not None
        self.s = SCENARIO
        worker = getattr(self.environment.runner, "worker_index", 0) or 0
        n = next(_serial)
        self.uid = (self.s.run * 10 + worker % 10) * 1_000_000 + n
        rnd = self.s.random
        self.aggressive = rnd.random() < self.s.aggressive
        self.couple = rnd.random() < self.s.couples
        self.centre = rnd.choice(self.s.centres)
        self.vaccine = "BNT" if rnd.random() < VACCINES[0][1] else "MOD"
        self.phone = f"+49151{self.uid:08d}"
        self.admission: str | None = None
        self.retry_after: float | None = None
        self.rec: dict[str, Any] = {
            "uid": self.uid,
            "aggressive": self.aggressive,
            "couple": self.couple,
            "vaccine": self.vaccine,
            "planned": self.s.arrival(),
            "outcome": "unfinished",
            "polls": 0,
            "failures": 0,
        }
        RECORDS.append(self.rec)

    @task
    def journey(self) -> None:
        global _finished
        try:
            gevent.sleep(max(0.0, self.rec["planned"] - time.time()))
            self.rec["arrived"] = time.time()
            self._journey()
        except Exception as exc:  # a bug in this file: record it, never rerun the journey
            self.rec["outcome"] = f"crashed: {type(exc).__name__}: {exc}"
            KINDS[f"journey crashed: {type(exc).__name__}"] += 1
        finally:
            self.rec["ended"] = time.time()
            _finished += 1  # the benchmark stops Locust once every process's people are done
            (self.s.out / f"finished-{os.getpid()}").write_text(str(_finished))
        raise StopUser()

    def _journey(self) -> None:
        if not self._eligibility():
            return
        if self.s.room and not self._wait_in_room():
            return
        token = self._verify()
        if token is None:
            return
        self._book(token)

    # --- requests -----------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        name: str,
        body: Any = None,
        expected: tuple[int, ...] = (),
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """One request; (status, JSON body). Domain answers in `expected` count as success in
        Locust's figures; every non-2xx is also counted by kind (step, status, error code)."""
        headers = dict(headers or {})
        if self.admission:
            headers["X-Admission"] = self.admission
        with self.client.request(
            method, path, name=name, json=body, headers=headers, catch_response=True
        ) as r:
            status = r.status_code or 0
            try:
                data = json.loads(r.content) if r.content else None
            except ValueError:
                data = None
            code = ""
            error = data.get("error") if isinstance(data, dict) else None
            if status >= 300 and isinstance(error, dict):
                code = str(error.get("code", ""))
            retry_after = r.headers.get("retry-after") if status in (429, 503) else None
            self.retry_after = float(retry_after) if (retry_after or "").isdigit() else None
            if 0 < status < 300 or status in expected:
                r.success()
            else:
                r.failure(f"{status} {code or type(r.error).__name__}")
            if status >= 300 or status == 0:
                KINDS[f"{name} | {status or 'no answer'} {code or ''}".strip()] += 1
        return status, data

    def pause(self, seconds: float) -> None:
        gevent.sleep(seconds * random.uniform(0.5, 1.5) * self.s.think_scale)

    def retry_pause(self, status: int) -> None:
        """After a failure: someone pressing reload retries at once; others wait a little,
        or as long as Retry-After asked (at most a minute)."""
        self.rec["failures"] += 1
        if self.aggressive:
            gevent.sleep(random.uniform(*AGGRESSIVE_RELOAD_S))
        elif self.retry_after is not None:
            gevent.sleep(min(self.retry_after, 60.0) * random.uniform(1.0, 1.2))
        else:
            gevent.sleep(random.uniform(1.0, 4.0))

    # --- steps ---------------------------------------------------------------------------

    def _eligibility(self) -> bool:
        """Look up eligibility; without a waiting room, reload until the cohort is open."""
        body = {"birth_date": self._birth_date(0), "postcode": self.centre["postcode"]}
        for _ in range(10_000):
            status, data = self.call("POST", f"{API}/eligibility", "eligibility", body)
            # 80-year-olds are also in the 60+ AstraZeneca cohort, open all along: what
            # counts is whether the vaccine this person wants is open to them.
            open_now = status == 200 and self.vaccine in (data.get("vaccines") or [])
            if open_now or (status == 200 and self.s.room):
                return True
            if status == 200 and not data["eligible"] and not data.get("opens_at"):
                self.rec["outcome"] = "not eligible"
                return False
            if status == 200:  # not open yet: reload the page until it is
                low, high = AGGRESSIVE_RELOAD_S if self.aggressive else PATIENT_RELOAD_S
                gevent.sleep(random.uniform(low, high))
            else:
                self.retry_pause(status)
        return False

    def _wait_in_room(self) -> bool:
        for _ in range(STEP_TRIES):
            sent = time.time()
            status, data = self.call("POST", f"{API}/queue", "queue: join")
            if status in (200, 201):
                self.rec.update(
                    joined_sent=sent,
                    joined_at=time.time(),
                    ticket=data["ticket"],
                    join_position=data.get("position"),
                    join_serving=data.get("serving"),
                )
                if sent > self.s.opening:  # the number in line is known from the start
                    self.rec["open_position"] = data.get("position")
                break
            self.retry_pause(status)
        else:
            self.rec["outcome"] = "could not join the queue"
            return False
        while not data.get("admitted"):
            if self.aggressive:
                gevent.sleep(random.uniform(*AGGRESSIVE_RELOAD_S))
            else:
                gevent.sleep(float(data.get("poll_after_s") or 1.0))
            sent = time.time()
            status, fresh = self.call("GET", f"{API}/queue/{self.rec['ticket']}", "queue: poll")
            self.rec["polls"] += 1
            if status != 200:
                self.retry_pause(status)
                continue
            data = fresh
            if sent > self.s.opening and self.rec.get("open_position") is None:
                self.rec["open_position"] = data.get("position")
                self.rec["open_serving"] = data.get("serving")
        self.rec["admitted_at"] = time.time()
        self.rec["admitted_position"] = data.get("position")
        self.admission = data["admission_token"]
        return True

    def _verify(self) -> str | None:
        """Ask for a PIN, read it, confirm it. A PIN that cannot be used any more (its check
        timed out but went through, or it expired) means asking for a new one, as people do."""
        self.pause(THINK["phone"])
        for _ in range(3):
            sent = time.time()
            verification_id = self._send_pin()
            if verification_id is None:
                self.rec["outcome"] = "no PIN sent"
                return None
            pin = self._read_pin(sent)
            if pin is None:
                self.rec["outcome"] = "PIN never arrived"
                return None
            self.pause(THINK["pin"])
            token = self._check_pin(verification_id, pin)
            if token is not None:
                return token
        self.rec["outcome"] = "PIN refused"
        return None

    def _send_pin(self) -> str | None:
        for _ in range(STEP_TRIES):
            body = {"phone": self.phone}
            status, data = self.call("POST", f"{API}/verifications", "verify: send PIN", body)
            if status == 201:
                return str(data["verification_id"])
            if status in (400, 422):
                return None
            self.retry_pause(status)
        return None

    def _check_pin(self, verification_id: str, pin: str) -> str | None:
        path = f"{API}/verifications/{verification_id}"
        for _ in range(STEP_TRIES):
            status, answer = self.call("POST", path, "verify: check PIN", {"pin": pin})
            if status == 200:
                self.rec["verified_at"] = time.time()
                return str(answer["token"])
            if status in (400, 404, 409) or (status == 429 and answer):
                self.rec["pin_restarts"] = self.rec.get("pin_restarts", 0) + 1
                return None  # used, expired or too many attempts: a new PIN is needed
            self.retry_pause(status)
        return None

    def _read_pin(self, sent: float) -> str | None:
        """Wait for the SMS like a person looking at the phone: every half second, 5 min."""
        for _ in range(600):
            url = f"{self.s.sms_url}/pin?to=%2B{self.phone[1:]}"
            status, data = self.call("GET", url, "(sms box) read PIN", expected=(404,))
            if status == 200 and data["at"] >= sent - 1:
                self.rec["pin_delay_s"] = data["at"] - sent
                return str(data["pin"])
            gevent.sleep(0.5)
        return None

    def _offers(self) -> list[dict[str, Any]]:
        persons = 2 if self.couple else 1
        query = f"vaccine={self.vaccine}&persons={persons}&limit=10"
        path = f"{API}/centres/{self.centre['id']}/offers?{query}"
        for _ in range(STEP_TRIES):
            status, data = self.call("GET", path, "offers")
            if status == 200:
                break
            self.retry_pause(status)
        else:
            return []
        self.rec["offers_seen"] = [self.vaccine, self.centre["id"], len(data["offers"])]
        if data["offers"]:
            return list(data["offers"])
        for alt in data.get("alternatives", [])[:1]:
            path = f"{API}/centres/{alt['centre_id']}/offers?{query}"
            status, other = self.call("GET", path, "offers: other centre")
            if status == 200:
                return list(other["offers"])
        return []

    def _book(self, token: str) -> None:
        offers = self._offers()
        self.pause(THINK["offers"])
        self.pause(THINK["form_two" if self.couple else "form"])
        key, offer = str(uuid.uuid4()), self._pick(offers)
        for attempt in range(STEP_TRIES):
            if offer is None:
                self.rec["outcome"] = "no offers"
                return
            slot_ids = [a["slot_id"] for a in offer["appointments"]]
            body = {"persons": self._persons(), "slot_ids": slot_ids}
            auth = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
            status, data = self.call("POST", f"{API}/bookings", "book", body, (409,), auth)
            self.rec["booking_attempts"] = attempt + 1
            error = (data or {}).get("error") or {}
            if status == 201:
                self.rec.update(
                    outcome="booked",
                    booked_at=time.time(),
                    code=data["code"],
                    birth_date=self._birth_date(0),
                    persons=len(data["persons"]),
                    slot_ids=slot_ids,
                )
                return
            if status == 409 and error.get("code") == "slot_taken":
                offers = list(error.get("details", {}).get("offers") or []) or self._offers()
                key, offer = str(uuid.uuid4()), self._pick(offers)  # a new choice, a new key
                self.pause(THINK["offers"] / 4)
                continue
            if status == 422 and error.get("code") == "slot_not_bookable":
                # The slot's start passed while they chose: "take a current offer", they do.
                key, offer = str(uuid.uuid4()), self._pick(self._offers())
                self.pause(THINK["offers"] / 4)
                continue
            if status in (400, 401, 403, 409, 422):
                self.rec["outcome"] = f"refused: {status} {error.get('code')}"
                return
            self.retry_pause(status)  # 429, 5xx, timeouts: the same request, the same key
        self.rec["outcome"] = "gave up booking"

    @staticmethod
    def _pick(offers: list[dict[str, Any]]) -> dict[str, Any] | None:
        return random.choice(offers[:5]) if offers else None  # one of the first few

    # --- who this person is ----------------------------------------------------------------

    def _birth_date(self, i: int) -> str:
        born = date(1931, 1, 1) + timedelta(days=(self.uid * 7919 + i * 3571) % (13 * 365))
        return born.isoformat()

    def _persons(self) -> list[dict[str, Any]]:
        last = f"Rush{_letters(self.uid)}"
        first = {
            "first_name": "Erika",
            "last_name": last,
            "birth_date": self._birth_date(0),
            "postcode": self.centre["postcode"],
            "city": self.centre["city"],
            "street": "Hauptstraße",
            "house_number": "12",
            "phone": self.phone,
            "email": f"p{self.uid}@{EMAIL_DOMAINS[self.uid % len(EMAIL_DOMAINS)]}",
        }
        if not self.couple:
            return [first]
        second = {**first, "first_name": "Karl", "birth_date": self._birth_date(1)}
        second.pop("email")
        return [first, second]
