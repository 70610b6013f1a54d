"""The packaged postcode table (eligibility/data/postcodes.csv, tools/build_postcodes.py).

What these tests hold the table to: every district of Westfalen-Lippe is reached; real
postcodes map to their districts as an official source has them; neighbouring regions are
told where to book; a postcode spanning districts is never settled by guessing.

The spread below is checked against the Destatis Gemeindeverzeichnis (GV-ISys, Stand
31.12.2011): the postcode of each municipality's seat of administration ("PLZ Ort" of its
address) and its Kreis. The build's own check ran all 395 municipalities of NRW in it: each
seat's postcode lies in its own Kreis in this table.
"""

from __future__ import annotations

import pytest

from kontingent.demo.seed import read_centres
from kontingent.eligibility.postcodes import (
    NORDRHEIN,
    OTHER_LAND,
    SERVED,
    Part,
    choose_part,
    geography,
    outside,
    parts_of,
    refuse_outside,
    served_rows,
)
from kontingent.errors import InvalidInput

# (postcode, district): the seat of a municipality, from GV-ISys, or named in issue 14.
SPREAD = [
    ("48143", "Münster"),  # issue 14; GV-ISys: Stadt Münster, Klemensstraße
    ("44137", "Dortmund"),  # issue 14
    ("33615", "Bielefeld"),  # issue 14
    ("46325", "Kreis Borken"),  # Borken
    ("48653", "Kreis Coesfeld"),  # Coesfeld
    ("58452", "Ennepe-Ruhr-Kreis"),  # Witten
    ("33378", "Kreis Gütersloh"),  # Rheda-Wiedenbrück
    ("33824", "Kreis Gütersloh"),  # Werther (Westf.): "Werther" is also in Thüringen
    ("32120", "Kreis Herford"),  # Hiddenhausen
    ("59872", "Hochsauerlandkreis"),  # Meschede
    ("34431", "Hochsauerlandkreis"),  # Marsberg, a 34 postcode like Kassel's
    ("37671", "Kreis Höxter"),  # Höxter, a 37 postcode like Göttingen's
    ("32756", "Kreis Lippe"),  # Detmold
    ("58636", "Märkischer Kreis"),  # Iserlohn
    ("32312", "Kreis Minden-Lübbecke"),  # Lübbecke
    ("57462", "Kreis Olpe"),  # Olpe
    ("33142", "Kreis Paderborn"),  # Büren
    ("45768", "Kreis Recklinghausen"),  # Marl
    ("57319", "Kreis Siegen-Wittgenstein"),  # Bad Berleburg
    ("59555", "Kreis Soest"),  # Lippstadt
    ("48485", "Kreis Steinfurt"),  # Neuenkirchen: eleven municipalities share the name
    ("49477", "Kreis Steinfurt"),  # Ibbenbüren, a 49 postcode like Osnabrück's
    ("59368", "Kreis Unna"),  # Werne
    ("48231", "Kreis Warendorf"),  # Warendorf
    ("48599", "Kreis Borken"),  # Gronau (Westf.): also a Gronau (Leine)
    ("58095", "Hagen"),  # "Hagen" is also in Niedersachsen and Schleswig-Holstein
    ("59065", "Hamm"),  # "Hamm" is also in Rheinland-Pfalz
    ("46236", "Bottrop"),
    ("45879", "Gelsenkirchen"),
    ("44623", "Herne"),
    ("44787", "Bochum"),
]


def districts_of(postcode: str) -> set[str]:
    return {row.name for row in geography()[postcode] if row.area == SERVED}


def test_every_district_of_westfalen_lippe_is_reached_by_some_postcode() -> None:
    reached = {row.name for row in served_rows()}
    assert reached == {row["district"] for row in read_centres()}
    assert len(reached) == 27


def test_every_centre_postcode_lies_in_its_own_district() -> None:
    for centre in read_centres():
        assert centre["district"] in districts_of(centre["postcode"]), centre


