"""Pure checks of the portal's building blocks (no I/O): dates read as people write them, and
the session cookie cannot be forged, altered or kept past its expiry. The texts' own checks
are in tests/unit/i18n."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from kontingent.web import forms, session

WEB = Path(forms.__file__).parent
USED = re.compile(r"""\bt\(\s*f?["']([a-z0-9_.{}]+)["']""")
NOW = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "iso"),
    [
        ("01.05.1939", "1939-05-01"),
        ("1.5.1939", "1939-05-01"),
        (" 1. 5. 1939 ", "1939-05-01"),
        ("1939-05-01", "1939-05-01"),
        ("31.02.1939", "1939-02-31"),  # passed on: the domain says it is not a real date
        ("<b>", "<b>"),
    ],
)
def test_birth_dates_as_people_write_them(typed: str, iso: str) -> None:
    assert forms.iso_date(typed) == iso


@pytest.mark.parametrize(
    ("key", "slot_ids"),
    [("12-40", [12, 40]), ("7-7-9-9", [7, 7, 9, 9]), ("", None), ("1-x", None), ("-1", None)],
)
def test_offer_keys(key: str, slot_ids: list[int] | None) -> None:
    assert forms.parse_offer(key) == slot_ids
    assert forms.parse_offer("-".join(["1"] * 9)) is None  # more than one offer can hold


def test_the_session_round_trips() -> None:
    flow = session.Flow(born="1939-05-01", postcode="33602", draft={"p0.first_name": "Käthe"})
    raw = session.encode(flow, "secret", NOW)
    back = session.decode(raw, "secret", NOW + timedelta(hours=1))
    assert back.born == "1939-05-01" and back.draft == {"p0.first_name": "Käthe"}


@pytest.mark.parametrize(
    "mangle",
    [
        lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"),  # signature altered
        lambda raw: ("f" if raw[0] != "f" else "g") + raw[1:],  # payload altered
        lambda raw: raw.split(".")[0],  # signature cut off
        lambda raw: raw + ".x",
        lambda raw: "",
        lambda raw: "ä.ö",
        lambda raw: "x" * 5000,
    ],
)
def test_an_altered_session_reads_as_empty(mangle: object) -> None:
    raw = session.encode(session.Flow(born="1939-05-01"), "secret", NOW)
    assert session.decode(mangle(raw), "secret", NOW) == session.Flow()  # type: ignore[operator]


def test_a_session_of_another_key_or_past_its_expiry_reads_as_empty() -> None:
    raw = session.encode(session.Flow(born="1939-05-01"), "secret", NOW)
    assert session.decode(raw, "other", NOW) == session.Flow()
    assert session.decode(raw, "secret", NOW + session.TTL) == session.Flow()
    assert session.decode(raw, "secret", NOW + session.TTL - timedelta(seconds=1)).born


def test_person_values_become_what_the_booking_service_takes() -> None:
    people = [dict.fromkeys(forms.PERSON_FIELDS, "x") | {"birth_date": "1.5.1939", "email": ""}]
    [sent] = forms.for_domain(people)
    assert sent["birth_date"] == date(1939, 5, 1).isoformat()
    assert "email" not in sent


def test_a_draft_too_big_for_a_cookie_is_left_out_not_the_flow() -> None:
    big = {f"p{i}.{f}": "x" * 300 for i in (0, 1) for f in forms.PERSON_FIELDS}
    raw = session.encode(session.Flow(born="1939-05-01", draft=big), "secret", NOW)
    assert len(raw) < 4096
    back = session.decode(raw, "secret", NOW)
    assert back.born == "1939-05-01" and back.draft is None
