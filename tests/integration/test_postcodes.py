"""Every postcode of Westfalen-Lippe, through the database, on SQLite and PostgreSQL.

What these tests hold the service to: seeding loads the real postcodes of the seeded
districts (and `serve --demo` brings an older demo database up to date); a postcode outside
the region is refused with where to book (KV Nordrhein, or 116 117 as a tel: link); a
postcode spanning districts is answered with its places, and the chosen district decides, in
the API and in the portal alike.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, func, select

from kontingent.app import Services
from kontingent.eligibility.service import load_postcodes
from kontingent.errors import InvalidInput
from kontingent.schema import postcodes

BORN = "1939-05-01"


async def test_seeding_loads_every_postcode_of_the_seeded_districts(services: Services) -> None:
    async with services.db.read() as conn:
        count = (await conn.execute(select(func.count()).select_from(postcodes))).scalar()
    assert count is not None and count > 40  # Bielefeld, Bochum, Bottrop: not 3 any more
    answer = await services.eligibility.check(BORN, "33615")
    assert answer.district == "Bielefeld" and answer.decision.eligible


async def test_loading_needs_every_district_named(services: Services) -> None:
    with pytest.raises(InvalidInput) as refused:
        await load_postcodes(services.db)  # 24 of the 27 districts are not in the test seed
    assert refused.value.code == "unknown_district" and "Kreis Soest" in refused.value.message


@pytest.mark.parametrize(
    ("postcode", "code", "book_with"),
    [
        ("40213", "outside_region", "kv_nordrhein"),  # Düsseldorf
        ("50667", "outside_region", "kv_nordrhein"),  # Köln
        ("49074", "outside_region", "116117"),  # Osnabrück
        ("34117", "outside_region", "116117"),  # Kassel
        ("99999", "unknown_postcode", None),
    ],
)
async def test_neighbouring_regions_are_told_where_to_book(
    services: Services, postcode: str, code: str, book_with: str | None
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await services.eligibility.check(BORN, postcode)
    assert refused.value.code == code and refused.value.details.get("book_with") == book_with


@pytest.mark.usefixtures("hochsauerland")
async def test_a_split_postcode_asks_which_place_and_the_choice_decides(
    services: Services,
) -> None:
    with pytest.raises(InvalidInput) as asked:
        await services.eligibility.check(BORN, "59969")
    assert asked.value.code == "place_needed"
    assert {p["district"] for p in asked.value.details["places"]} == {
        "Hochsauerlandkreis",
        "Hessen",
    }
    answer = await services.eligibility.check(BORN, "59969", "Hochsauerlandkreis")
    assert answer.district == "Hochsauerlandkreis" and answer.district_id == 15
    with pytest.raises(InvalidInput) as hessen:
        await services.eligibility.check(BORN, "59969", "Hessen")
    assert hessen.value.details["book_with"] == "116117"


@pytest.mark.usefixtures("hochsauerland")
async def test_the_api_takes_the_district_of_a_split_postcode(
    client: AsyncTestClient[Litestar],
) -> None:
    body: dict[str, Any] = {"birth_date": BORN, "postcode": "59969"}
    asked = await client.post("/api/v1/eligibility", json=body)
    assert asked.status_code == 422 and asked.json()["error"]["code"] == "place_needed"
    places = asked.json()["error"]["details"]["places"]
    assert {"district": "Hochsauerlandkreis", "places": "Hallenberg"} in places
    chosen = await client.post(
        "/api/v1/eligibility", json={**body, "district": places[0]["district"]}
    )
    assert chosen.status_code == 200 and chosen.json()["district"] == "Hochsauerlandkreis"
    outside = await client.post(
        "/api/v1/eligibility", json={"birth_date": BORN, "postcode": "40213"}
    )
    assert outside.json()["error"]["details"]["book_with"] == "kv_nordrhein"


async def test_an_older_demo_database_gets_the_real_postcodes(services: Services) -> None:
    """What `make run` does with a demo database seeded before: `serve --demo` loads them."""
    async with services.db.write() as conn:
        await conn.execute(delete(postcodes).where(postcodes.c.postcode != "33602"))
    assert await load_postcodes(services.db, seeded_districts_only=True) > 40
    services.inventory.forget_catalogue()
    assert (await services.eligibility.check(BORN, "44787")).district == "Bochum"
