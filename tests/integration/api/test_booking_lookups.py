"""Looking a booking up by code and birth date, over the API and the portal, against a
guesser: wrong birth dates lock the code out with a cool-down that grows, lookups are limited
per address, a wrong code answers exactly like a wrong date, the birth date travels in a
POST body, and the old query forms still work but say they are deprecated.

Time comes from the FixedClock the app was built with: nothing here sleeps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event

from kontingent.app import Services, create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from tests.integration.api.conftest import GetToken
from tests.integration.api.test_booking_api import book, offer_ids, slot_booked
from tests.integration.web.conftest import Portal, messages
from tests.support import error_of, person, phone

Client = AsyncTestClient[Litestar]
BORN = "1939-05-01"
NOBODY = "K7QM-3XPA-9RTD"  # a code no booking has


async def booked(client: Client, get_token: GetToken, i: int = 0) -> dict[str, Any]:
    ids = await offer_ids(client)
    response = await book(client, await get_token(i), [person(i)], ids)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def look_up(client: Client, code: str, born: str) -> httpx.Response:
    return await client.post(f"/api/v1/bookings/{code}/lookup", json={"birth_date": born})


def wrong_date(n: int) -> str:
    return f"1950-01-{n + 1:02d}"


async def test_hardening_2_wrong_dates_lock_the_code_out_with_a_growing_cool_down(
    client: Client, get_token: GetToken, clock: FixedClock
) -> None:
    """Guessing a birth date for a known code gets 5 tries, then 1, 2, 4 ... minutes apart."""
    code = (await booked(client, get_token))["code"]
    for n in range(5):
        error_of(await look_up(client, code, wrong_date(n)), 404, "booking_not_found")
    locked = await look_up(client, code, BORN)  # even the right date waits now
    error = error_of(locked, 429, "lookup_locked")
    assert locked.headers["retry-after"] == "60"
    assert error["message"] == (
        "too many wrong birth dates for this booking code: try again in 60 seconds, "
        "or call the hotline"
    )
    clock.advance(timedelta(seconds=60))
    error_of(await look_up(client, code, wrong_date(5)), 404, "booking_not_found")
    assert (await look_up(client, code, BORN)).headers["retry-after"] == "120"  # doubled
    clock.advance(timedelta(seconds=120))
    error_of(await look_up(client, code, wrong_date(6)), 404, "booking_not_found")
    assert (await look_up(client, code, BORN)).headers["retry-after"] == "240"
    # Other codes are not affected; the owner gets in once the cool-down is over.
    error_of(await look_up(client, NOBODY, BORN), 404, "booking_not_found")
    clock.advance(timedelta(seconds=240))
    assert (await look_up(client, code, BORN)).status_code == 200
    # ... which cleared the count: five fresh tries.
    for n in range(5):
        error_of(await look_up(client, code, wrong_date(n)), 404, "booking_not_found")
    assert (await look_up(client, code, BORN)).headers["retry-after"] == "60"


def _statements(app: Litestar) -> list[str]:
    """The SQL the app's engine runs from now on."""
    seen: list[str] = []
    engine = app.state.services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


async def test_hardening_2_a_wrong_code_answers_exactly_like_a_wrong_date(
    app: Litestar, client: Client, get_token: GetToken
) -> None:
    """Whether a code exists cannot be told from the answers, the wait, or the work done."""
    code = (await booked(client, get_token))["code"]
    statements = _statements(app)
    for n in range(5):
        wrong_code = await look_up(client, NOBODY, wrong_date(n))
        ran_for_code, statements[:] = list(statements), []
        wrong_day = await look_up(client, code, wrong_date(n))
        assert statements == ran_for_code  # the same work either way: one query decides
        assert sum("FROM bookings" in sql for sql in statements) == 1
        statements.clear()
        assert wrong_code.status_code == wrong_day.status_code == 404
        assert wrong_code.json() == wrong_day.json()
    locked_code, locked_day = await look_up(client, NOBODY, BORN), await look_up(client, code, BORN)
    assert locked_code.status_code == locked_day.status_code == 429
    assert locked_code.json() == locked_day.json()
    assert locked_code.headers["retry-after"] == locked_day.headers["retry-after"]
    assert statements == []  # a code cooling down is not even looked for
    # The old query form answers the same too.
    old = await client.get(f"/api/v1/bookings/ABCD-EFGH-JKLM?birth_date={BORN}")
    assert old.json() == wrong_day.json()


