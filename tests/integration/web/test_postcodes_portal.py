"""The portal with every postcode: it asks which place where a postcode spans districts, and
says where to book (KV Nordrhein, or 116 117 as a tel: link) for one outside the region."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.usefixtures("hochsauerland")
async def test_the_portal_lists_the_places_and_keeps_the_chosen_district(portal: Any) -> None:
    await portal.get("/eligibility")
    form = {"birth_date": "01.05.1939", "postcode": "59969"}
    asked = await portal.submit("/eligibility", form)  # 303 to the page with the round
    assert "Hallenberg (Hochsauerlandkreis)" in asked.text and "Bromskirchen (Hessen)" in asked.text
    assert 'href="#district"' in asked.text and 'id="district"' in asked.text
    chosen = await portal.post("/eligibility", {**form, "district": "Hochsauerlandkreis"})
    assert chosen.status_code == 303
    result = await portal.get("/eligibility/result")
    assert result.status_code == 200 and "Impfzentrum" in result.text


@pytest.mark.parametrize(
    ("postcode", "words"),
    [
        ("40213", "KV Nordrhein"),
        ("34117", "über die Nummer"),  # then 116 117 as a link
        ("99999", "Diese Postleitzahl kennen wir nicht"),
    ],
)
async def test_the_portal_says_where_to_book_with_116_117_as_a_tel_link(
    portal: Any, postcode: str, words: str
) -> None:
    await portal.get("/eligibility")
    answer = await portal.submit("/eligibility", {"birth_date": "01.05.1939", "postcode": postcode})
    assert words in answer.text
    # Every page's footer links 116 117; the hint beside the postcode only outside the region.
    assert ('class="elsewhere"' in answer.text) == (postcode != "99999")
    assert 'href="tel:116117"' in answer.text
