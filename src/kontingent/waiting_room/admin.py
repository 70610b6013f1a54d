"""`kontingent waiting-room status|set`: operators watch and steer the room at run time.

The settings written here go to the database (KONTINGENT_DATABASE_URL: what a Redis that
came back empty gets back) and then to the store every process reads once a second, so they
need Redis (KONTINGENT_REDIS_URL) too. In embedded mode the queue lives inside the one server
process, out of this command's reach: there the room is set with KONTINGENT_WAITING_ROOM_* at
start.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console

from kontingent.clock import BERLIN, Clock, SystemClock
from kontingent.config import Settings, SettingsError, load_settings
from kontingent.db import Database, make_engine
from kontingent.errors import KontingentError
from kontingent.waiting_room.model import Mode
from kontingent.waiting_room.service import RoomStats, waiting_room_for

commands = typer.Typer(help="Watch and steer the waiting room (needs KONTINGENT_REDIS_URL).")
console = Console(stderr=True)
RedisUrl = Annotated[str | None, typer.Option("--redis-url", help="KONTINGENT_REDIS_URL")]
DatabaseUrl = Annotated[str | None, typer.Option("--database-url", help="KONTINGENT_DATABASE_URL")]


def parse_opening(text: str, now: datetime) -> float | None:
    """ISO 8601 with offset, or HH:MM: the next such minute in Europe/Berlin; 'none' clears."""
    if text.strip().lower() in ("none", "off", ""):
        return None
    try:
        wall = time.fromisoformat(text)
    except ValueError:
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is neither HH:MM nor ISO 8601") from None
        if at.tzinfo is None:
            raise ValueError(
                "give the opening with its offset, like 2021-01-25T08:00+01:00"
            ) from None
        return at.timestamp()
    local = now.astimezone(BERLIN)
    at = datetime.combine(local.date(), wall, BERLIN)
    return (at if at > local else at + timedelta(days=1)).timestamp()


def _settings(redis_url: str | None, database_url: str | None = None) -> Settings:
    try:
        settings = load_settings(redis_url=redis_url, database_url=database_url)
    except SettingsError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if not settings.redis_url:
        console.print(
            "[red]error:[/red] the waiting room's run-time settings live in Redis: set "
            "KONTINGENT_REDIS_URL. Without Redis (embedded mode) the queue lives inside the "
            "server process: set KONTINGENT_WAITING_ROOM_* and restart it instead."
        )
        raise typer.Exit(2)
    return settings


def _show(stats: RoomStats, opens_at: float | None) -> None:
    opening = "-" if opens_at is None else datetime.fromtimestamp(opens_at, BERLIN).isoformat()
    rows = [
        ("mode", stats.mode),
        ("guarding verification and booking", "yes" if stats.guarding else "no"),
        ("opens at", opening),
        ("admission rate (set / effective)", f"{stats.rate:g} / {stats.effective_rate:g} per s"),
        ("admitted per second (last 30 s)", f"{stats.admitted_per_s:.1f}"),
        ("waiting", str(stats.waiting)),
        ("serving (admitted so far)", str(stats.serving)),
        ("admissions expired unused / recycled", f"{stats.expired} / {stats.recycled}"),
        ("store", "UNREACHABLE: admission paused" if stats.paused else "ok"),
    ]
    for name, value in rows:
        typer.echo(f"{name:<40} {value}")


def _run(settings: Settings, changes: dict[str, Any], clock: Clock) -> int:
    async def main() -> int:
        db = Database(make_engine(settings.database_url, schema=settings.database_schema))
        room = waiting_room_for(settings, clock, db)
        try:
            if changes:
                await room.configure(**changes)
            stats = await room.stats()
            _show(stats, room.config.opens_at)
            return 1 if stats.paused else 0
        except KontingentError as exc:  # Redis or the database unreachable: nothing changed
            console.print(f"[red]error:[/red] {exc.message}")
            return 1
        finally:
            await room.aclose()
            await db.dispose()

    return asyncio.run(main())


@commands.command()
def status(redis_url: RedisUrl = None, database_url: DatabaseUrl = None) -> None:
    """Show the room: mode, opening, rates, waiting, serving."""
    raise typer.Exit(_run(_settings(redis_url, database_url), {}, SystemClock()))


@commands.command("set")
def set_room(
    mode: Annotated[Mode | None, typer.Option(help="off, scheduled or auto")] = None,
    opens_at: Annotated[
        str | None, typer.Option(help="08:00 (next, Berlin time), ISO 8601, or none")
    ] = None,
    rate: Annotated[float | None, typer.Option(min=0.01, help="admissions per second")] = None,
    ttl: Annotated[float | None, typer.Option(min=10, help="seconds an admission lasts")] = None,
    threshold: Annotated[
        float | None, typer.Option(min=0.01, help="auto mode: guarded requests per second")
    ] = None,
    redis_url: RedisUrl = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Change the room for every process (they follow within a second); kept in the
    database, so that it outlives a restart of Redis."""
    settings, clock = _settings(redis_url, database_url), SystemClock()
    changes: dict[str, Any] = {}
    if mode is not None:
        changes["mode"] = mode
    if opens_at is not None:
        try:
            changes["opens_at"] = parse_opening(opens_at, clock.now())
        except ValueError as exc:
            console.print(f"[red]error:[/red] --opens-at: {exc}")
            raise typer.Exit(2) from None
    for name, value in (("rate", rate), ("ttl_s", ttl), ("threshold", threshold)):
        if value is not None:
            changes[name] = value
    if not changes:
        console.print("[red]error:[/red] say what to change: --mode, --opens-at, --rate, --ttl")
        raise typer.Exit(2)
    raise typer.Exit(_run(settings, changes, clock))
