"""Spelling a booking code aloud: DIN 5009:2022 in German, ICAO in English."""

from __future__ import annotations

import pytest

from kontingent.agent.model import DIN_5009_2022, ICAO, spell
from kontingent.booking.model import CODE_ALPHABET, new_code


def words(code: str, lang: str) -> list[str]:
    return [s.word for s in spell(code, lang)]


def test_german_uses_the_2022_city_names_not_the_1950_first_names() -> None:
    assert words("ABCN", "de") == ["Aachen", "Berlin", "Chemnitz", "Nürnberg"]
    assert "Anton" not in DIN_5009_2022.values() and "Nordpol" not in DIN_5009_2022.values()


def test_the_whole_2022_table_letter_by_letter() -> None:
    expected = (
        "Aachen Berlin Chemnitz Düsseldorf Essen Frankfurt Goslar Hamburg Ingelheim Jena Köln "
        "Leipzig München Nürnberg Offenbach Potsdam Quickborn Rostock Salzwedel Tübingen Unna "
        "Völklingen Wuppertal Xanten Ypsilon Zwickau"
    )
    assert words("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "de") == expected.split(" ")


def test_umlauts_and_eszett_as_the_2022_table_says() -> None:
    assert words("äöüß", "de") == ["Umlaut Aachen", "Umlaut Offenbach", "Umlaut Unna", "Eszett"]


def test_digits_are_plain_number_words() -> None:
    assert words("0123456789", "de") == [
        "Null", "Eins", "Zwei", "Drei", "Vier", "Fünf", "Sechs", "Sieben", "Acht", "Neun",
    ]  # fmt: skip
    assert words("0129", "en") == ["Zero", "One", "Two", "Nine"]


def test_english_uses_icao() -> None:
    assert words("K7QM", "en") == ["Kilo", "Seven", "Quebec", "Mike"]
    assert ICAO["A"] == "Alfa" and ICAO["J"] == "Juliett" and ICAO["X"] == "X-ray"


def test_a_code_keeps_its_groups_and_reads_lower_case_as_upper() -> None:
    spelled = spell("k7qm-3xpa 9rtd", "de")
    assert [s.symbol for s in spelled] == list("K7QM3XPA9RTD")
    assert [s.group for s in spelled] == [0] * 4 + [1] * 4 + [2] * 4
    assert spelled[0].word == "Köln" and spelled[-1].word == "Düsseldorf"


def test_leading_and_doubled_separators_start_no_empty_group() -> None:
    assert [s.group for s in spell("-AB--CD-", "en")] == [0, 0, 1, 1]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_symbol_a_booking_code_can_hold_has_a_word(lang: str) -> None:
    assert all(len(spell(ch, lang)) == 1 for ch in CODE_ALPHABET)
    assert len(spell(new_code(), lang)) == 12


def test_a_character_without_a_word_is_refused_not_misread() -> None:
    with pytest.raises(ValueError, match="no spelling word"):
        spell("AB/C", "de")
    with pytest.raises(ValueError):
        spell("Ä", "en")
