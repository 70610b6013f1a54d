"""Settings (kontingent.config): read from KONTINGENT_* variables, options win, and a bad
value stops the service with a message that names the variable and says what to put there."""

from __future__ import annotations

import pytest

from kontingent.config import (
    DEFAULT_SQLITE_URL,
    MIN_METRICS_TOKEN_LENGTH,
    MIN_SECRET_LENGTH,
    Settings,
    SettingsError,
    cors_origins,
    load_settings,
)

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
LONG_SECRET = "s" * MIN_SECRET_LENGTH


def test_without_variables_the_embedded_defaults_apply() -> None:
    settings = load_settings({})
    assert settings.database_url == DEFAULT_SQLITE_URL
    assert settings.is_sqlite and settings.dev_mailbox
    assert (settings.redis_url, settings.smtp_url, settings.sms_gateway_url) == (None, None, None)
    assert (settings.port, settings.workers, settings.demo) == (8000, 1, False)


def test_kontingent_variables_are_read_and_typed() -> None:
    settings = load_settings(
        {
            "KONTINGENT_DATABASE_URL": PG,
            "KONTINGENT_REDIS_URL": "redis://127.0.0.1:6379/0",
            "KONTINGENT_SMTP_URL": "smtp://127.0.0.1:8025",
            "KONTINGENT_SMS_GATEWAY_URL": "http://127.0.0.1:9000/sms",
            "KONTINGENT_SECRET_KEY": LONG_SECRET,
            "KONTINGENT_PORT": "8080",
            "KONTINGENT_WORKERS": "4",
            "KONTINGENT_DEMO": "yes",
            "KONTINGENT_WAITING_ROOM": "On",
            "KONTINGENT_EMBEDDED_RELAY": "0",
            "KONTINGENT_AVAILABILITY_TTL_S": "0.5",
            "OTHER_PORT": "1",
        }
    )
    assert settings == Settings(
        database_url=PG,
        redis_url="redis://127.0.0.1:6379/0",
        smtp_url="smtp://127.0.0.1:8025",
        sms_gateway_url="http://127.0.0.1:9000/sms",
        secret_key=LONG_SECRET,
        port=8080,
        workers=4,
        demo=True,
        waiting_room=True,
        embedded_relay=False,
        availability_ttl_s=0.5,
    )
    assert not settings.is_sqlite and not settings.dev_mailbox


def test_options_win_over_variables_and_unset_options_do_not() -> None:
    env = {"KONTINGENT_PORT": "8080", "KONTINGENT_DATABASE_URL": PG}
    settings = load_settings(env, port=9000, database_url=None)
    assert settings.port == 9000
    assert settings.database_url == PG


def test_the_process_environment_is_read_when_no_mapping_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KONTINGENT_PORT", "8123")
    assert load_settings().port == 8123
    assert load_settings({}).port == 8000


