"""The waiting room's settings: read from KONTINGENT_WAITING_ROOM_*, checked at start."""

from __future__ import annotations

import pytest

from kontingent.config import SettingsError, load_settings
from kontingent.waiting_room.model import Mode
from kontingent.waiting_room.service import config_from

OPENS = "2026-01-25T08:00:00+01:00"


def test_the_room_is_off_unless_asked_for_and_scheduled_when_switched_on() -> None:
    assert config_from(load_settings({})).mode is Mode.OFF
    on = config_from(load_settings({"KONTINGENT_WAITING_ROOM": "true"}))
    assert on.mode is Mode.SCHEDULED and on.opens_at is None
    env = {
        "KONTINGENT_WAITING_ROOM_MODE": "auto",
        "KONTINGENT_WAITING_ROOM_OPENS_AT": OPENS,
        "KONTINGENT_WAITING_ROOM_ADMISSION_RATE": "120",
        "KONTINGENT_WAITING_ROOM_ADMISSION_TTL_S": "600",
        "KONTINGENT_WAITING_ROOM_AUTO_THRESHOLD": "80",
    }
    room = config_from(load_settings(env))
    assert (room.mode, room.rate, room.ttl_s, room.threshold) == (Mode.AUTO, 120, 600, 80)
    assert room.opens_at == 1769324400.0


def test_the_older_admission_rate_name_is_still_read() -> None:
    settings = load_settings({"KONTINGENT_ADMISSION_RATE": "150"})
    assert settings.waiting_room_admission_rate == 150


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"KONTINGENT_WAITING_ROOM_MODE": "sometimes"}, "KONTINGENT_WAITING_ROOM_MODE"),
        ({"KONTINGENT_WAITING_ROOM_OPENS_AT": "2026-01-25T08:00"}, "with its offset"),
        ({"KONTINGENT_WAITING_ROOM_OPENS_AT": "8 o'clock"}, "with its offset"),
        ({"KONTINGENT_WAITING_ROOM_ADMISSION_RATE": "0"}, "ADMISSION_RATE must be above 0"),
        ({"KONTINGENT_WAITING_ROOM_ADMISSION_RATE": "fast"}, "must be a number"),
        (
            {"KONTINGENT_WAITING_ROOM": "true", "KONTINGENT_WORKERS": "2"},
            "needs KONTINGENT_REDIS_URL",
        ),
    ],
)
def test_bad_settings_stop_the_start_naming_what_to_fix(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(env)


def test_several_workers_share_a_room_through_redis() -> None:
    env = {
        "KONTINGENT_WAITING_ROOM": "true",
        "KONTINGENT_WORKERS": "2",
        "KONTINGENT_REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    assert load_settings(env).workers == 2
