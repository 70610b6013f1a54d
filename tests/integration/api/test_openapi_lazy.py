"""The OpenAPI document is built on first use and served completed whichever page asks first
(api_document.py). One app on an empty SQLite file: the document does not depend on the data."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import AsyncTestClient

from kontingent.api_document import COMPLETED, completed_document
from kontingent.app import create_app
from kontingent.config import Settings


def _settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'k.sqlite3'}", demo=True)


async def test_the_docs_page_asked_first_serves_the_completed_document(tmp_path: Path) -> None:
    """Litestar renders the document once and keeps the result: the page asked first must
    already get the error answers and the decoder's request bodies."""
    app = create_app(_settings(tmp_path))
    assert app.state.get(COMPLETED) is None  # creating the app did not build it
    async with AsyncTestClient(app) as client:
        page = await client.get("/api/v1/docs")
        assert page.status_code == 200
        assert "#/components/schemas/Error" in page.text
        doc = (await client.get("/api/v1/openapi.json")).json()
    booking = doc["paths"]["/api/v1/bookings"]["post"]["responses"]
    assert {"400", "409", "415", "422", "429", "503"} <= set(booking)
    assert booking["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert doc["components"]["schemas"]["BookingIn"]["additionalProperties"] is False


async def test_an_unknown_api_path_does_not_build_the_document(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))
    async with AsyncTestClient(app) as client:
        response = await client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert app.state.get(COMPLETED) is None


def test_the_document_is_completed_once_per_build(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))
    first = completed_document(app)
    responses = first.paths["/api/v1/bookings"].post.responses  # type: ignore[union-attr,index]
    assert completed_document(app) is first
    assert app.state.get(COMPLETED) is first
    assert first.paths["/api/v1/bookings"].post.responses is responses  # type: ignore[union-attr,index]
