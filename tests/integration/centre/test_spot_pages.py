"""The console page of the second dose on the spot as a browser without script sees it: the
cursor in the code, a refusal back on the form with the typed data and the words of the
page's language, the slip of a booking with its code, QR code and print stylesheet, and
another centre's page or slip closed to a centre's staff."""

from __future__ import annotations

from datetime import timedelta

from kontingent.app import Services
from kontingent.clock import BERLIN, FixedClock
from kontingent.staff.model import Role
from tests.integration.agent.conftest import Browser, Client
from tests.integration.api.conftest import GetToken
from tests.integration.api.spot_helpers import booked_pair, dose_start, free_second, record
from tests.integration.staff.conftest import add_accounts
from tests.support import BIELEFELD

PAGE = f"/centre/{BIELEFELD}/second-dose"


async def desk(client: Client, svc: Services) -> Browser:
    await add_accounts(svc)
    browser = Browser(client)
    await browser.log_in(Role.centre_staff)
    return browser


async def test_a_code_books_and_the_slip_shows_code_time_centre_and_qr(
    client: Client,
    svc: Services,
    clock: FixedClock,
    get_token: GetToken,
) -> None:
    first = await booked_pair(client, get_token, 7)
    clock.set(dose_start(first, 1) + timedelta(minutes=15))
    await record(svc, first["code"], 1, "vaccinated")
    await free_second(svc, first["code"])
    browser = await desk(client, svc)
    form = await browser.open(PAGE)
    assert form.status_code == 200
    assert 'name="code"' in form.text and "autofocus" in form.text.split('name="code"')[1][:400]

    slip = await browser.submit(PAGE, {"by": "code", "code": first["code"], "request_id": "r1"})
    assert slip.status_code == 200, slip.text[:500]
    assert "Ihr Termin für die zweite Impfung" in slip.text
    assert "<svg" in slip.text and "qr-code" in slip.text
    assert "centre-print.js" in slip.text and "Strg+P" in slip.text
    assert "script-src 'self'" in slip.headers["content-security-policy"]
    assert "Impfzentrum Bielefeld" in slip.text
    code = slip.url.path.rsplit("/", 1)[1]
    assert code != first["code"] and f'class="spot-slip-code">{code}<' in slip.text

    # The same form sent again (a double click) books once: the same slip.
    again = await browser.submit(PAGE, {"by": "code", "code": first["code"], "request_id": "r1"})
    assert again.url.path == slip.url.path


async def test_a_refusal_keeps_the_typed_data_and_says_what_to_do(
    client: Client,
    svc: Services,
    clock: FixedClock,
) -> None:
    browser = await desk(client, svc)
    await browser.open(PAGE)
    today = clock.now().astimezone(BERLIN).date()
    late = (today - timedelta(days=60)).strftime("%d.%m.%Y")
    typed = {
        "by": "person", "first_name": "Gerda", "last_name": "Spätling",
        "birth_date": "03.02.1940", "phone": "0170 2223334", "email": "",
        "first_dose_date": late, "vaccine": "BNT", "request_id": "r2",
    }  # fmt: skip
    page = await browser.submit(PAGE, typed)
    assert "Der Abstand ist überschritten" in page.text
    assert 'value="Spätling"' in page.text and f'value="{late}"' in page.text
    assert 'id="error-summary"' in page.text

    landline = await browser.submit(PAGE, {**typed, "phone": "0521 123456", "request_id": "r3"})
    assert "deutsche Handynummer" in landline.text
    english = await browser.open(PAGE, lang="en")
    assert "Second dose on the spot" in english.text


async def test_another_centres_page_is_closed_to_a_centres_staff(
    client: Client,
    svc: Services,
) -> None:
    browser = await desk(client, svc)
    assert (await browser.get("/centre/2/second-dose")).status_code == 403
    assert (await browser.get("/centre/2/second-dose/K7QM-3XPA-9RTD")).status_code == 403
    unknown = await browser.get(f"{PAGE}/K7QM-3XPA-9RTD")
    assert unknown.status_code == 303 and unknown.headers["location"] == PAGE