@pytest.mark.parametrize(
    ("name", "raw", "words"),
    [
        ("KONTINGENT_PORT", "eighty", "KONTINGENT_PORT must be a number, not 'eighty'"),
        ("KONTINGENT_WORKERS", "2.5", "KONTINGENT_WORKERS must be a number, not '2.5'"),
        ("KONTINGENT_AVAILABILITY_TTL_S", "1s", "KONTINGENT_AVAILABILITY_TTL_S must be a number"),
        ("KONTINGENT_DEMO", "maybe", "KONTINGENT_DEMO must be true or false, not 'maybe'"),
    ],
)
def test_a_value_of_the_wrong_kind_names_the_variable_and_the_kind(
    name: str, raw: str, words: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({name: raw})
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("name", "url", "words"),
    [
        (
            "KONTINGENT_DATABASE_URL",
            "mysql://root:hunter2@db/kontingent",
            "KONTINGENT_DATABASE_URL has the scheme 'mysql': use a URL starting with "
            "sqlite+aiosqlite:// or postgresql+asyncpg://",
        ),
        ("KONTINGENT_DATABASE_URL", "postgresql://postgres@db/test", "postgresql+asyncpg://"),
        ("KONTINGENT_DATABASE_URL", "./var/kontingent.sqlite3", "has no scheme"),
        ("KONTINGENT_DATABASE_URL", "", "has no scheme"),
        ("KONTINGENT_REDIS_URL", "http://127.0.0.1:6379", "redis:// or rediss:// or unix://"),
        ("KONTINGENT_SMTP_URL", "imap://mail.example.org", "smtp:// or smtps://"),
        ("KONTINGENT_SMS_GATEWAY_URL", "ftp://gateway", "http:// or https://"),
    ],
)
def test_an_unknown_url_scheme_is_refused_naming_the_schemes_that_work(
    name: str, url: str, words: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({name: url})
    assert name in str(caught.value)
    assert words in str(caught.value)
    assert "hunter2" not in str(caught.value)  # a URL's password never reaches the console


def test_an_empty_optional_url_means_not_configured() -> None:
    settings = load_settings({"KONTINGENT_REDIS_URL": "", "KONTINGENT_SMTP_URL": ""})
    assert settings.dev_mailbox


@pytest.mark.parametrize(
    "url",
    ["rediss://cache.example.org:6380/1", "unix:///run/redis.sock"],
)
def test_every_supported_redis_scheme_is_accepted(url: str) -> None:
    assert load_settings({"KONTINGENT_REDIS_URL": url}).redis_url == url


def test_outside_demo_mode_the_built_in_secret_is_refused() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({}).check()
    assert "KONTINGENT_SECRET_KEY is not set" in str(caught.value)
    assert "--demo" in str(caught.value)


def test_outside_demo_mode_a_short_secret_is_refused_saying_how_long_it_must_be() -> None:
    short = "s" * (MIN_SECRET_LENGTH - 1)
    with pytest.raises(SettingsError) as caught:
        load_settings({"KONTINGENT_SECRET_KEY": short}).check()
    message = str(caught.value)
    assert f"KONTINGENT_SECRET_KEY is too short ({len(short)} characters)" in message
    assert f"at least {MIN_SECRET_LENGTH} random characters" in message
    assert short not in message


def test_a_long_secret_passes_and_demo_mode_needs_none() -> None:
    settings = load_settings({"KONTINGENT_SECRET_KEY": LONG_SECRET})
    assert settings.check() is settings
    assert load_settings({}, demo=True).check().demo


def test_at_least_one_worker_is_needed() -> None:
    with pytest.raises(SettingsError, match="workers must be 1 or more"):
        load_settings({"KONTINGENT_WORKERS": "0"}, demo=True).check()


def test_hardening_11_demo_mode_binds_to_loopback_unless_public_is_asked_for() -> None:
    """Stops a demo (public secret, every PIN readable) from being served to a network."""
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        assert load_settings({"KONTINGENT_HOST": host}, demo=True).check().host == host
    for host in ("0.0.0.0", "::", "192.0.2.1", "demo.example.org"):  # noqa: S104
        with pytest.raises(SettingsError, match="--demo-public") as caught:
            load_settings({"KONTINGENT_HOST": host}, demo=True).check()
        assert f"not on {host}" in str(caught.value)
        public = {"KONTINGENT_HOST": host, "KONTINGENT_DEMO_PUBLIC": "true"}
        assert load_settings(public, demo=True).check().demo_public
        outside_demo = {"KONTINGENT_HOST": host, "KONTINGENT_SECRET_KEY": LONG_SECRET}
        assert load_settings(outside_demo).check().host == host  # production binds anywhere


def test_cors_origins_are_read_as_origins_and_anything_else_is_refused() -> None:
    settings = load_settings(
        {"KONTINGENT_CORS_ORIGINS": "https://app.example.org, http://localhost:3000/"}
    )
    assert cors_origins(settings.cors_origins) == [
        "https://app.example.org",
        "http://localhost:3000",
    ]
    assert cors_origins("") == []
    for bad in ("app.example.org", "https://a.org/path", "ftp://a.org", "https://a.org:x", "null"):
        with pytest.raises(SettingsError, match="KONTINGENT_CORS_ORIGINS") as caught:
            load_settings({"KONTINGENT_CORS_ORIGINS": bad})
        assert "scheme://host" in str(caught.value)


def test_a_metrics_token_must_be_long_enough_to_resist_guessing() -> None:
    assert load_settings({}).metrics_token == ""  # the default: open, as before
    token = "t" * MIN_METRICS_TOKEN_LENGTH
    assert load_settings({"KONTINGENT_METRICS_TOKEN": token}).metrics_token == token
    for bad in ("short", "t" * MIN_METRICS_TOKEN_LENGTH + " x"):
        with pytest.raises(SettingsError, match="KONTINGENT_METRICS_TOKEN must be at least"):
            load_settings({"KONTINGENT_METRICS_TOKEN": bad})


def test_database_timeouts_are_read_and_refused_below_zero() -> None:
    settings = load_settings(
        {"KONTINGENT_DB_STATEMENT_TIMEOUT_S": "7.5", "KONTINGENT_DB_LOCK_TIMEOUT_S": "0"}
    )
    assert (settings.db_statement_timeout_s, settings.db_lock_timeout_s) == (7.5, 0.0)
    assert (Settings().db_statement_timeout_s, Settings().db_lock_timeout_s) == (5.0, 2.0)
    with pytest.raises(SettingsError, match="KONTINGENT_DB_LOCK_TIMEOUT_S must be 0"):
        load_settings({"KONTINGENT_DB_LOCK_TIMEOUT_S": "-1"})
    assert Settings().db_pool_wait_s == 5.0
    assert load_settings({"KONTINGENT_DB_POOL_WAIT_S": "0.5"}).db_pool_wait_s == 0.5
    with pytest.raises(SettingsError, match="KONTINGENT_DB_POOL_WAIT_S must be above 0"):
        load_settings({"KONTINGENT_DB_POOL_WAIT_S": "0"})


def test_pins_per_phone_per_day_is_read_from_the_environment_and_kept_sensible() -> None:
    assert Settings().pins_per_phone_per_day == 5
    assert load_settings({"KONTINGENT_PINS_PER_PHONE_PER_DAY": "8"}).pins_per_phone_per_day == 8
    for bad in ("0", "101"):
        with pytest.raises(SettingsError, match="KONTINGENT_PINS_PER_PHONE_PER_DAY must be"):
            load_settings({"KONTINGENT_PINS_PER_PHONE_PER_DAY": bad})
    with pytest.raises(SettingsError, match="must be a number"):
        load_settings({"KONTINGENT_PINS_PER_PHONE_PER_DAY": "five"})


def test_the_phone_share_and_its_release_are_read_and_kept_sensible() -> None:
    assert (Settings().phone_share_percent, Settings().phone_release_hours) == (20, 48)
    read = load_settings(
        {"KONTINGENT_PHONE_SHARE_PERCENT": "0", "KONTINGENT_PHONE_RELEASE_HOURS": "24"}
    )
    assert (read.phone_share_percent, read.phone_release_hours) == (0, 24)
    for name, bad in (("PHONE_SHARE_PERCENT", "101"), ("PHONE_RELEASE_HOURS", "-1")):
        with pytest.raises(SettingsError, match=f"KONTINGENT_{name} must be a whole number"):
            load_settings({f"KONTINGENT_{name}": bad})


def test_a_clock_offset_is_refused_outside_demo_mode_and_read_in_it() -> None:
    """The benchmark's --now shifts the served clock; production must never run shifted."""
    shifted = {"KONTINGENT_SECRET_KEY": LONG_SECRET, "KONTINGENT_CLOCK_OFFSET_S": "-3600"}
    with pytest.raises(SettingsError, match=r"KONTINGENT_CLOCK_OFFSET_S .* demos and benchmarks"):
        load_settings(shifted).check()
    assert load_settings({**shifted, "KONTINGENT_DEMO": "true"}).check().clock_offset_s == -3600
    assert load_settings({"KONTINGENT_SECRET_KEY": LONG_SECRET}).check().clock_offset_s == 0


def test_the_availability_ttls_are_read_and_refused_below_zero() -> None:
    settings = load_settings({"KONTINGENT_AVAILABILITY_SETTLED_TTL_S": "60"})
    assert (settings.availability_ttl_s, settings.availability_settled_ttl_s) == (1.0, 60.0)
    for name in ("AVAILABILITY_TTL_S", "AVAILABILITY_SETTLED_TTL_S"):
        with pytest.raises(SettingsError, match=f"KONTINGENT_{name} must be 0"):
            load_settings({f"KONTINGENT_{name}": "-1"})
