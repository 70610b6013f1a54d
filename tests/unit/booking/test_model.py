"""Booking codes, the shape of a bookable offer and who is "the same person"
(kontingent.booking.model)."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontingent.booking import model
from kontingent.booking.model import (
    CODE_ALPHABET,
    CODE_LENGTH,
    PERSON_KEY_LENGTH,
    SlotInfo,
    assign_appointments,
    new_code,
    normalise_code,
    person_key,
    seats_per_slot,
)
from kontingent.errors import InvalidInput
from kontingent.inventory.model import Vaccine
from tests.unit.properties import examples

TZ = ZoneInfo("Europe/Berlin")
CODE_FORM = re.compile(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}")
BNT = Vaccine("BNT", "BioNTech", 2, 21, 42, 16, None)
JNJ = Vaccine("JNJ", "Johnson & Johnson", 1, 0, 0, 18, None)


def berlin(month: int, day: int, hour: int = 8, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def info(slot_id: int, starts_at: datetime, *, centre: int = 1, vaccine: str = "BNT") -> SlotInfo:
    return SlotInfo(slot_id, centre, vaccine, starts_at, bookable_from=berlin(1, 1))


FIRST = info(10, berlin(1, 12))
SECOND = info(20, berlin(2, 2))  # 21 days later


def seats(appointments: list[model.Appointment]) -> list[tuple[int, int, int]]:
    return [(a.slot_id, a.dose, a.person) for a in appointments]


# --- booking codes ---------------------------------------------------------------------------


def test_a_code_is_twelve_unambiguous_characters_in_three_groups_of_four() -> None:
    for _ in range(200):
        code = new_code()
        assert CODE_FORM.fullmatch(code), code
        assert not set(code) & set("0O1I")


def test_the_alphabet_has_32_distinct_symbols_and_none_that_reads_alike() -> None:
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET) == 32
    assert not set(CODE_ALPHABET) & set("0O1I")
    assert CODE_LENGTH == 12


def test_a_code_carries_at_least_60_bits_of_entropy_by_construction() -> None:
    assert CODE_LENGTH * math.log2(len(CODE_ALPHABET)) >= 60


def test_every_character_of_a_code_is_drawn_from_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[int] = []
    # Symbol i takes bits 5i..5i+4 of one 64-bit draw; here symbol i gets alphabet[i + 1].
    bits = sum((i + 1) << (5 * i) for i in range(CODE_LENGTH))

    def token_bytes(n: int) -> bytes:
        drawn.append(n)
        return bits.to_bytes(n, "big")

    monkeypatch.setattr(model.secrets, "token_bytes", token_bytes)
    assert new_code() == "3456-789A-BCDE"
    assert drawn == [8]  # 64 bits, at least the 60 the code carries


def test_codes_do_not_repeat() -> None:
    assert len({new_code() for _ in range(2000)}) == 2000


@pytest.mark.parametrize(
    "typed",
    [
        "ABCD-EFGH-JKMN",
        "abcd-efgh-jkmn",
        "ABCDEFGHJKMN",
        "abcd efgh jkmn",
        "  AbCd-eFgH - jKmN\n",
        "ABCD\tEFGH\tJKMN",
        "A-B-C-D-E-F-G-H-J-K-M-N",
    ],
)
def test_a_code_is_accepted_however_it_is_typed(typed: str) -> None:
    assert normalise_code(typed) == "ABCD-EFGH-JKMN"


@pytest.mark.parametrize(
    "typed",
    [
        "ABCD-EFGH-JKM0",  # zero: never silently read as O or any other letter
        "ABCD-EFGH-JKMO",  # the letter O is not in the alphabet
        "ABCD-EFGH-JKM1",
        "ABCD-EFGH-JKMI",
        "ABCD-EFGH-JKM",  # too short
        "ABCD-EFGH-JKMNP",  # too long
        "ABCD_EFGH_JKMN",
        "ABCD.EFGH.JKMN",
        "",
        "<script>x</script>",
    ],
)
def test_a_code_with_a_foreign_or_ambiguous_character_or_wrong_length_is_refused(
    typed: str,
) -> None:
    assert normalise_code(typed) is None


codes = st.text(alphabet=CODE_ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH).map(
    lambda raw: f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
)


@examples()
@given(codes)
def test_a_formatted_code_normalises_to_itself(code: str) -> None:
    assert normalise_code(code) == code


@examples()
@given(codes, st.lists(st.sampled_from([" ", "-", "\t", ""]), min_size=13, max_size=13))
def test_case_spaces_and_dashes_never_change_which_code_is_meant(
    code: str, separators: list[str]
) -> None:
    raw = code.replace("-", "").lower()
    typed = "".join(sep + ch for sep, ch in zip(separators, raw, strict=False)) + separators[-1]
    assert normalise_code(typed) == code


@examples()
@given(st.text(max_size=30))
def test_any_text_normalises_to_nothing_or_to_a_well_formed_code(text: str) -> None:
    code = normalise_code(text)
    assert code is None or (CODE_FORM.fullmatch(code) and normalise_code(code) == code)


# --- the offer a booking names ----------------------------------------------------------------


def test_one_person_gets_the_earlier_slot_as_first_dose_whatever_the_order_sent() -> None:
    booked = assign_appointments([SECOND, FIRST], BNT, persons=1)
    assert seats(booked) == [(10, 1, 0), (20, 2, 0)]
    assert seats_per_slot([a.slot_id for a in booked]) == {10: 1, 20: 1}


def test_a_couple_takes_two_seats_in_each_slot_side_by_side() -> None:
    booked = assign_appointments([SECOND, FIRST, SECOND, FIRST], BNT, persons=2)
    assert seats(booked) == [(10, 1, 0), (10, 1, 1), (20, 2, 0), (20, 2, 1)]
    assert seats_per_slot([a.slot_id for a in booked]) == {10: 2, 20: 2}


def test_a_single_dose_vaccine_takes_one_slot_per_person() -> None:
    one = info(30, berlin(1, 12), vaccine="JNJ")
    assert seats(assign_appointments([one], JNJ, persons=1)) == [(30, 1, 0)]
    assert seats(assign_appointments([one, one], JNJ, persons=2)) == [(30, 1, 0), (30, 1, 1)]
    assert seats_per_slot([30, 30]) == {30: 2}


def test_the_interval_is_counted_in_berlin_days_across_the_dst_change() -> None:
    first, second = info(1, berlin(3, 20, 9)), info(2, berlin(4, 10, 9))  # 20 d 23 h apart
    assert seats(assign_appointments([first, second], BNT, persons=1)) == [(1, 1, 0), (2, 2, 0)]


def refused(slots: list[SlotInfo], vaccine: Vaccine = BNT, persons: int = 1) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        assign_appointments(slots, vaccine, persons)
    error = caught.value
    assert error.status == 422
    assert error.code == "invalid_offer"
    assert error.details["field"] == "slot_ids"
    assert error.details["reason"] in {
        "wrong_slot_count",
        "mixed_centres",
        "mixed_vaccines",
        "not_side_by_side",
        "interval_outside_window",
    }
    return error


@pytest.mark.parametrize(
    ("slots", "persons"),
    [([FIRST], 1), ([FIRST, SECOND, SECOND], 1), ([FIRST, SECOND], 2), ([FIRST] * 5, 2)],
)
def test_the_wrong_number_of_slots_is_refused_saying_how_many_an_offer_holds(
    slots: list[SlotInfo], persons: int
) -> None:
    error = refused(slots, persons=persons)
    assert f"exactly {2 * persons} slot ids, got {len(slots)}" in error.message


def test_slots_at_two_centres_are_refused() -> None:
    error = refused([FIRST, info(20, berlin(2, 2), centre=2)])
    assert error.message == "all slots of an offer must be at the same centre"


def test_slots_of_two_vaccines_are_refused() -> None:
    error = refused([FIRST, info(20, berlin(2, 2), vaccine="MOD")])
    assert error.message == "all slots of an offer must be for BioNTech"


@pytest.mark.parametrize("days", [0, 20, 43, 90])
def test_a_second_dose_outside_the_interval_window_is_refused(days: int) -> None:
    later = info(20, berlin(1, 12, 9) + timedelta(days=days))
    error = refused([FIRST, later])
    assert error.message == "the second dose of BioNTech must be 21 to 42 days after the first"


def test_the_same_slot_for_both_doses_is_refused() -> None:
    refused([FIRST, FIRST])
    refused([FIRST, FIRST], Vaccine("X", "Same day", 2, 0, 0, None, None))


def test_a_couple_in_two_different_slots_of_one_day_is_not_side_by_side() -> None:
    neighbour = info(11, berlin(1, 12, 8, 20))
    error = refused([FIRST, neighbour, SECOND, SECOND], persons=2)
    assert error.message == "dose 1 of all persons must be in the same slot, side by side"


def test_a_couple_cannot_split_two_first_doses_across_days() -> None:
    refused([FIRST, SECOND, SECOND, info(21, berlin(2, 3))], persons=2)


# --- bookability -------------------------------------------------------------------------------

WINDOW = (berlin(1, 1), berlin(5, 1))
RELEASED_AT_8 = SlotInfo(1, 1, "BNT", berlin(1, 12), berlin(1, 11, 8))
BEFORE_WINDOW = SlotInfo(
    1, 1, "BNT", datetime(2025, 12, 31, 23, tzinfo=TZ), datetime(2025, 12, 1, tzinfo=TZ)
)


def test_a_released_future_slot_inside_the_window_is_bookable() -> None:
    assert FIRST.is_bookable(berlin(1, 11), *WINDOW)
    assert RELEASED_AT_8.is_bookable(berlin(1, 11, 8), *WINDOW)  # from the release minute on


@pytest.mark.parametrize(
    ("slot", "now", "why"),
    [
        (SlotInfo(1, 1, "BNT", berlin(1, 12), None), berlin(1, 11), "never released"),
        (RELEASED_AT_8, berlin(1, 11, 7, 59), "released a minute later"),
        (FIRST, berlin(1, 12), "already started"),
        (info(1, berlin(5, 1)), berlin(1, 11), "window ends before it (exclusive)"),
        (BEFORE_WINDOW, datetime(2025, 12, 30, tzinfo=TZ), "starts before the window opens"),
    ],
)
def test_a_slot_is_not_bookable_when(slot: SlotInfo, now: datetime, why: str) -> None:
    assert not slot.is_bookable(now, *WINDOW), why


# --- the same person ---------------------------------------------------------------------------


def test_the_same_person_is_recognised_across_case_accents_and_spacing() -> None:
    born = date(1939, 5, 1)
    key = person_key("Erika", "Müller-Weiß", born)
    assert person_key(" ERIKA ", "muller weiss", born) == key
    assert person_key("Érika", "MÜLLER-WEISS", born) == key


def test_a_different_birth_date_or_name_is_another_person() -> None:
    born = date(1939, 5, 1)
    key = person_key("Erika", "Mustermann", born)
    assert person_key("Erika", "Mustermann", date(1939, 5, 2)) != key
    assert person_key("Erik", "Mustermann", born) != key


@pytest.mark.parametrize(
    ("first_name", "last_name", "what"),
    [
        ("Erіka", "Mustermann", "Cyrillic і (U+0456) for i"),
        ("Erika", "Mustеrmann", "Cyrillic е (U+0435) for e"),
        ("Еrikа", "Мustermann", "Cyrillic capitals Е, М and small а"),
        ("Erika", "Mustermαnn", "Greek α for a"),
        ("Εrika", "Mustermann", "Greek capital Ε for E"),
        ("Erika", "Μustermann", "Greek capital Μ for M"),
        ("Erika", "Mustermann​", "a zero-width space"),
        ("Erika", "Μusterμann", "Greek Μ and μ"),
        ("Ｅｒｉｋａ", "Ｍｕｓｔｅｒｍａｎｎ", "fullwidth letters"),
        ("𝐄𝐫𝐢𝐤𝐚", "Mustermann", "mathematical bold letters"),
        ("Erika", "Musterrnann", "rn for m"),
    ],
)
def test_hardening_7_look_alike_letters_make_the_same_person(
    first_name: str, last_name: str, what: str
) -> None:
    """Stops a second first dose booked under a name that only looks like the first one."""
    born = date(1939, 5, 1)
    assert person_key(first_name, last_name, born) == person_key("Erika", "Mustermann", born), what


def test_hardening_7_look_alikes_with_greek_omicron_and_in_other_scripts() -> None:
    """Stops look-alike doubles of names with o, p, c, x, y and of non-Latin names."""
    born = date(1939, 5, 1)
    latin = person_key("Olga", "Popov", born)
    assert person_key("Οlga", "Ροpον", born) == latin  # Greek ν looks like v
    assert person_key("Οlga", "Popoν", born) == latin
    assert person_key("Οlga", "Ρopov", born) == latin  # Greek capital Ο and Ρ
    assert person_key("Оlgа", "Рoроv", born) == latin  # Cyrillic О а Р о р
    assert person_key("Xenia", "Cyrus", born) == person_key("Хеniа", "Суrus", born)
    greek = person_key("Νίκος", "Παπαδόπουλος", born)
    assert person_key("ΝΙΚΟΣ", "ΠΑΠΑΔΟΠΟΥΛΟΣ", born) == greek  # case and accents, as before
    assert person_key("Νiκoς", "Παπαδoπoυλoς", born) == greek  # Latin i and o inside


def test_hardening_7_genuinely_different_names_stay_different_persons() -> None:
    """The look-alike folding must not merge names that differ to the eye."""
    born = date(1939, 5, 1)
    names = ["Erika", "Erik", "Ercka", "Emma", "Anna", "Arma", "Jan", "Ján", "Jana", "Olga"]
    names += ["Lina", "Iina", "Ali", "All", "Mia", "Mla"]  # i is not l
    keys = {person_key(name, "Mustermann", born) for name in names}
    assert len(keys) == len(names) - 1  # Ján is Jan without the accent, as before
    assert person_key("Müller", "X", born) != person_key("Miller", "X", born)
    assert person_key("Борис", "X", born) != person_key("Барис", "X", born)
    assert person_key("Борис", "X", born) == person_key("Бopиc", "X", born)  # Latin o, p, c


def test_a_person_key_fits_its_column_whatever_the_name() -> None:
    born = date(1939, 5, 1)
    # U+FDFA is one letter that NFKD spells with 18: the key would outgrow the column.
    long_key = person_key("\ufdfa" * 100, "\ufdfa" * 100, born)
    assert len(long_key) <= PERSON_KEY_LENGTH
    assert long_key == person_key("\ufdfa" * 100, "\ufdfa" * 100, born)
    assert long_key != person_key("\ufdfa" * 99, "\ufdfa" * 100, born)


def test_a_slot_that_cannot_be_booked_names_its_reason() -> None:
    now = berlin(1, 12, 9)
    window = (berlin(1, 11, 0), berlin(3, 9, 0))
    released = SlotInfo(7, 1, "BNT", berlin(1, 20, 9), berlin(1, 8, 8))
    assert released.refusal(now, *window) is None and released.is_bookable(now, *window)
    cases = {
        "in_the_past": SlotInfo(7, 1, "BNT", berlin(1, 12, 8), berlin(1, 8, 8)),
        "not_released": SlotInfo(7, 1, "BNT", berlin(1, 20, 9), berlin(1, 15, 8)),
        "outside_booking_window": SlotInfo(7, 1, "BNT", berlin(3, 20, 9), berlin(1, 8, 8)),
    }
    for reason, slot in cases.items():
        refusal = slot.refusal(now, *window)
        assert refusal is not None and refusal[0] == reason
        assert "slot 7" in refusal[1] and not slot.is_bookable(now, *window)
    unreleased = SlotInfo(7, 1, "BNT", berlin(1, 20, 9), None).refusal(now, *window)
    assert unreleased == ("not_released", "slot 7 is not released yet: no contingent holds it")
    later = cases["not_released"].refusal(now, *window)
    assert later is not None and "opens at 2026-01-15 08:00" in later[1]
