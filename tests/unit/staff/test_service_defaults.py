"""The service hashes with argon2id at the library's defaults (RFC 9106's low-memory profile)
unless told otherwise; the tests' cheaper hasher (tests/conftest.py) must not leak into it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from argon2 import Type, profiles

from kontingent.clock import FixedClock
from kontingent.staff.model import Lifetimes
from kontingent.staff.service import Staff
from tests.support import T0


def test_the_production_hasher_is_argon2id_at_the_rfc_9106_low_memory_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unused: Any = None  # neither the database nor the lock-out is touched here
    life = Lifetimes(timedelta(minutes=30), timedelta(hours=12))
    cheap = Staff(unused, FixedClock(T0), life, unused).hasher
    assert cheap.memory_cost == profiles.CHEAPEST.memory_cost  # the tests' fixture
    monkeypatch.undo()
    real = Staff(unused, FixedClock(T0), life, unused).hasher
    assert real.type is Type.ID
    assert real.memory_cost == profiles.RFC_9106_LOW_MEMORY.memory_cost
    assert real.time_cost == profiles.RFC_9106_LOW_MEMORY.time_cost
