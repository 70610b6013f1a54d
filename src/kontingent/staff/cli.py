"""`kontingent user add|list|disable|reset-password`: staff accounts from a server's shell.

Passwords are read from a hidden prompt (asked twice) or, with --password-stdin, as one line
on standard input, never from an option (it would stay in the shell history and in `ps`).
Every change is audited with the channel `cli` and the operating-system user who ran it.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from kontingent.clock import SystemClock
from kontingent.config import SettingsError, ensure_sqlite_dir, load_settings
from kontingent.db import Database, make_engine
from kontingent.errors import KontingentError
from kontingent.staff.audit import Actor, Channel, Entry
from kontingent.staff.model import Role
from kontingent.staff.service import Staff

commands = typer.Typer(help="Staff accounts: add, list, disable, reset a password.")
console = Console(stderr=True)
T = TypeVar("T")
DatabaseUrl = Annotated[str | None, typer.Option("--database-url", help="KONTINGENT_DATABASE_URL")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password as one line on stdin")
]


def _entry() -> Entry:
    return Entry(Actor(f"cli:{getpass.getuser()}"), "", Channel.cli)


def _with_staff(database_url: str | None, work: Callable[[Staff], Awaitable[T]]) -> T:
    from kontingent.services import staff_for

    try:
        settings = load_settings(database_url=database_url)
    except SettingsError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    ensure_sqlite_dir(settings.database_url)

    async def main() -> T:
        db = Database(make_engine(settings.database_url, schema=settings.database_schema))
        staff = staff_for(settings, db, SystemClock())
        try:
            return await work(staff)
        finally:
            await staff.lockouts.aclose()
            await db.dispose()

    try:
        return asyncio.run(main())
    except KontingentError as exc:
        console.print(f"[red]error:[/red] {exc.message}", highlight=False)
        raise typer.Exit(1) from None


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        console.print("[red]error:[/red] the two passwords differ: nothing was changed")
        raise typer.Exit(1)
    return first


@commands.command("add")
def add(
    username: str,
    role: Annotated[Role, typer.Option("--role", help="agent, centre_staff or admin")],
    centre: Annotated[
        list[int] | None, typer.Option("--centre", help="a centre id (centre_staff; repeat)")
    ] = None,
    password_stdin: PasswordStdin = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a staff account."""
    password = _password(password_stdin)
    user = _with_staff(
        database_url, lambda s: s.add_user(username, role, password, centre or [], _entry())
    )
    bound = f" bound to centre(s) {', '.join(map(str, user.centre_ids))}" if user.centre_ids else ""
    console.print(f"added {user.username} ({user.role.value}){bound}", highlight=False)


@commands.command("list")
def list_users(database_url: DatabaseUrl = None) -> None:
    """List the staff accounts."""
    for user in _with_staff(database_url, lambda s: s.users()):
        centres = ",".join(map(str, user.centre_ids)) or "-"
        state = "disabled" if user.disabled else "active"
        print(f"{user.username}\t{user.role.value}\t{centres}\t{state}")


@commands.command("disable")
def disable(username: str, database_url: DatabaseUrl = None) -> None:
    """Disable an account and end its sessions at once."""
    _with_staff(database_url, lambda s: s.disable(username, _entry()))
    console.print(f"disabled {username}; its sessions are ended", highlight=False)


@commands.command("reset-password")
def reset_password(
    username: str, password_stdin: PasswordStdin = False, database_url: DatabaseUrl = None
) -> None:
    """Set a new password, end the account's sessions and lift a login lock."""
    password = _password(password_stdin)
    _with_staff(database_url, lambda s: s.reset_password(username, password, _entry()))
    console.print(f"new password set for {username}; its sessions are ended", highlight=False)
