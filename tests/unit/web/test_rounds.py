"""A form's failed round in the flow cookie, the couple's same-address rule, and the
hotline's tel: links: pure functions, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup

from kontingent.web import forms, session
from kontingent.web.i18n import tel_links

NOW = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)


def test_a_round_survives_the_cookie_with_its_messages_and_values() -> None:
    kept = session.Round("/details?offer=1-2", {"p0.city": "Ort fehlt."}, {"p0.city": ""})
    raw = session.encode(session.Flow(born="1939-05-01", round=kept), "secret", NOW)
    assert session.decode(raw, "secret", NOW).round == kept


def test_a_round_too_big_for_a_cookie_loses_values_then_messages_never_the_flow() -> None:
    big = {f"p{i}.{f}": "x" * 300 for i in (0, 1) for f in forms.PERSON_FIELDS}
    kept = session.Round("/details?offer=1-2", {"p0.city": "Ort fehlt."}, big)
    raw = session.encode(session.Flow(born="1939-05-01", draft=big, round=kept), "secret", NOW)
    assert len(raw) < 4096
    back = session.decode(raw, "secret", NOW)
    assert back.born == "1939-05-01" and back.draft is None
    assert back.round == session.Round("/details?offer=1-2", {"p0.city": "Ort fehlt."})
    huge = session.Round("/x", {f"f{i}": "y" * 300 for i in range(12)}, big)
    back = session.decode(session.encode(session.Flow(round=huge), "s", NOW), "s", NOW)
    assert back.round == session.Round("/x")


def test_same_address_copies_the_first_persons_address_only_when_ticked() -> None:
    first = dict.fromkeys(forms.PERSON_FIELDS, "a") | {"street": "Lindenweg", "city": "Hamm"}
    ticked = dict.fromkeys(forms.PERSON_FIELDS, "") | {"first_name": "Jo", "same_address": "1"}
    unticked = ticked | {"same_address": "", "street": "Eigene Straße"}
    [_, copied] = forms.same_address([first, ticked])
    assert copied["street"] == "Lindenweg" and copied["city"] == "Hamm"
    assert copied["first_name"] == "Jo" and "same_address" not in copied
    [_, own] = forms.same_address([first, unticked])
    assert own["street"] == "Eigene Straße" and "same_address" not in own


def test_the_hotline_becomes_a_tel_link_and_the_rest_stays_escaped() -> None:
    linked = tel_links("Rufen Sie <b>116 117</b> an oder 116 117.")
    assert isinstance(linked, Markup)
    assert str(linked) == (
        'Rufen Sie &lt;b&gt;<a href="tel:116117" class="tel">116\u00a0117</a>&lt;/b&gt; an oder '
        '<a href="tel:116117" class="tel">116\u00a0117</a>.'
    )
    assert tel_links("keine Nummer") == "keine Nummer"
    assert tel_links(42) == 42