async def test_hardening_2_the_post_forms_look_up_and_cancel(
    client: Client, get_token: GetToken
) -> None:
    """The birth date travels in a body, out of access logs, for reading and for cancelling."""
    booking = await booked(client, get_token)
    code = booking["code"]
    found = await look_up(client, code.lower(), BORN)
    assert found.status_code == 200 and found.json() == booking
    assert "deprecation" not in found.headers
    cancelled = await client.post(f"/api/v1/bookings/{code}/cancel", json={"birth_date": BORN})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert [await slot_booked(client, a["slot_id"]) for a in booking["appointments"]] == [0, 0]
    assert (await look_up(client, code, BORN)).json()["status"] == "cancelled"
    wrong = await client.post(f"/api/v1/bookings/{code}/cancel", json={"birth_date": "1939-5-1"})
    error_of(wrong, 422, "invalid_input")  # not a date: the decoder refuses it, nothing counts
    error_of(await client.post(f"/api/v1/bookings/{code}/lookup", json={}), 422, "invalid_input")


async def test_hardening_2_the_query_forms_still_work_and_say_they_are_deprecated(
    client: Client, get_token: GetToken
) -> None:
    """Clients of the old form keep working for a release and are told what replaces it."""
    booking = await booked(client, get_token)
    code = booking["code"]
    found = await client.get(f"/api/v1/bookings/{code}?birth_date={BORN}")
    assert found.status_code == 200 and found.json() == booking
    assert found.headers["deprecation"] == "@1796342400"
    assert found.headers["link"] == f'</api/v1/bookings/{code}/lookup>; rel="successor-version"'
    missing = await client.get(f"/api/v1/bookings/{NOBODY}?birth_date={BORN}")
    error_of(missing, 404, "booking_not_found")
    assert missing.headers["deprecation"] == "@1796342400"  # errors say so too
    # A path is decoded text: what it holds reaches the header quoted, never as a line break.
    odd = await client.get("/api/v1/bookings/a%0D%0Ab?birth_date=1939-05-01")
    assert odd.headers["link"] == '</api/v1/bookings/a%0D%0Ab/lookup>; rel="successor-version"'
    cancelled = await client.delete(f"/api/v1/bookings/{code}?birth_date={BORN}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.headers["link"] == (
        f'</api/v1/bookings/{code}/cancel>; rel="successor-version"'
    )
    document = (await client.get("/api/v1/openapi.json")).json()["paths"]
    old = document["/api/v1/bookings/{code}"]
    assert old["get"]["deprecated"] is True and old["delete"]["deprecated"] is True
    assert "/lookup" in old["get"]["description"] and "/cancel" in old["delete"]["description"]
    for successor in ("lookup", "cancel"):
        post = document[f"/api/v1/bookings/{{code}}/{successor}"]["post"]
        assert not post.get("deprecated")
        assert "200" in post["responses"]


async def test_hardening_2_both_forms_count_against_one_code(
    client: Client, get_token: GetToken
) -> None:
    """Switching between the old and the new form buys a guesser nothing."""
    code = (await booked(client, get_token))["code"]
    for n in range(3):
        await client.get(f"/api/v1/bookings/{code}?birth_date={wrong_date(n)}")
    await client.delete(f"/api/v1/bookings/{code}?birth_date={wrong_date(3)}")
    await client.post(f"/api/v1/bookings/{code}/cancel", json={"birth_date": wrong_date(4)})
    error_of(await look_up(client, code, BORN), 429, "lookup_locked")
    locked = await client.delete(f"/api/v1/bookings/{code}?birth_date={BORN}")
    error_of(locked, 429, "lookup_locked")
    assert (await look_up(client, code.replace("-", "").lower(), BORN)).status_code == 429


