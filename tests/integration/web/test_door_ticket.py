"""The door ticket on the portal's pages (both dialects): the confirmation and the booking's
page show its QR code with a spelled-out text alternative; a cancelled booking shows none."""

from __future__ import annotations

import re

from kontingent.checkin import drawing
from kontingent.checkin.model import sign_ticket
from tests.integration.web.conftest import Portal
from tests.support import phone

_FIGURE = re.compile(
    r'<figure class="door-ticket">\s*<div class="door-ticket-code" role="img" '
    r'aria-label="([^"]+)">(<svg .*?</svg>)</div>',
    flags=re.S,
)


def shown_ticket(html: str) -> tuple[str, str] | None:
    """(text alternative, inline SVG) of the page's door ticket, or None."""
    found = _FIGURE.search(html)
    return (found.group(1), found.group(2)) if found else None


async def test_the_confirmation_shows_the_signed_qr_code_of_the_booking(portal: Portal) -> None:
    secret = portal.services.settings.secret_key
    await portal.verified(phone(21))
    code, _ = await portal.book(21)
    page = await portal.get(f"/confirmation/{code}")
    shown = shown_ticket(page.text)
    assert shown is not None, page.text
    label, svg = shown
    letters = " ".join(code.replace("-", ""))
    assert label == f"QR-Code zum Vorzeigen am Eingang, Buchungscode {letters}"
    assert svg == drawing.svg(sign_ticket(secret, code))  # proven to scan: tests/unit/checkin
    assert "Zeigen Sie diesen Code am Eingang des Impfzentrums vor" in page.text
    english = await portal.get(f"/confirmation/{code}", lang="en")
    assert (shown_ticket(english.text) or ("", ""))[0].startswith("QR code to show at the")


async def test_the_booking_page_shows_it_until_the_booking_is_cancelled(portal: Portal) -> None:
    secret = portal.services.settings.secret_key
    await portal.verified(phone(22))
    code, _ = await portal.book(22)
    answer = await portal.post("/manage", {"code": code, "birth_date": "01.05.1939"})
    assert answer.status_code == 303
    page = await portal.get(f"/manage/{code}")
    shown = shown_ticket(page.text)
    assert shown is not None and shown[1] == drawing.svg(sign_ticket(secret, code))
    await portal.get(f"/manage/{code}/cancel")
    answer = await portal.post(f"/manage/{code}/cancel", {})
    assert answer.status_code == 303
    page = await portal.get(f"/manage/{code}")
    assert "abgesagt" in page.text
    assert shown_ticket(page.text) is None and "<svg" not in page.text
