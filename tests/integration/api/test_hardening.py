"""Issue 11's HTTP-level holes in the API, each attacked as an outsider would: bodies a browser
may send across sites (3), foreign pages calling in (3), JSON nested to crash the decoder (6),
answers that let browsers and proxies keep personal data, a docs page that runs a CDN's
script, and an open `/metrics` (10)."""

from __future__ import annotations

import dataclasses
import logging
import re
import tomllib
from collections.abc import AsyncIterator
from fnmatch import fnmatch
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from structlog.testing import capture_logs

from kontingent.app import Services, create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from tests.integration.api.conftest import GetToken
from tests.integration.api.test_booking_api import book, offer_ids
from tests.support import db_counts, error_of, person, phone

Client = AsyncTestClient[Litestar]
ROOT = Path(__file__).parents[3]
OUR_SITE = "http://testserver.local"  # the test client's Host
LISTED = "https://app.example.org"
FOREIGN = "https://evil.example"
METRICS_TOKEN = "m" * 24
BODY_METHODS = {"POST", "PUT", "PATCH"}


def json_routes(app: Litestar) -> list[tuple[str, str]]:
    """Every (method, path) under /api/ whose handler takes a body, path parameters filled."""
    found = []
    for route in app.routes:
        if not (isinstance(route, HTTPRoute) and route.path.startswith("/api/")):
            continue
        for handler in route.route_handlers:
            if handler.parsed_data_field is None:
                continue
            for method in sorted(set(handler.http_methods) & BODY_METHODS):
                found.append((method, re.sub(r"\{[^}]+\}", "1", route.path)))
    return found


@pytest.fixture
async def production(settings: Settings, clock: FixedClock) -> AsyncIterator[Client]:
    """The app outside demo mode, with one listed origin and a metrics token."""
    configured = dataclasses.replace(
        settings, demo=False, cors_origins=LISTED, metrics_token=METRICS_TOKEN
    )
    async with AsyncTestClient(create_app(configured, clock)) as c:
        yield c


# --- 3: only JSON bodies, only this site's pages (or listed origins) ------------------------


async def test_hardening_3_every_json_route_refuses_bodies_a_browser_sends_cross_site(
    app: Litestar, client: Client, svc: Services
) -> None:
    """Stops a foreign page from posting text/plain, form or multipart bodies (no preflight)."""
    routes = json_routes(app)
    assert {
        ("POST", "/api/v1/eligibility"),
        ("POST", "/api/v1/verifications"),
        ("POST", "/api/v1/verifications/1"),
        ("POST", "/api/v1/bookings"),
    } <= set(routes)
    before = await db_counts(svc.db)
    body = b'{"phone": "+4917012345678", "birth_date": "1939-05-01", "postcode": "33602"}'
    simple_types = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
    for method, path in routes:
        for content_type in [*simple_types, "text/plain; charset=utf-8", "application/jsonx"]:
            answer = await client.request(
                method, path, content=body, headers={"Content-Type": content_type}
            )
            error = error_of(answer, 415, "unsupported_media_type")
            assert "Content-Type: application/json" in error["message"], (path, error)
        no_type = await client.request(method, path, content=body)
        error_of(no_type, 415, "unsupported_media_type")
    assert await db_counts(svc.db) == before  # no PIN was sent, nothing stored


async def test_json_with_a_charset_or_a_json_suffix_is_taken(client: Client) -> None:
    """Stops the media-type rule from refusing real JSON clients."""
    for number, content_type in enumerate(
        ["application/json", "application/json; charset=utf-8", "application/vnd.kt+json"]
    ):
        body = f'{{"phone": "{phone(number)}"}}'.encode()
        answer = await client.post(
            "/api/v1/verifications", content=body, headers={"Content-Type": content_type}
        )
        assert answer.status_code == 201, (content_type, answer.text)


