"""Waitlist use cases: join it, and tell the waiting when offers are free again.

Invariants kept here:
- Joining is idempotent: the same phone, centre and vaccine wait once (a partial unique index
  backs this against two clicks at once), and a repeated join answers with the entry there.
- `notify_released` queues one SMS per waiting entry whose centre and vaccine have a free
  offer for the persons it asked for, in the same transaction that marks the entry notified;
  running it twice, or in two workers at once, messages nobody twice.
- Nothing here reserves a seat: the SMS invites to book, the booking decides.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from functools import partial

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.errors import InvalidInput
from kontingent.i18n import pick
from kontingent.inventory.service import Inventory
from kontingent.notifications import repository as outbox
from kontingent.notifications.model import DEFAULT_CAP, RecipientCap
from kontingent.verification.model import normalise_phone
from kontingent.waitlist import repository as repo
from kontingent.waitlist.model import MAX_PERSONS, Joined, released_sms


class Waitlist:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        inventory: Inventory,
        cap: RecipientCap = DEFAULT_CAP,
        portal_url: str = "",
    ) -> None:
        self.db = db
        self.clock = clock
        self.inventory = inventory
        self.cap = cap  # messages per recipient (notifications/repository.py)
        self.portal_url = portal_url  # where the SMS's link leads (Settings.portal_url)

    async def join(
        self, phone: str, centre_id: int, vaccine_code: str, persons: int, language: str = "de"
    ) -> Joined:
        """Wait for offers; the SMS that ends the wait is written in `language`."""
        number = normalise_phone(phone)
        if number is None:
            raise InvalidInput(
                "this is not a German mobile number: write it like +49 170 1234567",
                code="invalid_phone",
                field="phone",
            )
        if not 1 <= persons <= MAX_PERSONS:
            raise InvalidInput(
                "wait for one or two persons", code="invalid_persons", field="persons"
            )
        catalogue = await self.inventory.catalogue()
        if centre_id not in catalogue.centres:
            raise InvalidInput(
                "choose a centre from the list", code="unknown_centre", field="centre"
            )
        if vaccine_code not in catalogue.vaccines:
            raise InvalidInput(
                "choose a vaccine from the list", code="unknown_vaccine", field="vaccine"
            )
        key = (catalogue.campaign.id, number, centre_id, vaccine_code)
        now = self.clock.now()

        async def work(conn: AsyncConnection) -> Joined:
            there = await repo.waiting(conn, *key)
            if there is not None:
                return Joined(there, already=True)
            entry = await repo.add(
                conn,
                campaign_id=key[0],
                phone=number,
                centre_id=centre_id,
                vaccine_code=vaccine_code,
                persons=persons,
                now=now,
                language=pick(language),
            )
            return Joined(entry, already=False)

        try:
            return await self.db.run_write(work)
        except IntegrityError:  # the same join committed a moment earlier
            async with self.db.read() as conn:
                there = await repo.waiting(conn, *key)
            if there is None:
                raise
            return Joined(there, already=True)

    async def _room_for(self, centre_id: int, vaccine_code: str) -> int:
        """How many persons side by side the centre's free offers can take now (0, 1 or 2)."""
        for persons in range(MAX_PERSONS, 0, -1):
            view = await self.inventory.offers(centre_id, vaccine_code, persons, limit=1)
            if view.offers:
                return persons
        return 0

    async def notify_released(
        self, now: datetime | None = None, only: Collection[tuple[int, str]] | None = None
    ) -> int:
        """Queue the SMS for everyone whose wait is over; the number of entries notified.
        `only`: the (centre, vaccine) pairs to look at (a release's), None: every pair."""
        now = now or self.clock.now()
        async with self.db.read() as conn:
            pairs = await repo.waiting_pairs(conn)
        if only is not None:
            pairs = [p for p in pairs if (p[0], p[1]) in only]
        catalogue = await self.inventory.catalogue()
        notified = 0
        for centre_id, vaccine_code, fewest in pairs:
            room = await self._room_for(centre_id, vaccine_code)
            if room < fewest:
                continue
            centre = catalogue.centres[centre_id].name
            vaccine = catalogue.vaccines[vaccine_code].name
            work = partial(
                self._notify_pair,
                pair=(centre_id, vaccine_code),
                names=(centre, vaccine),
                room=room,
                now=now,
            )
            notified += await self.db.run_write(work)
        return notified

    async def _notify_pair(
        self,
        conn: AsyncConnection,
        *,
        pair: tuple[int, str],
        names: tuple[str, str],
        room: int,
        now: datetime,
    ) -> int:
        """Mark a pair's waiting entries notified and queue their SMS, in one transaction."""
        entries = await repo.claim_waiting(conn, pair[0], pair[1], room, now)
        messages = [released_sms(e, names[0], names[1], self.portal_url) for e in entries]
        await outbox.enqueue(conn, messages, now, self.cap)
        return len(entries)
