"""Wiring the services (kontingent.services): the clock they share."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kontingent.clock import OffsetClock, SystemClock
from kontingent.config import Settings, SettingsError
from kontingent.services import clock_for


def test_the_services_clock_is_the_system_clock_unless_a_demo_shifts_it() -> None:
    assert isinstance(clock_for(Settings()), SystemClock)
    shifted = clock_for(Settings(demo=True, clock_offset_s=90.0))
    assert isinstance(shifted, OffsetClock) and shifted.offset == timedelta(seconds=90)


def test_settings_built_without_check_still_cannot_shift_a_production_clock() -> None:
    with pytest.raises(SettingsError, match="KONTINGENT_CLOCK_OFFSET_S"):
        clock_for(Settings(clock_offset_s=90.0))