async def test_hardening_3_foreign_pages_cannot_change_anything(
    client: Client, svc: Services, get_token: GetToken
) -> None:
    """Stops a foreign page from sending PINs, joining queues or cancelling through visitors."""
    token = await get_token(0)
    booked = await book(client, token, [person(0)], await offer_ids(client))
    code = booked.json()["code"]
    before = await db_counts(svc.db)
    for origin in (FOREIGN, "null", "http://testserver.local.evil.example", "https://evil"):
        calls = [
            client.post(
                "/api/v1/verifications", json={"phone": phone(1)}, headers={"Origin": origin}
            ),
            client.post("/api/v1/queue", headers={"Origin": origin}),  # the shortcut's path
            client.delete(
                f"/api/v1/bookings/{code}?birth_date=1939-05-01", headers={"Origin": origin}
            ),
        ]
        for call in calls:
            error = error_of(await call, 403, "forbidden_origin")
            assert "KONTINGENT_CORS_ORIGINS" in error["message"] and error["details"]["origin"]
    assert await db_counts(svc.db) == before
    # Reading stays possible (the browser, not the server, keeps the page from the answer),
    # without any CORS header that would let the page read it.
    read = await client.get("/api/v1/vaccines", headers={"Origin": FOREIGN})
    assert read.status_code == 200 and "access-control-allow-origin" not in read.headers


async def test_this_site_and_callers_without_origin_pass(client: Client) -> None:
    """Stops the origin rule from locking out our own docs page, servers and apps."""
    same = await client.post(
        "/api/v1/verifications", json={"phone": phone(0)}, headers={"Origin": OUR_SITE}
    )
    assert same.status_code == 201, same.text
    plain = await client.post("/api/v1/verifications", json={"phone": phone(1)})
    assert plain.status_code == 201, plain.text
    assert all("access-control-allow-origin" not in a.headers for a in (same, plain))


