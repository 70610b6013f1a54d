"""Postcodes: which district of the campaign a postcode lies in, and where else to book.

Invariants kept here:
- A postcode belongs to one or more parts: a district of the campaign (`WL`), Nordrhein (`NR`,
  the Regierungsbezirke Düsseldorf and Köln, served by KV Nordrhein) or another Land (`DE`,
  the 116 117 service). A postcode in none of them is unknown, and answered "check it".
- A postcode with more than one part is never settled by guessing: the person says which
  place they live in (`choose_part`), and only a part of that very postcode is accepted.
- The geography ships with the package (data/postcodes.csv, built by
  tools/build_postcodes.py from open data; README names sources and licences). It is read
  once, on first use, never at import.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from kontingent.errors import InvalidInput

SERVED = "WL"
NORDRHEIN = "NR"
OTHER_LAND = "DE"
# Where to book for a postcode outside the campaign's region, as the API names it.
BOOK_WITH = {NORDRHEIN: "kv_nordrhein", OTHER_LAND: "116117"}


@dataclass(frozen=True, slots=True)
class Row:
    """One part of a postcode as the packaged geography has it."""

    postcode: str
    area: str  # SERVED, NORDRHEIN or OTHER_LAND
    name: str  # the district (SERVED) or the Land; empty where the postcode has one part
    places: str  # the municipalities, comma-separated; empty where not needed


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a postcode as a person chooses it: places, and the district they lie in."""

    places: str
    name: str
    district_id: int | None  # None: outside the campaign's districts
    area: str = SERVED


@cache
def geography() -> Mapping[str, tuple[Row, ...]]:
    """Every German postcode -> its parts, from the packaged table."""
    text = resources.files("kontingent.eligibility").joinpath("data/postcodes.csv")
    table: dict[str, list[Row]] = {}
    with text.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            row = Row(r["postcode"], r["area"], r["district"], r["places"])
            table.setdefault(row.postcode, []).append(row)
    return {code: tuple(rows) for code, rows in table.items()}


def served_rows() -> list[Row]:
    """The parts of postcodes that lie in the campaign's region, to seed `postcodes` with."""
    return [row for rows in geography().values() for row in rows if row.area == SERVED]


def parts_of(postcode: str, served: Sequence[Part]) -> list[Part]:
    """The campaign's parts of `postcode` (from the database) and, beside them, any part that
    lies elsewhere, so that someone from the other side of the line can say so."""
    outside = [
        Part(row.places, row.name, None, row.area)
        for row in geography().get(postcode, ())
        if row.area != SERVED
    ]
    return [*served, *outside] if served else []


def outside(postcode: str) -> str | None:
    """Where a postcode the campaign's database does not serve lies: NORDRHEIN, OTHER_LAND,
    SERVED (Westfalen-Lippe, but no district of this campaign has it), or None: no such
    postcode exists."""
    areas = {row.area for row in geography().get(postcode, ())}
    for area in (NORDRHEIN, SERVED, OTHER_LAND):
        if area in areas:
            return area
    return None


def refuse_outside(postcode: str, area: str | None) -> InvalidInput:
    """The refusal for a postcode this campaign does not serve, saying where to book."""
    if area is None:
        return InvalidInput(
            f"postcode {postcode} does not exist: check it",
            code="unknown_postcode",
            field="postcode",
        )
    if area == SERVED:
        return InvalidInput(
            f"postcode {postcode} is not served by this campaign's centres: check it, or ask "
            "the hotline",
            code="unknown_postcode",
            field="postcode",
        )
    where = (
        "book with KV Nordrhein (the rest of Nordrhein-Westfalen)"
        if area == NORDRHEIN
        else "book through the 116 117 service of your Land"
    )
    return InvalidInput(
        f"postcode {postcode} is outside Westfalen-Lippe: {where}",
        code="outside_region",
        field="postcode",
        book_with=BOOK_WITH[area],
    )


def choose_part(postcode: str, parts: Sequence[Part], chosen: str | None) -> Part:
    """The part a person lives in: the only one, or the one they named (by its district or
    Land); refuses with the list of places when the postcode has several and none is named."""
    if chosen:
        for part in parts:
            if part.name.casefold() == chosen.strip().casefold():
                return part
        names = "; ".join(p.name for p in parts if p.name) or parts[0].name
        raise InvalidInput(
            f"{chosen!r} is not a district of postcode {postcode}: choose one of {names}",
            code="unknown_district",
            field="district",
            places=[{"district": p.name, "places": p.places} for p in parts],
        )
    if len(parts) == 1:
        return parts[0]
    listed = "; ".join(f"{p.places} ({p.name})" for p in parts)
    raise InvalidInput(
        f"postcode {postcode} spans several districts: say which place you live in ({listed}) "
        "and send its district as `district`",
        code="place_needed",
        field="district",
        places=[{"district": p.name, "places": p.places} for p in parts],
    )