@pytest.fixture
async def limited_client(
    settings: Settings, clock: FixedClock
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """Rate limits on, with 3 lookups at once per address."""
    limited = dataclasses.replace(settings, rate_limits=True, rate_booking_lookup_per_ip="3/10m")
    async with AsyncTestClient(create_app(limited, clock)) as client:
        yield client


async def test_hardening_2_lookups_are_limited_per_address(
    limited_client: Client, clock: FixedClock
) -> None:
    """One address cannot spread its guesses over many codes to dodge the per-code count."""
    codes = ["ABCD-EFGH-JKLM", "ABCD-EFGH-JKLN", "ABCD-EFGH-JKLP"]
    for code in codes:
        error_of(await look_up(limited_client, code, BORN), 404, "booking_not_found")
    refused = await look_up(limited_client, "ABCD-EFGH-JKLQ", BORN)
    error = error_of(refused, 429, "rate_limited")
    assert "too many booking lookups from this network address" in error["message"]
    assert refused.headers["retry-after"] == "200"
    old = await limited_client.get(f"/api/v1/bookings/ABCD-EFGH-JKLQ?birth_date={BORN}")
    error_of(old, 429, "rate_limited")
    clock.advance(timedelta(seconds=200))
    error_of(await look_up(limited_client, "ABCD-EFGH-JKLQ", BORN), 404, "booking_not_found")


# --- the portal's /manage form ----------------------------------------------------------------


async def test_hardening_2_the_manage_form_locks_a_code_out_and_says_when_to_return(
    client: Client, services: Services, clock: FixedClock
) -> None:
    """The portal's lookup is no way around the API's throttle; it says how long, in German
    and English."""
    portal = Portal(client, services)
    await portal.verified(phone(5))
    code, _ = await portal.book(5)
    await portal.get("/manage")
    for n in range(5):
        page = await portal.submit("/manage", {"code": code, "birth_date": f"{n + 1}.1.1950"})
        assert messages(page.text) == [
            "Wir finden keine Buchung mit diesem Code und diesem Geburtsdatum. Prüfen Sie beides."
        ]
    page = await portal.submit("/manage", {"code": code, "birth_date": "01.05.1939"})  # 303
    assert messages(page.text) == [
        "Für diesen Buchungscode wurden zu viele falsche Geburtsdaten eingegeben. Versuchen Sie "
        "es in 60 Sekunden noch einmal oder rufen Sie die Hotline an."
    ]
    assert f'value="{code}"' in page.text, "what was typed stays in the form"
    await portal.get("/manage", lang="en")
    clock.advance(timedelta(seconds=30))
    page = await portal.submit("/manage", {"code": code, "birth_date": "01.05.1939"})
    assert messages(page.text) == [
        "Error: Too many wrong dates of birth were entered for this booking code. Try again in "
        "30 seconds or call the hotline."
    ]
    clock.advance(timedelta(seconds=30))
    page = await portal.post("/manage", {"code": code, "birth_date": "01.05.1939"})
    assert page.status_code == 303 and page.headers["location"] == f"/manage/{code}"
    # The API and the portal count together.
    for n in range(5):
        await client.get(f"/api/v1/bookings/{code}?birth_date={wrong_date(n)}")
    await portal.get("/manage")
    page = await portal.submit("/manage", {"code": code, "birth_date": "01.05.1939"})
    assert any("Too many wrong dates of birth" in m for m in messages(page.text))


async def test_hardening_2_the_manage_form_is_limited_per_address(
    limited_client: Client, services: Services, clock: FixedClock
) -> None:
    """Many codes tried from one address meet the address's limit on the portal as well."""
    portal = Portal(limited_client, services)
    await portal.get("/manage")
    for code in ("ABCD-EFGH-JKLM", "ABCD-EFGH-JKLN", "ABCD-EFGH-JKLP"):
        page = await portal.submit("/manage", {"code": code, "birth_date": "01.05.1939"})
        assert any("Wir finden keine Buchung" in m for m in messages(page.text))
    page = await portal.submit("/manage", {"code": "ABCD-EFGH-JKLQ", "birth_date": "01.05.1939"})
    assert messages(page.text) == [
        "Gerade sind sehr viele Anfragen da. Versuchen Sie es in 4 Minuten noch einmal."
    ]


@pytest.fixture
async def production_limits(
    settings: Settings, clock: FixedClock
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """Every limit on, at the defaults a deployment gets."""
    defaults = Settings()
    on = dataclasses.replace(
        settings,
        rate_limits=True,
        rate_booking_lookup_per_ip=defaults.rate_booking_lookup_per_ip,
        rate_booking_lookup_per_code=defaults.rate_booking_lookup_per_code,
    )
    async with AsyncTestClient(create_app(on, clock)) as client:
        yield client


async def test_issue_14_twelve_wrong_birth_dates_in_a_row_are_not_all_answered(
    production_limits: Client, services: Services, get_token: GetToken
) -> None:
    """A code seen on a photo: 12 birth dates guessed in a row, over the API and on /manage,
    get 5 answers ("not found") and 7 refusals that tell nothing, at the default settings."""
    client = production_limits
    code = (await booked(client, get_token))["code"]
    api = [(await look_up(client, code, wrong_date(n))).status_code for n in range(12)]
    assert api == [404] * 5 + [429] * 7
    other = (await booked(client, get_token, 1))["code"]
    portal = Portal(client, services)
    await portal.get("/manage")
    said = []
    for n in range(12):  # every portal POST answers 303; the page it leads to says which
        page = await portal.submit("/manage", {"code": other, "birth_date": f"{n + 1}.2.1950"})
        locked = "zu viele falsche Geburtsdaten" in page.text
        said.append("locked" if locked else "not found" if "keine Buchung" in page.text else "?")
    assert said == ["not found"] * 5 + ["locked"] * 7
