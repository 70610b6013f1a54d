"""`GET /api/v1/centres/{id}/days`: the portal's week view over HTTP, on SQLite and
PostgreSQL: the same counts and states, paging within this week and the horizon's, and
clear errors for an unknown centre or vaccine."""

from __future__ import annotations

from datetime import date, timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.app import Services
from kontingent.inventory.week import read_week
from tests.support import BIELEFELD, T0, error_of

Client = AsyncTestClient[Litestar]
MONDAY = T0.date()


async def test_a_week_of_days_with_their_counts(client: Client, svc: Services) -> None:
    response = await client.get(f"/api/v1/centres/{BIELEFELD}/days?vaccine=BNT&persons=2")
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in ("centre_id", "vaccine", "persons", "week", "previous_week")} == {
        "centre_id": BIELEFELD,
        "vaccine": "BNT",
        "persons": 2,
        "week": "2026-01-12",
        "previous_week": None,
    }
    assert body["next_week"] == "2026-01-19"
    catalogue = await svc.inventory.catalogue()
    week = await read_week(
        svc.inventory, catalogue, catalogue.centres[BIELEFELD], catalogue.vaccines["BNT"], None, 2
    )
    assert body["days"] == [
        {"day": d.day.isoformat(), "state": d.state.value, "free": d.free} for d in week.days
    ]
    assert all(d["state"] == "free" and d["free"] > 0 for d in body["days"])


async def test_from_pages_within_the_weeks_offered(client: Client) -> None:
    url = f"/api/v1/centres/{BIELEFELD}/days?vaccine=JNJ"
    later = (await client.get(f"{url}&from=2026-01-22")).json()
    assert (later["week"], later["previous_week"], later["next_week"]) == (
        "2026-01-19",
        "2026-01-12",
        "2026-01-26",
    )
    last = (await client.get(f"{url}&from=2027-01-01")).json()
    assert last["week"] == (MONDAY + timedelta(days=28)).isoformat() and last["next_week"] is None
    first = (await client.get(f"{url}&from=2020-01-01")).json()
    assert first["week"] == MONDAY.isoformat()
    assert date.fromisoformat(first["days"][0]["day"]) == MONDAY


async def test_unknown_centre_vaccine_or_day_say_what_to_fix(client: Client) -> None:
    error_of(await client.get("/api/v1/centres/999/days?vaccine=BNT"), 404, "unknown_centre")
    error = error_of(
        await client.get(f"/api/v1/centres/{BIELEFELD}/days?vaccine=XYZ"), 422, "unknown_vaccine"
    )
    assert "BNT" in error["message"]
    bad = await client.get(f"/api/v1/centres/{BIELEFELD}/days?vaccine=BNT&from=14.01.2026")
    assert bad.status_code in (400, 422) and "from" in bad.text
