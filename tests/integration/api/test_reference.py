"""The read-only part of the HTTP API on SQLite and PostgreSQL: reference data, eligibility,
the public availability feed, single slots, the OpenAPI document, and how the app answers
paths and methods it does not have (always JSON, never an HTML page).
"""

from __future__ import annotations

from datetime import datetime

from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.app import Services
from tests.support import BIELEFELD, error_of, fill_centre

Client = AsyncTestClient[Litestar]
API_PATHS = {  # every endpoint of shared/API.md
    "/api/v1/centres",
    "/api/v1/vaccines",
    "/api/v1/eligibility",
    "/api/v1/centres/{centre_id}/offers",
    "/api/v1/availability",
    "/api/v1/slots/{slot_id}",
    "/api/v1/verifications",
    "/api/v1/verifications/{verification_id}",
    "/api/v1/bookings",
    "/api/v1/bookings/{code}",
    "/api/v1/dev/messages",
}


def is_berlin_time(text: str) -> bool:
    return datetime.fromisoformat(text).utcoffset() is not None and text.endswith(
        ("+01:00", "+02:00")
    )


async def test_centres_and_vaccines(client: Client) -> None:
    centres = await client.get("/api/v1/centres")
    assert centres.status_code == 200
    assert centres.headers["content-type"].startswith("application/json")
    first = centres.json()[0]
    assert {"id", "name", "district", "postcode", "city", "lat", "lon"} <= set(first)
    assert (first["id"], first["postcode"], first["district"]) == (BIELEFELD, "33602", "Bielefeld")
    assert [c["id"] for c in centres.json()] == [1, 2, 3]

    vaccines = {v["code"]: v for v in (await client.get("/api/v1/vaccines")).json()}
    assert set(vaccines) == {"AZ", "BNT", "JNJ", "MOD"}
    assert vaccines["AZ"] == {
        "code": "AZ",
        "name": "AstraZeneca/Vaxzevria",
        "doses": 2,
        "interval_min_days": 63,
        "interval_max_days": 84,
        "min_age": 18,
        "max_age": None,
    }


async def test_eligibility_answers_who_may_book_what(client: Client) -> None:
    answer = await client.post(
        "/api/v1/eligibility", json={"birth_date": "1939-05-01", "postcode": "33602"}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert {"eligible", "vaccines", "centres", "opens_at", "reasons"} <= set(body)
    assert body["eligible"] is True and body["opens_at"] is None and body["reasons"] == []
    assert {"BNT", "MOD"} <= set(body["vaccines"])
    assert "Impfzentrum Bielefeld" in body["centres"]

    young = await client.post(
        "/api/v1/eligibility", json={"birth_date": "1970-03-15", "postcode": "44791"}
    )
    assert young.status_code == 200
    assert young.json()["eligible"] is False and young.json()["opens_at"] is None
    assert young.json()["reasons"] == [
        "no cohort for age 55 is open or scheduled yet in this campaign"
    ]

    soon_80 = await client.post(  # 80 on 22 January: first doses of BioNTech from that day
        "/api/v1/eligibility", json={"birth_date": "1946-01-22", "postcode": "33602"}
    )
    days = {d["vaccine"]: d for d in soon_80.json()["first_dose_days"]}
    assert soon_80.json()["eligible"] is True
    assert days["BNT"]["first_day"] == "2026-01-22" and days["AZ"]["first_day"] == "2026-01-12"


async def test_hardening_5_the_feed_is_cacheable_and_answers_304_while_unchanged(
    client: Client, svc: Services
) -> None:
    """Notifiers poll with If-None-Match instead of reading the whole feed each time."""
    first = await client.get("/api/v1/availability")
    assert first.status_code == 200
    etag = first.headers["etag"]
    # The fixture keeps no feed (feed_ttl_s=0); readers may still keep it a second.
    assert first.headers["cache-control"] == "public, max-age=1"
    again = await client.get("/api/v1/availability", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    await fill_centre(svc.db, BIELEFELD, "JNJ")  # the feed changes: a new ETag and a body
    changed = await client.get("/api/v1/availability", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    row = next(r for r in changed.json() if (r["centre_id"], r["vaccine"]) == (BIELEFELD, "JNJ"))
    assert (row["free_offers"], row["free_seats"], row["first_free_day"]) == (0, 0, None)


async def test_availability_feed_and_slots(client: Client, svc: Services) -> None:
    await fill_centre(svc.db, BIELEFELD, "JNJ")
    feed = (await client.get("/api/v1/availability")).json()
    assert len(feed) == 12  # 3 centres x 4 open vaccines
    rows = {(r["centre_id"], r["vaccine"]): r for r in feed}
    assert rows[(BIELEFELD, "JNJ")]["free_offers"] == 0
    assert rows[(BIELEFELD, "BNT")]["free_offers"] > 100
    assert all(r["next_release_at"] is None for r in feed)

    offers = await client.get(f"/api/v1/centres/{BIELEFELD}/offers?vaccine=BNT&limit=1")
    slot_id = offers.json()["offers"][0]["appointments"][0]["slot_id"]
    slot = await client.get(f"/api/v1/slots/{slot_id}")
    assert slot.status_code == 200
    body = slot.json()
    assert set(body) == {"slot_id", "centre_id", "vaccine", "start", "capacity", "booked"}
    assert (body["slot_id"], body["centre_id"], body["vaccine"]) == (slot_id, BIELEFELD, "BNT")
    assert (body["capacity"], body["booked"]) == (24, 0) and is_berlin_time(body["start"])


async def test_openapi_document_lists_every_endpoint(client: Client) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0].endswith("json")
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) >= API_PATHS
    assert "post" in document["paths"]["/api/v1/bookings"]
    assert "delete" in document["paths"]["/api/v1/bookings/{code}"]


async def test_unknown_paths_get_a_json_404(client: Client) -> None:
    for path in (
        "/api/v1/nope",
        "/api/v1/nope.json",
        "/api/v1/a/b/c",
        "/api/v1/slots/abc",
        "/api/v1/centres/x/offers?vaccine=BNT",
    ):
        error = error_of(await client.get(path), 404, "not_found")
        assert "openapi.json" in error["message"]


async def test_wrong_method_gets_a_json_405(client: Client) -> None:
    for method, path in (
        ("PUT", "/api/v1/centres"),
        ("DELETE", "/api/v1/vaccines"),
        ("GET", "/api/v1/eligibility"),
        ("PATCH", "/api/v1/bookings/ABCD-EFGH-JKLM"),
    ):
        error_of(await client.request(method, path), 405, "method_not_allowed")
