"""Staff accounts in pure terms: roles, names, password rules, session lifetimes.

Invariants kept here:
- A role is one of `agent`, `centre_staff`, `admin`; a `centre_staff` account is bound to one
  or more centres and only they are its centres; the other roles are bound to none (an admin
  sees every centre, an agent books wherever the caller may go).
- A password is at least 12 characters, not the user name, and not on the list of common
  passwords shipped beside this module (`common-passwords.txt`), compared case-insensitively.
- A session token is 32 random bytes, shown once; only its SHA-256 is stored, so a copy of the
  database lets nobody in. SHA-256 and not argon2 here: the token has 256 bits of entropy, so
  nothing is gained by a slow hash, and it is looked up on every request.
- A browser session ends after `idle` without a request, and in any case `absolute` after the
  login; an API token ends `absolute` after it was issued. Revoked is revoked at once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200  # argon2 hashes any length; this only stops absurd inputs
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,38}[a-z0-9]")
USERNAME_RULE = "3 to 40 characters: lower-case letters, digits, '.', '_' or '-'"


class Role(StrEnum):
    agent = "agent"
    centre_staff = "centre_staff"
    admin = "admin"


class SessionKind(StrEnum):
    browser = "browser"  # the session cookie of the staff pages
    api = "api"  # a bearer token from POST /api/v1/auth/token


@dataclass(frozen=True, slots=True)
class StaffUser:
    id: int
    username: str
    role: Role
    centre_ids: tuple[int, ...]
    disabled: bool


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting in a request: the account and the session it came with."""

    user_id: int
    username: str
    role: Role
    centre_ids: tuple[int, ...]
    session_id: int
    kind: SessionKind

    def may_see_centre(self, centre_id: int) -> bool:
        return self.role is Role.admin or centre_id in self.centre_ids


@dataclass(frozen=True, slots=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta


def normalise_username(raw: str) -> str:
    return raw.strip().lower()


def username_problem(username: str) -> str | None:
    if not USERNAME.fullmatch(username):
        return f"the user name {username!r} is not usable: {USERNAME_RULE}"
    return None


def centre_problem(role: Role, centre_ids: tuple[int, ...]) -> str | None:
    if role is Role.centre_staff and not centre_ids:
        return "a centre_staff account needs at least one --centre ID"
    if role is not Role.centre_staff and centre_ids:
        return f"only centre_staff accounts are bound to centres, not {role.value}"
    return None


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files(__package__).joinpath("common-passwords.txt").read_text("utf-8")
    lines = (line.strip().casefold() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def password_problem(password: str, username: str) -> str | None:
    """What is wrong with `password` for `username`, in words that say what to do; None: fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return (
            f"the password has {len(password)} characters: use at least "
            f"{MIN_PASSWORD_LENGTH} (a few unrelated words make a good one)"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password is longer than {MAX_PASSWORD_LENGTH} characters"
    folded = password.casefold()
    if folded == username.casefold() or username.casefold() in folded:
        return "the password must not contain the user name"
    if folded in common_passwords():
        return "this password is on the list of common passwords: choose another"
    return None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_end(
    kind: SessionKind, created: datetime, last_seen: datetime, lifetimes: Lifetimes
) -> datetime:
    """When a session stops being valid if nobody uses it again."""
    absolute = created + lifetimes.absolute
    if kind is SessionKind.api:
        return absolute
    return min(absolute, last_seen + lifetimes.idle)


def parse_bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
