"""Password and name rules, session lifetimes and bearer parsing, without I/O."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kontingent.staff.model import (
    Lifetimes,
    Principal,
    Role,
    SessionKind,
    centre_problem,
    common_passwords,
    parse_bearer,
    password_problem,
    session_end,
    token_hash,
    username_problem,
)
from tests.support import T0

LIFE = Lifetimes(idle=timedelta(minutes=30), absolute=timedelta(hours=12))


def test_a_password_needs_twelve_characters() -> None:
    assert "use at least 12" in (password_problem("elf-zeichen", "anna") or "")
    assert password_problem("zwölf zeiche", "anna") is None


@pytest.mark.parametrize("password", ["password1234", "PassWort1234", "impfzentrum2021"])
def test_common_passwords_are_refused_whatever_their_case(password: str) -> None:
    assert "common passwords" in (password_problem(password, "anna") or "")


def test_the_common_list_is_read_from_the_package_and_holds_only_long_entries() -> None:
    listed = common_passwords()
    assert len(listed) > 50
    assert all(len(p) >= 12 for p in listed), "shorter ones are refused by length already"


def test_a_password_may_not_contain_the_user_name() -> None:
    assert "user name" in (password_problem("xx-hotline.meier-xx", "hotline.meier") or "")


@pytest.mark.parametrize("name", ["ab", "Anna", "-anna", "anna-", "an na", "a" * 41, "änna"])
def test_user_names_outside_the_rule_are_refused(name: str) -> None:
    assert username_problem(name) is not None


@pytest.mark.parametrize("name", ["anna", "hotline.meier", "a_b-c.d", "z" * 40])
def test_user_names_inside_the_rule_pass(name: str) -> None:
    assert username_problem(name) is None


def test_only_centre_staff_is_bound_to_centres_and_always_to_one_at_least() -> None:
    assert centre_problem(Role.centre_staff, ()) is not None
    assert centre_problem(Role.centre_staff, (1, 2)) is None
    assert centre_problem(Role.agent, (1,)) is not None
    assert centre_problem(Role.admin, ()) is None


def test_a_browser_session_ends_after_idle_time_or_at_the_absolute_end() -> None:
    assert session_end(SessionKind.browser, T0, T0, LIFE) == T0 + timedelta(minutes=30)
    late = T0 + timedelta(hours=11, minutes=50)
    assert session_end(SessionKind.browser, T0, late, LIFE) == T0 + timedelta(hours=12)


def test_an_api_token_ends_at_the_absolute_end_only() -> None:
    assert session_end(SessionKind.api, T0, T0, LIFE) == T0 + timedelta(hours=12)


def test_bearer_header_parsing() -> None:
    assert parse_bearer("Bearer abc") == "abc"
    assert parse_bearer("bearer  abc ") == "abc"
    assert parse_bearer("Basic abc") is None
    assert parse_bearer("Bearer ") is None
    assert parse_bearer(None) is None


def test_tokens_are_stored_as_sha256_hex() -> None:
    assert len(token_hash("x")) == 64
    assert token_hash("x") != token_hash("y")


def test_admins_see_every_centre_centre_staff_only_theirs() -> None:
    admin = Principal(1, "a", Role.admin, (), 1, SessionKind.api)
    staff = Principal(2, "c", Role.centre_staff, (3,), 2, SessionKind.api)
    assert admin.may_see_centre(7)
    assert staff.may_see_centre(3) and not staff.may_see_centre(7)
