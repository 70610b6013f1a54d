"""Calendars follow a booking, on SQLite and PostgreSQL: the booking e-mail requests its
events, the cancellation e-mail cancels the same UIDs with a higher SEQUENCE, and a rebooking
cancels the old events beside the request for the new ones; events last the centre's slot
(20 minutes in the demo)."""

from __future__ import annotations

from datetime import datetime

from kontingent.app import Services
from kontingent.inventory.model import local_day
from tests.integration.notifications.conftest import rows
from tests.support import BIELEFELD, claims_for, person, phone


def fields(text: str, name: str) -> list[str]:
    unfolded = text.replace("\r\n ", "")
    return [line.split(":", 1)[1] for line in unfolded.split("\r\n") if line.startswith(name)]


async def calendars(services: Services) -> list[str]:
    return [str(r["calendar"]) for r in await rows(services) if r["calendar"]]


async def test_booking_cancel_and_rebook_keep_calendars_in_step(services: Services) -> None:
    offers = (await services.inventory.offers(BIELEFELD, "BNT", limit=40)).offers
    first, later = (
        offers[0],
        next(
            o
            for o in offers
            if local_day(o.appointments[0].starts_at)
            != local_day(offers[0].appointments[0].starts_at)
        ),
    )
    claims = await claims_for(services, phone(1))
    view = await services.booking.book(claims, [person(1)], first.slot_ids)
    [booked] = await calendars(services)
    assert fields(booked, "METHOD") == ["REQUEST"]
    start = datetime.strptime(fields(booked, "DTSTART")[0], "%Y%m%dT%H%M%S%z")
    end = datetime.strptime(fields(booked, "DTEND")[0], "%Y%m%dT%H%M%S%z")
    assert (end - start).total_seconds() == 20 * 60

    await services.booking.rebook(view.code, "1939-05-01", later.slot_ids)
    _, confirmed, moved = await calendars(services)
    assert fields(confirmed, "METHOD") == ["REQUEST"] and fields(moved, "METHOD") == ["CANCEL"]
    assert fields(moved, "UID") == fields(booked, "UID")
    assert not set(fields(confirmed, "UID")) & set(fields(booked, "UID"))

    await services.booking.cancel(view.code, "1939-05-01")
    cancelled = (await calendars(services))[-1]
    assert fields(cancelled, "METHOD") == ["CANCEL"]
    assert fields(cancelled, "UID") == fields(confirmed, "UID")
    assert min(map(int, fields(cancelled, "SEQUENCE"))) > max(
        map(int, fields(confirmed, "SEQUENCE"))
    )
