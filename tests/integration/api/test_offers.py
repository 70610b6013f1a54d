"""Offers over HTTP on SQLite and PostgreSQL: the shape API.md fixes, couples, the limit,
alternatives when a centre is full, and a contingent that opens at its release minute.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.app import Services
from kontingent.clock import FixedClock
from tests.support import BIELEFELD, T0, fill_centre, unreleased

Client = AsyncTestClient[Litestar]
BOCHUM, BOTTROP = 2, 3


def offers_url(centre: int, vaccine: str, **params: int) -> str:
    query = "".join(f"&{k}={v}" for k, v in params.items())
    return f"/api/v1/centres/{centre}/offers?vaccine={vaccine}{query}"


async def test_offers_for_one_and_two_persons(client: Client) -> None:
    single = await client.get(offers_url(BIELEFELD, "BNT"))
    assert single.status_code == 200
    body = single.json()
    assert {"centre", "vaccine", "offers", "next_release_at", "alternatives"} <= set(body)
    assert body["centre"]["id"] == BIELEFELD and body["vaccine"]["code"] == "BNT"
    assert len(body["offers"]) == 10  # the default limit
    first = body["offers"][0]["appointments"]
    assert [(a["dose"], a["person"]) for a in first] == [(1, 0), (2, 0)]
    assert {"slot_id", "start", "dose"} <= set(first[0])
    days = datetime.fromisoformat(first[1]["start"]) - datetime.fromisoformat(first[0]["start"])
    assert timedelta(days=20) < days < timedelta(days=43)
    assert datetime.fromisoformat(first[0]["start"]) > T0
    assert body["next_release_at"] is None and body["alternatives"] == []

    couple = (await client.get(offers_url(BIELEFELD, "BNT", persons=2, limit=3))).json()
    assert len(couple["offers"]) == 3
    for offer in couple["offers"]:  # one appointment per dose per person: four
        assert [(a["dose"], a["person"]) for a in offer["appointments"]] == [
            (1, 0),
            (1, 1),
            (2, 0),
            (2, 1),
        ]


async def test_full_centre_answers_with_alternatives(client: Client, svc: Services) -> None:
    await fill_centre(svc.db, BIELEFELD, "BNT")
    body = (await client.get(offers_url(BIELEFELD, "BNT", persons=2))).json()
    assert body["offers"] == [] and body["next_release_at"] is None
    alternatives = body["alternatives"]
    assert [a["centre_id"] for a in alternatives] == [BOCHUM, BOTTROP]
    assert alternatives[0]["distance_km"] < alternatives[1]["distance_km"]
    assert all(a["free_offers"] > 0 for a in alternatives)


async def test_contingent_opens_at_its_release_minute(
    client: Client, svc: Services, clock: FixedClock
) -> None:
    release_at = T0 + timedelta(hours=23)  # 08:00 the next morning
    async with unreleased(svc.db, BOTTROP, "AZ", release_at):
        before = (await client.get(offers_url(BOTTROP, "AZ"))).json()
        assert before["offers"] == []
        assert before["next_release_at"] == "2026-01-13T08:00:00+01:00"
        assert [a["centre_id"] for a in before["alternatives"]] == [BOCHUM, BIELEFELD]

        clock.set(release_at)
        after = (await client.get(offers_url(BOTTROP, "AZ", limit=2))).json()
        assert len(after["offers"]) == 2 and after["next_release_at"] is None
        first = after["offers"][0]["appointments"][0]
        assert datetime.fromisoformat(first["start"]) > release_at