@pytest.mark.parametrize(("postcode", "district"), SPREAD)
def test_real_postcodes_map_to_their_districts(postcode: str, district: str) -> None:
    assert districts_of(postcode) == {district}


def test_the_table_holds_all_german_postcodes_and_hundreds_in_westfalen_lippe() -> None:
    table = geography()
    assert 8100 < len(table) < 8300  # Germany has about 8,200 postcodes
    served = {row.postcode for row in served_rows()}
    assert 400 <= len(served) <= 1100
    assert all(code.isdigit() and len(code) == 5 for code in table)


@pytest.mark.parametrize(
    ("postcode", "area"),
    [
        ("40213", NORDRHEIN),  # Düsseldorf
        ("50667", NORDRHEIN),  # Köln
        ("45127", NORDRHEIN),  # Essen: Regierungsbezirk Düsseldorf, beside Gelsenkirchen
        ("47051", NORDRHEIN),  # Duisburg
        ("53111", NORDRHEIN),  # Bonn
        ("49074", OTHER_LAND),  # Osnabrück, Niedersachsen
        ("34117", OTHER_LAND),  # Kassel, Hessen
        ("10115", OTHER_LAND),  # Berlin
        ("57518", OTHER_LAND),  # Betzdorf, Rheinland-Pfalz, beside Siegen
        ("48143", SERVED),  # Münster: no district of a smaller campaign has it
        ("99999", None),  # no such postcode
        ("00000", None),
    ],
)
def test_postcodes_outside_the_campaign_say_where_they_lie(postcode: str, area: str | None) -> None:
    assert outside(postcode) == area


def test_nordrhein_is_sent_to_kv_nordrhein_and_other_laender_to_116_117() -> None:
    nordrhein = refuse_outside("40213", NORDRHEIN)
    assert nordrhein.code == "outside_region" and nordrhein.details["book_with"] == "kv_nordrhein"
    assert "KV Nordrhein" in nordrhein.message
    other = refuse_outside("34117", OTHER_LAND)
    assert other.code == "outside_region" and other.details["book_with"] == "116117"
    assert "116 117" in other.message
    unknown = refuse_outside("99999", None)
    assert unknown.code == "unknown_postcode" and "check it" in unknown.message


def test_a_postcode_across_a_district_line_lists_its_places_with_their_districts() -> None:
    # 59969: Hallenberg (Hochsauerlandkreis) and Bromskirchen (Hessen) share it.
    assert {(r.area, r.name, r.places) for r in geography()["59969"]} == {
        (SERVED, "Hochsauerlandkreis", "Hallenberg"),
        (OTHER_LAND, "Hessen", "Bromskirchen"),
    }
    parts = parts_of("59969", [Part("Hallenberg", "Hochsauerlandkreis", 15)])
    with pytest.raises(InvalidInput) as asked:
        choose_part("59969", parts, None)
    assert asked.value.code == "place_needed"
    assert asked.value.details["places"] == [
        {"district": "Hochsauerlandkreis", "places": "Hallenberg"},
        {"district": "Hessen", "places": "Bromskirchen"},
    ]
    assert choose_part("59969", parts, "hochsauerlandkreis").district_id == 15
    chosen = choose_part("59969", parts, "Hessen")
    assert chosen.district_id is None and chosen.area == OTHER_LAND


def test_a_district_that_is_no_part_of_the_postcode_is_refused_with_the_choices() -> None:
    parts = [Part("Bielefeld", "Bielefeld", 1)]
    assert choose_part("33615", parts, None).district_id == 1
    with pytest.raises(InvalidInput) as refused:
        choose_part("33615", parts, "Kreis Soest")
    assert refused.value.code == "unknown_district" and "Bielefeld" in refused.value.message


def test_outside_parts_join_only_a_postcode_the_campaign_serves() -> None:
    assert parts_of("34117", []) == []  # Kassel: nothing to choose, refused as a whole
