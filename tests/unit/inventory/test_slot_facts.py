"""The slot facts a booking checks (kontingent.inventory.slot_facts): kept by slot id, the
released ones until their centre and vaccine change, the others for the TTL only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kontingent.booking.model import SlotInfo
from kontingent.inventory import slot_facts
from kontingent.inventory.slot_facts import SlotFacts

START = datetime(2026, 1, 13, 8, 0, tzinfo=UTC)
RELEASE = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _info(slot_id: int, centre: int = 1, vaccine: str = "BNT", released: bool = True) -> SlotInfo:
    at = START + timedelta(minutes=10 * slot_id)
    return SlotInfo(slot_id, centre, vaccine, at, RELEASE if released else None)


def test_facts_with_a_release_minute_outlive_the_ttl_and_the_others_do_not() -> None:
    ticks = Ticks()
    facts = SlotFacts(ttl_s=1, monotonic=ticks)
    facts.remember([_info(1), _info(2, released=False)])
    assert set(facts.known([1, 2, 3])) == {1, 2}
    ticks.now += 3600
    assert facts.known([1, 2]) == {1: _info(1)}, "a release may give slot 2 its minute"


def test_a_change_of_a_centre_and_vaccine_forgets_its_facts_only() -> None:
    facts = SlotFacts(ttl_s=1)
    facts.remember([_info(1), _info(2, vaccine="MOD"), _info(3, centre=2)])
    facts.forget_family((1, "BNT"))
    assert set(facts.known([1, 2, 3])) == {2, 3}
    facts.forget_family((1, "BNT"))  # nothing left of it: no error
    facts.clear()
    assert facts.known([2, 3]) == {}


def test_with_the_cache_off_nothing_is_kept() -> None:
    facts = SlotFacts(ttl_s=0)
    facts.remember([_info(1)])
    assert facts.known([1]) == {} and facts.size() == 0


def test_past_the_bound_the_store_starts_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slot_facts, "MAX_FACTS", 3)
    facts = SlotFacts(ttl_s=1)
    facts.remember([_info(i) for i in range(1, 5)])  # 4 > 3, kept until the next remember
    facts.remember([_info(9)])
    assert facts.size() == 1 and set(facts.known([1, 9])) == {9}
