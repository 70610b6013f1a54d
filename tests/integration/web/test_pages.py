"""The portal's pages through the app on both dialects: the journey's guards and detours,
double clicks, an expired phone token, a taken slot, rebooking, the waitlist, languages,
cookies and error pages."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

from litestar.testing import AsyncTestClient

from kontingent.app import create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from tests.integration.web.conftest import Portal, check_html, person_form, row_counts
from tests.support import (
    BIELEFELD,
    T0,
    fill_centre,
    person,
    phone,
    read_pin,
    set_free,
    unreleased,
)


def location(response: object) -> str:
    return str(response.headers["location"])  # type: ignore[attr-defined]


async def test_steps_cannot_be_skipped(portal: Portal) -> None:
    assert location(await portal.client.get("/choose", follow_redirects=False)).startswith(
        "/eligibility"
    )
    await portal.eligible()
    answer = await portal.client.get("/choose", follow_redirects=False)
    assert location(answer) == "/phone?note=phone"
    answer = await portal.client.get("/confirmation/K7QM-3XPA-9RTD", follow_redirects=False)
    assert location(answer).startswith("/manage")


async def test_a_tampered_flow_cookie_reads_as_no_flow(portal: Portal) -> None:
    await portal.verified(phone(1))
    raw = portal.client.cookies["kt_flow"]
    portal.client.cookies.set("kt_flow", raw[:-2] + ("AA" if not raw.endswith("AA") else "BB"))
    answer = await portal.client.get("/choose", follow_redirects=False)
    assert location(answer).startswith("/eligibility")


async def test_who_cannot_book_yet_is_told_when(portal: Portal) -> None:
    # 59: the 60+ cohort fits from the birthday, which lies after the booking window.
    await portal.eligible(birth_date="01.06.1966")
    page = await portal.get("/eligibility/result")
    assert "Sie können noch nicht buchen" in page.text
    assert "Ab Montag, 1. Juni 2026 haben Sie das Alter einer Gruppe" in page.text


async def test_who_turns_80_soon_is_told_from_which_day_the_first_dose_can_be(
    portal: Portal,
) -> None:
    await portal.eligible(birth_date="22.01.1946")  # 80 on 22 January, ten days after T0
    page = await portal.get("/eligibility/result")
    assert "Sie können jetzt Termine buchen" in page.text
    assert "die erste Impfung ist ab Donnerstag, 22. Januar 2026 möglich" in page.text


async def test_nobody_under_60_is_promised_a_date(portal: Portal) -> None:
    await portal.eligible(birth_date="01.01.2000")
    page = await portal.get("/eligibility/result")
    assert "noch keine Gruppe geöffnet oder geplant" in page.text
    assert "2060" not in page.text


async def test_a_double_click_books_once(portal: Portal) -> None:
    await portal.verified(phone(2))
    form = await portal.details(await portal.offer())
    form.update(person_form(0, person(2)))
    cookies = dict(portal.client.cookies)
    first = await portal.post("/book", form)
    portal.client.cookies.clear()
    for name, value in cookies.items():  # the second click left with the first's cookies
        portal.client.cookies.set(name, value)
    second = await portal.post("/book", form)
    assert first.status_code == second.status_code == 303
    assert location(first) == location(second)
    assert (await row_counts(portal.services))["bookings"] == 1


async def test_an_expired_phone_token_keeps_the_typed_data(
    portal: Portal, clock: FixedClock
) -> None:
    await portal.verified(phone(3))
    form = await portal.details(await portal.offer())
    form.update(person_form(0, person(3, first_name="Gertrud")))
    clock.advance(timedelta(hours=3))
    answer = await portal.post("/book", form)
    assert location(answer) == "/phone?note=expired"
    page = await portal.get(location(answer))
    assert "Ihre Angaben bleiben gespeichert" in page.text
    await portal.post("/phone", {"phone": phone(3)})
    answer = await portal.post("/pin", {"pin": await read_pin(portal.services, phone(3))})
    assert location(answer) == f"/details?offer={form['offer']}"
    page = await portal.get(location(answer))
    assert 'value="Gertrud"' in page.text
    assert (await row_counts(portal.services))["bookings"] == 0


async def test_a_taken_slot_offers_fresh_ones_with_the_data_kept(portal: Portal) -> None:
    await portal.verified(phone(4))
    form = await portal.details(await portal.offer())
    form.update(person_form(0, person(4, first_name="Käthe")))
    taken = int(form["offer"].split("-")[0])
    await set_free(portal.services.db, 0, taken)
    taken_at = await portal.post("/book", form)
    assert location(taken_at) == "/choose/again"  # 303: back and reload never resubmit
    answer = await portal.get(location(taken_at))
    assert "gerade von jemand anderem gebucht" in answer.text
    assert f'name="offer" value="{taken}-' not in answer.text
    assert 'name="p0.first_name" value="Käthe"' in answer.text
    fresh = re.search(r'<form action="/book" method="post".*?</form>', answer.text, re.S)
    assert fresh is not None
    again = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', fresh.group(0)))
    booked = await portal.post("/book", again)
    assert location(booked).startswith("/confirmation/")
    page = await portal.get(location(booked))
    assert "Käthe" in page.text


async def test_manage_rebook_and_cancel(portal: Portal) -> None:
    await portal.verified(phone(5))
    code, form = await portal.book(5)
    answer = await portal.post("/manage", {"code": code.lower(), "birth_date": "1.5.1939"})
    assert location(answer) == f"/manage/{code}"
    page = await portal.get(f"/manage/{code}/rebook")
    offers = re.findall(r'name="offer" value="([0-9-]+)"', page.text)
    target = next(o for o in offers if o != form["offer"])
    answer = await portal.post(f"/manage/{code}/rebook", {"offer": target})
    assert location(answer) == f"/manage/{code}?note=rebooked"
    page = await portal.get(location(answer))
    assert "Umgebucht" in page.text
    view = await portal.services.booking.find(code, "1939-05-01")
    assert sorted(a.slot_id for a in view.appointments) == sorted(map(int, target.split("-")))
    page = await portal.get(f"/manage/{code}/cancel")
    assert "Termine wirklich absagen?" in page.text
    answer = await portal.post(f"/manage/{code}/cancel", {})
    page = await portal.get(location(answer))
    assert "abgesagt" in page.text
    assert (await portal.services.booking.find(code, "1939-05-01")).status == "cancelled"


async def test_nothing_free_says_so_and_offers_the_waitlist(portal: Portal) -> None:
    for centre in (2, 3):
        await fill_centre(portal.services.db, centre, "BNT")
    await portal.verified(phone(6))
    release = T0 + timedelta(days=1)
    async with unreleased(portal.services.db, BIELEFELD, "BNT", release):
        page = await portal.get("/choose", vaccine="BNT")
    assert "Zurzeit sind keine Termine frei" in page.text
    assert "Neue Termine werden morgen um 09:00 Uhr freigegeben" in page.text  # T0 is Monday
    link = re.search(r'href="(/waitlist\?[^"]+)"', page.text)
    assert link is not None
    page = await portal.get(link.group(1).replace("&amp;", "&"))
    assert f'<option value="{BIELEFELD}" selected>' in page.text
    answer = await portal.submit("/waitlist", {"centre": str(BIELEFELD), "vaccine": "BNT"})
    assert "Sie stehen auf der Warteliste" in answer.text
    again = await portal.get("/waitlist/done")  # a reload shows it again and joins nothing
    assert "Sie stehen auf der Warteliste" in again.text
    assert (await row_counts(portal.services))["waitlist"] == 1


async def test_pin_resend_after_the_cool_down(portal: Portal, clock: FixedClock) -> None:
    await portal.pin_sent(phone(7))
    page = await portal.get("/pin")
    assert "Ab 09:01 Uhr können Sie eine neue PIN anfordern" in page.text
    clock.advance(timedelta(seconds=61))
    answer = await portal.post("/pin/resend", {})
    assert location(answer) == "/pin?note=resent"
    answer = await portal.post("/pin", {"pin": await read_pin(portal.services, phone(7))})
    assert location(answer) == "/choose"


async def test_english_on_request_and_remembered(portal: Portal) -> None:
    page = await portal.get("/", lang="en")
    assert '<html lang="en">' in page.text
    assert "Book vaccination appointments" in page.text
    page = await portal.get("/eligibility")
    assert "Who is to be vaccinated?" in page.text
    answer = await portal.submit("/eligibility", {"birth_date": "", "postcode": ""})
    assert "Date of birth is missing." in answer.text
    page = await portal.get("/", lang="de")
    assert '<html lang="de">' in page.text


async def test_pages_protect_themselves(portal: Portal) -> None:
    page = await portal.get("/")
    assert "script-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    missing = await portal.client.get("/nirgendwo")
    assert missing.status_code == 404
    assert "Seite nicht gefunden" in missing.text
    wrong = await portal.client.get("/book")
    assert wrong.status_code == 405
    assert wrong.headers["content-type"].startswith("text/html")
    css = await portal.client.get("/static/portal.css")
    assert css.status_code == 200 and "font-size: 1.25rem" in css.text


async def test_cookies_are_secure_outside_demo_mode(settings: Settings, clock: FixedClock) -> None:
    app = create_app(dataclasses.replace(settings, demo=False), clock)
    async with AsyncTestClient(app) as client:
        page = await client.get("/eligibility?lang=en")
        cookies = page.headers.get_list("set-cookie")
        assert len(cookies) == 2  # the CSRF cookie and the language
        for cookie in cookies:
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        answer = await client.post(
            "/eligibility",
            data={"_csrf_token": token.group(1), "birth_date": "01.05.1939", "postcode": "33602"},
            headers={"cookie": f"kt_csrf={token.group(1)}"},
            follow_redirects=False,
        )
        flow = answer.headers["set-cookie"]
        assert flow.startswith("kt_flow=")
        assert "Secure" in flow and "HttpOnly" in flow and "SameSite=lax" in flow
        assert (await client.get("/dev/mailbox")).status_code == 404


async def test_every_page_is_well_formed_and_labelled(portal: Portal) -> None:
    pages = [await portal.get("/"), await portal.get("/eligibility")]
    pages.append(await portal.submit("/eligibility", {"birth_date": "x", "postcode": ""}))
    await portal.verified(phone(8))
    pages += [await portal.get("/eligibility/result"), await portal.get("/phone")]
    pages += [await portal.get("/pin"), await portal.get("/choose", persons=2)]
    form = await portal.details(await portal.offer(persons=2))
    pages.append(await portal.get("/details", offer=form["offer"]))
    form.update(person_form(0, person(8)) | person_form(1, person(9, city="")))
    pages.append(await portal.submit("/book", form))  # with its error summary
    pages += [await portal.get("/impressum"), await portal.get("/datenschutz")]
    code, _ = await portal.book(10)
    pages.append(await portal.get(f"/confirmation/{code}"))
    pages.append(await portal.get("/manage"))
    await portal.post("/manage", {"code": code, "birth_date": "01.05.1939"})
    for path in ("", "/cancel", "/rebook"):
        pages.append(await portal.get(f"/manage/{code}{path}"))
    await portal.verified(phone(11))
    pages += [await portal.get("/waitlist"), await portal.get("/dev/mailbox")]
    pages += [await portal.client.get("/nirgendwo"), await portal.get("/", lang="en")]
    for page in pages:
        check_html(page.text)
