"""`kontingent purge-personal-data --ended-before YYYY-MM-DD [--dry-run]`: delete the persons'
personal data of bookings whose appointments are over (retention/service.py), from a server's
shell. Audited with the channel `cli` and the operating-system user who ran it."""

from __future__ import annotations

import asyncio
import getpass
from datetime import date
from typing import Annotated

import typer
from rich.console import Console

from kontingent.clock import SystemClock
from kontingent.config import SettingsError, ensure_sqlite_dir, load_settings
from kontingent.db import Database, make_engine
from kontingent.errors import InvalidInput
from kontingent.retention.service import Purged, Retention
from kontingent.staff.audit import Actor, Channel, Entry

console = Console(stderr=True)


def purge_personal_data(
    ended_before: Annotated[
        str,
        typer.Option(
            "--ended-before",
            help="YYYY-MM-DD: purge bookings whose last appointment was before this day",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="only count what would be purged")
    ] = False,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="KONTINGENT_DATABASE_URL")
    ] = None,
) -> None:
    """Delete names, birth dates, addresses, phones and e-mails of bookings whose appointments
    are over; keep the anonymous bookings and appointments (dates, centre, vaccine, channel)."""
    try:
        day = date.fromisoformat(ended_before)
        settings = load_settings(database_url=database_url)
    except ValueError:
        console.print(f"[red]error:[/red] {ended_before!r} is not a day: write it as YYYY-MM-DD")
        raise typer.Exit(2) from None
    except SettingsError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    ensure_sqlite_dir(settings.database_url)

    async def main() -> Purged:
        db = Database(make_engine(settings.database_url, schema=settings.database_schema))
        retention = Retention(db, SystemClock())
        try:
            if dry_run:
                return await retention.count(day)
            entry = Entry(Actor(f"cli:{getpass.getuser()}"), "", Channel.cli)
            return await retention.purge(day, entry)
        finally:
            await db.dispose()

    try:
        done = asyncio.run(main())
    except InvalidInput as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None
    verb = "would purge" if dry_run else "purged"
    console.print(f"{verb} the personal data of {done.persons} persons in {done.bookings} bookings")
