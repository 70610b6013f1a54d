"""Unknown paths and wrong methods: an unknown API path is 404 JSON for every method (the
OpenAPI router's GET catch-all under /api/v1 must not turn it into 405), and a known path asked
with a method it does not serve stays 405 JSON."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.support import error_of

Client = AsyncTestClient[Litestar]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.mark.parametrize("method", METHODS)
async def test_an_unknown_api_path_is_404_json_for_every_method(
    client: Client, method: str
) -> None:
    for path in ("/api/v1/nope", "/api/v1/nope/deeper", "/api/v1/centres/x/offers"):
        error = error_of(await client.request(method, path), 404, "not_found")
        assert "openapi.json" in error["message"], (method, path)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/centres"),
        ("DELETE", "/api/v1/availability"),
        ("GET", "/api/v1/eligibility"),
        ("PUT", "/api/v1/bookings/ABCD-EFGH-JKLM"),
        ("POST", "/api/v1/slots/1"),
        ("POST", "/api/v1/openapi.json"),
    ],
)
async def test_a_wrong_method_on_a_known_path_stays_405_json(
    client: Client, method: str, path: str
) -> None:
    error_of(await client.request(method, path), 405, "method_not_allowed")


async def test_ids_beyond_64_bits_name_nothing_instead_of_failing(client: Client) -> None:
    """Found by the schema fuzzing: such an id used to reach the driver and answer 500."""
    huge = 2**70
    error_of(await client.get(f"/api/v1/slots/{huge}"), 404, "unknown_slot")
    error_of(await client.get(f"/api/v1/centres/{huge}/offers?vaccine=BNT"), 404)


async def test_the_openapi_document_describes_every_error_with_the_one_shape(
    client: Client,
) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "details"]
    booking = document["paths"]["/api/v1/bookings"]["post"]["responses"]
    assert {"400", "401", "409", "422", "429", "503"} <= set(booking)
    assert booking["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