async def test_hardening_3_a_listed_origin_gets_cors_answers(production: Client) -> None:
    """Stops a configured partner site from being refused, and others from being let in."""
    preflight = await production.options(
        "/api/v1/verifications",
        headers={
            "Origin": LISTED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == LISTED
    assert "POST" in preflight.headers["access-control-allow-methods"]
    allowed_headers = preflight.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert "access-control-allow-credentials" not in preflight.headers

    sent = await production.post(
        "/api/v1/verifications", json={"phone": phone(2)}, headers={"Origin": LISTED}
    )
    assert sent.status_code == 201, sent.text
    assert sent.headers["access-control-allow-origin"] == LISTED
    assert "retry-after" in sent.headers["access-control-expose-headers"].lower()

    foreign = await production.options(
        "/api/v1/verifications",
        headers={"Origin": FOREIGN, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in foreign.headers
    refused = await production.post(
        "/api/v1/verifications", json={"phone": phone(3)}, headers={"Origin": FOREIGN}
    )
    error_of(refused, 403, "forbidden_origin")


# --- 6: JSON nested to crash the decoder ----------------------------------------------------


DEEP = b"[" * 1000 + b"]" * 1000


async def test_hardening_6_deep_json_is_refused_before_decoding(
    client: Client, get_token: GetToken, caplog: pytest.LogCaptureFixture
) -> None:
    """Stops 1,000-level JSON from raising RecursionError (a 500 and a traceback each time)."""
    token = await get_token(0)
    bodies = [
        DEEP,
        b'{"phone": ' + DEEP + b"}",
        b'{"persons": [' + b'{"a": ' * 500 + b"1" + b"}" * 500 + b'], "slot_ids": []}',
        b"[" * 1000,  # never closed: the decoder would recurse all the same
    ]
    paths = ["/api/v1/eligibility", "/api/v1/verifications", "/api/v1/bookings"]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    with capture_logs() as logged, caplog.at_level(logging.ERROR):
        for path in paths:
            for body in bodies:
                answer = await client.post(path, content=body, headers=headers)
                error = error_of(answer, 400, "malformed_json")
                assert error["details"] == {"reason": "too_deep", "max_depth": 32}, error
                assert "32 levels" in error["message"]
    assert [e for e in logged if e["log_level"] in ("error", "critical")] == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_brackets_inside_strings_do_not_count(client: Client) -> None:
    """Stops the depth rule from refusing text that merely contains brackets."""
    body = b'{"birth_date": "' + b"[{" * 600 + b'\\"]", "postcode": "33602"}'
    answer = await client.post(
        "/api/v1/eligibility", content=body, headers={"Content-Type": "application/json"}
    )
    error = error_of(answer, 422)  # the birth date is wrong, not the nesting
    assert "birth_date" in error["message"]


# --- 10: headers, the docs page's assets, the metrics token ---------------------------------


async def test_hardening_10_api_answers_with_personal_data_are_not_stored(
    client: Client, get_token: GetToken
) -> None:
    """Stops browsers and proxies from keeping bookings, PINs and tokens, or sniffing types."""
    token = await get_token(0)
    booked = await book(client, token, [person(0)], await offer_ids(client))
    code = booked.json()["code"]
    answers = [
        booked,
        await client.get(f"/api/v1/bookings/{code}?birth_date=1939-05-01"),
        await client.post("/api/v1/verifications", json={"phone": phone(1)}),
        await client.get(f"/api/v1/dev/messages?to={phone(1)}"),
        await client.post("/api/v1/queue"),  # answered in front of the framework
        await client.get("/api/v1/bookings/NOPE-NOPE-NOPE?birth_date=1939-05-01"),  # an error
        await client.get("/api/v1/nowhere"),
    ]
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store", answer.request.url
        assert answer.headers["x-content-type-options"] == "nosniff", answer.request.url
        assert "strict-transport-security" not in answer.headers  # demo mode: plain http
    for public in ("/api/v1/centres", "/api/v1/vaccines", "/api/v1/availability"):
        answer = await client.get(public)
        assert answer.status_code == 200
        assert "no-store" not in answer.headers.get("cache-control", ""), public
        assert answer.headers["x-content-type-options"] == "nosniff"


async def test_hardening_10_hsts_outside_demo_mode(production: Client) -> None:
    """Stops a network in between from downgrading the site to plain HTTP."""
    for path in ("/", "/api/v1/vaccines", "/api/v1/nowhere", "/static/portal.css", "/healthz"):
        answer = await production.get(path)
        assert answer.headers["strict-transport-security"].startswith("max-age="), path
        assert int(answer.headers["strict-transport-security"].split("=")[1]) >= 31536000


ATTRIBUTE_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


async def test_hardening_10_the_docs_page_loads_nothing_from_other_hosts(client: Client) -> None:
    """Stops a CDN (or whoever controls it) from running script on our docs page."""
    page = await client.get("/api/v1/docs")
    assert page.status_code == 200
    urls = ATTRIBUTE_URL.findall(page.text)
    assert len(urls) >= 3 and any(u.endswith(".js") for u in urls), urls
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page.text.split("spec:")[0])
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = await client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 100, url
        assert asset.headers["x-content-type-options"] == "nosniff"


def test_hardening_10_the_vendored_assets_ship_with_the_package_and_their_licence() -> None:
    """Stops an installed package from missing the docs page's files (or their licence)."""
    static = ROOT / "src/kontingent/web/static"
    vendored = static / "swagger-ui"
    assert {"LICENSE", "NOTICE", "swagger-ui-bundle.js", "swagger-ui.css"} <= {
        p.name for p in vendored.iterdir()
    }
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["kontingent"]
    for file in static.rglob("*"):
        if file.is_file():
            inside = file.relative_to(ROOT / "src/kontingent").as_posix()
            assert any(globbed(inside, p) for p in patterns), inside


def globbed(path: str, pattern: str) -> bool:
    """Whether setuptools' glob `pattern` takes `path` (a `*` stays within one folder)."""
    parts, wanted = path.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(map(fnmatch, parts, wanted))


async def test_hardening_10_metrics_and_readiness_need_the_token_when_one_is_set(
    production: Client, client: Client
) -> None:
    """Stops strangers from reading traffic figures and dependency errors."""
    for path in ("/metrics", "/readyz"):
        for header in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
            refused = await production.get(path, headers=header)
            error = error_of(refused, 401, "unauthorized")
            assert "KONTINGENT_METRICS_TOKEN" in error["message"]
            assert refused.headers["www-authenticate"].startswith("Bearer")
        allowed = await production.get(path, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert allowed.status_code == 200, allowed.text
        assert (await client.get(path)).status_code == 200  # no token set: open, as before
    assert (await production.get("/healthz")).status_code == 200  # liveness stays open
