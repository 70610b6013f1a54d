"""An offer's dates drawn once per card in Python (agent/offer_views.py) are exactly the
`pair_lines` macro's markup, escaping included, so the console's offers page and the pages
that still call the macro cannot drift apart."""

from __future__ import annotations

from pathlib import Path

import jinja2

from kontingent.agent.offer_views import pair_lines
from kontingent.web.views import DoseLine

TEMPLATES = Path(__file__).resolve().parents[3] / "src" / "kontingent" / "web" / "templates"


def macro_markup(lines: list[DoseLine]) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    page = env.from_string('{% import "macros.html" as m %}{{ m.pair_lines(offer) }}')
    return page.render(offer={"doses": lines})


def test_the_cards_markup_is_the_macros() -> None:
    lines = [
        DoseLine("1. Impfung:", "Sonntag, 6. Dezember 2026, 08:00 Uhr", "So., 06.12.2026"),
        DoseLine('2. <Impfung> & "so"', "Sonntag, 7. Februar 2027", "So., 07.02.2027"),
    ]
    drawn = str(pair_lines(lines))
    assert drawn == macro_markup(lines)
    assert "&lt;Impfung&gt; &amp; &#34;so&#34;" in drawn
