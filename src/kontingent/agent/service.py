"""The hotline's use cases so far: finding a caller's bookings.

Invariants kept here:
- Every search is audited in the transaction that reads the bookings: a row in `audit_log`
  with the agent, the way searched (code, name, phone) and the codes found, so each look at a
  person's data can be traced to the agent who took it. The search terms themselves (a name,
  a birth date, a phone number) are not copied into the log: the codes point at the data.
- Exactly one way of searching per request; anything else is refused saying what to send.
- Each agent's searches are limited per agent (`agent_lookup`, ratelimit/service.py), not per
  address: a call centre's agents share a few addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.agent import repository as repo
from kontingent.booking import model as booking_model
from kontingent.booking.service import BookingView
from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.errors import InvalidInput
from kontingent.staff import audit
from kontingent.staff.audit import Actor, Entry
from kontingent.staff.model import Principal
from kontingent.verification.model import normalise_phone


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
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

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
            phone = normalise_phone(search.phone or "")
            if phone is None:
                raise InvalidInput(
                    "phone: write the mobile number as the booking has it, like 0170 1234567 "
                    "or +49 170 1234567",
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
