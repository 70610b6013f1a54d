"""The hotline's use cases: find a caller's bookings, offers for a caller, and book, cancel
and rebook for them (offers: agent/offers.py).

Invariants kept here:
- An agent books, cancels and rebooks through the citizens' own use cases (booking/service.py,
  booking/rebooking.py), with `channel = "phone"`: an agent and a citizen racing for one seat
  meet at the same conditional update, so neither can overbook. The agent stands in for the
  SMS PIN and the birth-date proof (the caller proves who they are on the phone); the
  caller's number, mobile or landline, is the booking's phone.
- Each booking, cancellation and rebooking writes its audit row ("booking.create",
  "booking.cancel", "booking.rebook"; target the code) in the action's own transaction: an
  action that fails writes none.
- Every search is audited in the transaction that reads the bookings: a row in `audit_log`
  with the agent, the way searched (code, name, phone) and the codes found, so each look at a
  person's data can be traced to the agent who took it. The search terms themselves (a name,
  a birth date, a phone number) are not copied into the log: the codes point at the data.
- Exactly one way of searching per request; anything else is refused saying what to send.
- Each agent's searches are limited per agent (`agent_lookup`, ratelimit/service.py), not per
  address: a call centre's agents share a few addresses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.agent import repository as repo
from kontingent.agent.offers import AgentOffers, CentreOffers, OfferQuery, find_offers
from kontingent.booking import model as booking_model
from kontingent.booking.service import Booking, BookingView, StaffClaims
from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.eligibility.service import Eligibility
from kontingent.errors import InvalidInput, NotFound
from kontingent.inventory.offers import HeldSeats
from kontingent.staff import audit
from kontingent.staff.audit import Actor, Entry
from kontingent.staff.model import Principal
from kontingent.verification.model import normalise_caller_phone

if TYPE_CHECKING:
    from kontingent.services import Services

__all__ = ["AgentDesk", "AgentOffers", "CentreOffers", "OfferQuery", "Search"]
PHONE_CHANNEL = "phone"  # the booking's channel (bookings.channel), not the audit's


@dataclass(frozen=True, slots=True)
class Search:
    code: str | None = None
    last_name: str | None = None
    birth_date: date | None = None
    phone: str | None = None


def _way(search: Search) -> str:
    ways = []
    if search.code:
        ways.append("code")
    if search.last_name or search.birth_date:
        ways.append("name")
    if search.phone:
        ways.append("phone")
    if len(ways) != 1:
        raise InvalidInput(
            "search by one of: code; last_name and birth_date; phone",
            code="invalid_search",
        )
    if ways[0] == "name" and not (search.last_name and search.birth_date):
        raise InvalidInput(
            "a search by name needs both last_name and birth_date (YYYY-MM-DD)",
            code="invalid_search",
        )
    return ways[0]


class AgentDesk:
    def __init__(
        self, db: Database, clock: Clock, booking: Booking, eligibility: Eligibility
    ) -> None:
        self.db = db
        self.clock = clock
        self.booking = booking
        self.eligibility = eligibility

    @classmethod
    def of(cls, services: Services) -> AgentDesk:
        return cls(services.db, services.clock, services.booking, services.eligibility)

    async def offers(
        self,
        principal: Principal,
        query: OfferQuery,
        channel: str,
        ip: str | None,
        *,
        rebook: str | None = None,
    ) -> AgentOffers:
        """The eligibility answer and offers for a caller (agent/offers.py). Not audited:
        nothing in it is a person's data. `rebook`: offers for moving this booking, its
        own seats counted as free (looking it up is audited as a search by code)."""
        if rebook is not None:
            found = await self.find(principal, Search(code=rebook), channel, ip)
            if not found or found[0].status != "booked":
                raise NotFound(
                    "rebook: no booked booking with this code; check it",
                    code="booking_not_found",
                )
            view = found[0]
            held = HeldSeats.by(view.centre_id, view.vaccine, view.appointments)
            query = replace(query, held=held, vaccine=query.vaccine or view.vaccine)
        return await find_offers(self.eligibility, self.booking.inventory, query)

    async def book(
        self,
        principal: Principal,
        persons: Sequence[Mapping[str, Any]],
        slot_ids: Sequence[int],
        idempotency_key: str | None,
        channel: str,
        ip: str | None,
        *,
        language: str = "de",
        vaccine: str | None = None,
    ) -> BookingView:
        """Book an offer for a caller (one person or a couple). The first person's `phone`
        is the caller's number, mobile or landline; a person without one shares it."""
        phone = _caller_phone(persons)
        entry = Entry(
            Actor.of(principal), "booking.create", channel, ip=ip,
            details={"persons": len(persons), "slot_ids": list(slot_ids)},
        )  # fmt: skip
        return await self.booking.book(
            StaffClaims(phone, entry), persons, slot_ids, idempotency_key, PHONE_CHANNEL,
            language=language, vaccine=vaccine,
        )  # fmt: skip

    async def cancel(
        self, principal: Principal, code: str, channel: str, ip: str | None
    ) -> BookingView:
        """Cancel a caller's booking: the citizen's use case, the agent for the birth date."""
        entry = Entry(Actor.of(principal), "booking.cancel", channel, ip=ip)
        return await self.booking.cancel(code, None, staff=entry)

    async def rebook(
        self,
        principal: Principal,
        code: str,
        slot_ids: Sequence[int],
        channel: str,
        ip: str | None,
    ) -> BookingView:
        """Move a caller's booking to another offer (booking/rebooking.py)."""
        entry = Entry(Actor.of(principal), "booking.rebook", channel, ip=ip)
        return await self.booking.rebook(code, None, slot_ids, channel=PHONE_CHANNEL, staff=entry)

    async def find(
        self, principal: Principal, search: Search, channel: str, ip: str | None
    ) -> list[BookingView]:
        way = _way(search)
        if way == "code":
            code = booking_model.normalise_code(search.code or "")
            if code is None:
                raise InvalidInput(
                    "a booking code has 12 letters and digits, like K7QM-3XPA-9RTD",
                    code="invalid_code",
                )
            search = Search(code=code)
        if way == "phone":
            phone = normalise_caller_phone(search.phone or "")
            if phone is None:
                raise InvalidInput(
                    "phone: write the number as the booking has it, like 0170 1234567 "
                    "or 0251 1234567",
                    code="invalid_phone",
                )
            search = Search(phone=phone)

        async def work(conn: AsyncConnection) -> list[BookingView]:
            found = await repo.views(conn, await _ids(conn, way, search))
            codes = [v.code for v in found]
            entry = Entry(
                Actor.of(principal), "booking_lookup", channel,
                target=codes[0] if len(codes) == 1 else None, ip=ip,
                details={"by": way, "found": codes},
            )  # fmt: skip
            await audit.record(conn, entry, self.clock.now())
            return found

        return await self.db.run_write(work)


async def _ids(conn: AsyncConnection, way: str, search: Search) -> list[int]:
    if way == "code":
        return await repo.ids_by_code(conn, search.code or "")
    if way == "phone":
        return await repo.ids_by_phone(conn, search.phone or "")
    assert search.last_name is not None and search.birth_date is not None
    return await repo.ids_by_name(conn, search.last_name, search.birth_date)


def _caller_phone(persons: Sequence[Mapping[str, Any]]) -> str:
    """The caller's number in E.164: the first person's `phone`, mobile or landline."""
    raw = persons[0].get("phone") if persons else None
    phone = normalise_caller_phone(raw) if isinstance(raw, str) else None
    if phone is None:
        said = "is missing" if not raw else "is not a German phone number"
        raise InvalidInput(
            f"the caller's phone number {said}: write it like 0251 1234567 or 0170 1234567",
            code="invalid_phone",
            field="persons[0].phone",
        )
    return phone
