"""The `kontingent` command: serve, migrate, seed, relay, staff accounts and the purge.

Options override the KONTINGENT_* environment variables; `serve` hands the merged settings to
its Granian worker processes through that same environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from kontingent.clock import SystemClock
from kontingent.config import (
    Settings,
    SettingsError,
    ensure_sqlite_dir,
    is_loopback,
    load_settings,
)
from kontingent.db import Database, make_engine
from kontingent.errors import InvalidInput

if TYPE_CHECKING:
    from kontingent.jobs.service import Scheduler
    from kontingent.notifications.service import Relay

app = typer.Typer(help="Kontingent: vaccination appointment booking.", no_args_is_help=True)
console = Console(stderr=True)
T = TypeVar("T")

DatabaseUrl = Annotated[str | None, typer.Option("--database-url", help="KONTINGENT_DATABASE_URL")]


def _settings(**overrides: Any) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def _run(work: Callable[[Database], Awaitable[T]], settings: Settings) -> T:
    ensure_sqlite_dir(settings.database_url)

    async def main() -> T:
        db = Database(make_engine(settings.database_url, schema=settings.database_schema))
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(main())


def _migrate(settings: Settings) -> None:
    from kontingent.migrations import upgrade

    _run(lambda db: upgrade(db.engine), settings)


def _seed(settings: Settings) -> None:
    from kontingent.demo.seed import DemoSize, seed_demo

    with Progress(
        TextColumn("seeding demo data"), BarColumn(), MofNCompleteColumn(), console=console
    ) as bar:
        task = bar.add_task("centres", total=None)

        def report(_: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        size = DemoSize(phone_share_percent=settings.phone_share_percent)
        seeded = _run(lambda db: seed_demo(db, SystemClock(), size, report), settings)
    if seeded:
        console.print("demo data loaded")
        return
    # A demo database from before every postcode was known gets them now.
    _load_postcodes(settings, seeded_districts_only=True)
    console.print("demo data already present; left as it is, postcodes brought up to date")


def _load_postcodes(settings: Settings, *, seeded_districts_only: bool = False) -> int:
    from kontingent.eligibility.service import load_postcodes

    return _run(
        lambda db: load_postcodes(db, seeded_districts_only=seeded_districts_only), settings
    )


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Bring the database schema up to date."""
    _migrate(_settings(database_url=database_url))
    console.print("schema is up to date")


@app.command()
def seed(
    demo: Annotated[bool, typer.Option("--demo", help="load the Westfalen-Lippe demo")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Load demo data (27 centres, vaccines, eight weeks of slots, cohorts, contingents)."""
    if not demo:
        console.print("[red]error:[/red] say --demo: the only data set shipped is the demo")
        raise typer.Exit(2)
    settings = _settings(database_url=database_url)
    _migrate(settings)
    _seed(settings)


@app.command("open-day")
def open_day(
    day: Annotated[str, typer.Argument(help="the local day to open, YYYY-MM-DD")],
    centre: Annotated[
        int | None, typer.Option("--centre", help="one centre's id; default: every centre")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Open a public holiday for offers (centres are closed on NRW holidays otherwise)."""
    from datetime import date

    from kontingent.inventory import catalogue_version
    from kontingent.inventory.closures import holiday_name
    from kontingent.inventory.days import open_day as record_open_day

    try:
        when = date.fromisoformat(day)
    except ValueError:
        console.print(f"[red]error:[/red] {day!r} is not a day: write it as YYYY-MM-DD")
        raise typer.Exit(2) from None
    name = holiday_name(when)
    if name is None:
        console.print(f"[red]error:[/red] {when} is no public holiday in NRW: it is open anyway")
        raise typer.Exit(2)

    async def work(db: Database) -> bool:
        async with db.write() as conn:
            added = await record_open_day(conn, centre, when, SystemClock().now())
            if added:  # the servers' catalogues hold the closed days: each reads them anew
                await catalogue_version.bump(conn)
            return added

    added = _run(work, _settings(database_url=database_url))
    where = f"centre {centre}" if centre is not None else "every centre"
    state = "opened" if added else "was open already"
    console.print(f"{when} ({name}) {state} for {where}; every server follows within a second")


@app.command("phone-share")
def phone_share(
    contingent: Annotated[int, typer.Argument(help="the contingent's id")],
    percent: Annotated[int, typer.Argument(help="its seats kept for the hotline, 0 to 100")],
    database_url: DatabaseUrl = None,
) -> None:
    """Set one contingent's phone share: the percentage of its seats kept for the hotline
    until KONTINGENT_PHONE_RELEASE_HOURS before each slot (new contingents get
    KONTINGENT_PHONE_SHARE_PERCENT)."""
    from datetime import timedelta

    from kontingent.inventory.phone_share import change_share
    from kontingent.inventory.service import Inventory

    if not 0 <= percent <= 100:
        console.print(f"[red]error:[/red] the share is a percentage from 0 to 100, not {percent}")
        raise typer.Exit(2)
    settings = _settings(database_url=database_url)
    lead = timedelta(hours=settings.phone_release_hours)

    async def work(db: Database) -> int | None:
        clock = SystemClock()
        return await change_share(db, Inventory(db, clock), contingent, percent, clock.now(), lead)

    count = _run(work, settings)
    if count is None:
        console.print(f"[red]error:[/red] there is no contingent {contingent}")
        raise typer.Exit(2)
    console.print(
        f"contingent {contingent} keeps {percent} % for the hotline, spread over {count} "
        f"slot(s) starting more than {settings.phone_release_hours} h ahead"
    )


@app.command()
def postcodes(database_url: DatabaseUrl = None) -> None:
    """Load every postcode of Westfalen-Lippe into the campaign's districts (replacing the
    table). The districts must exist, named as in the demo's centres CSV."""
    settings = _settings(database_url=database_url)
    _migrate(settings)
    try:
        count = _load_postcodes(settings)
    except InvalidInput as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from exc
    console.print(f"{count} postcode rows loaded (src/kontingent/eligibility/data/postcodes.csv)")


@app.command()
def serve(
    demo: Annotated[
        bool, typer.Option("--demo", help="migrate, seed and use the dev mailbox")
    ] = False,
    demo_public: Annotated[
        bool | None,
        typer.Option(
            "--demo-public",
            help="KONTINGENT_DEMO_PUBLIC: let --demo serve on a host other than 127.0.0.1 "
            "(anyone who reaches it reads every PIN)",
        ),
    ] = None,
    host: Annotated[str | None, typer.Option(help="KONTINGENT_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="KONTINGENT_PORT")] = None,
    workers: Annotated[int | None, typer.Option(help="KONTINGENT_WORKERS")] = None,
    database_url: DatabaseUrl = None,
    redis_url: Annotated[str | None, typer.Option(help="KONTINGENT_REDIS_URL")] = None,
    smtp_url: Annotated[str | None, typer.Option(help="KONTINGENT_SMTP_URL")] = None,
    sms_gateway_url: Annotated[str | None, typer.Option(help="KONTINGENT_SMS_GATEWAY_URL")] = None,
    secret_key: Annotated[str | None, typer.Option(help="KONTINGENT_SECRET_KEY")] = None,
    waiting_room: Annotated[bool | None, typer.Option("--waiting-room/--no-waiting-room")] = None,
    relay: Annotated[
        bool | None,
        typer.Option("--relay/--no-relay", help="relay the outbox inside the web workers"),
    ] = None,
    cors_origins: Annotated[str | None, typer.Option(help="KONTINGENT_CORS_ORIGINS")] = None,
    metrics_token: Annotated[str | None, typer.Option(help="KONTINGENT_METRICS_TOKEN")] = None,
    public_url: Annotated[
        str | None, typer.Option(help="KONTINGENT_PUBLIC_URL (links in SMS and e-mails)")
    ] = None,
    db_statement_timeout: Annotated[
        float | None,
        typer.Option(
            "--db-statement-timeout",
            min=0,
            metavar="SECONDS",
            help="KONTINGENT_DB_STATEMENT_TIMEOUT_S (PostgreSQL; 0: none)",
        ),
    ] = None,
    db_lock_timeout: Annotated[
        float | None,
        typer.Option(
            "--db-lock-timeout",
            min=0,
            metavar="SECONDS",
            help="KONTINGENT_DB_LOCK_TIMEOUT_S (PostgreSQL; 0: none)",
        ),
    ] = None,
) -> None:
    """Serve the portal and the API with Granian."""
    settings = _settings(
        demo=demo or None,
        demo_public=demo_public,
        cors_origins=cors_origins,
        metrics_token=metrics_token,
        public_url=public_url,
        host=host,
        port=port,
        workers=workers,
        database_url=database_url,
        redis_url=redis_url,
        smtp_url=smtp_url,
        sms_gateway_url=sms_gateway_url,
        secret_key=secret_key,
        waiting_room=waiting_room,
        embedded_relay=relay,
        db_statement_timeout_s=db_statement_timeout,
        db_lock_timeout_s=db_lock_timeout,
    )
    try:
        settings.check()
    except SettingsError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if settings.demo and not is_loopback(settings.host):
        _warn_public_demo(settings)
    from kontingent.observability.multiprocess import prepare_metrics_dir

    # First: prometheus_client picks file-backed values at import, in whichever process.
    prepare_metrics_dir(settings.metrics_dir, settings.port)
    if settings.demo:
        _migrate(settings)
        _seed(settings)
        _demo_accounts(settings)
    _export(settings)
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    console.print(
        f"serving on http://{settings.host}:{settings.port} with {settings.workers} worker(s)"
    )
    Granian(
        "kontingent.asgi:from_environment",
        factory=True,
        interface=Interfaces.ASGI,
        address=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=LogLevels(settings.log_level),
        backlog=4096,
        # A worker that dies (killed, out of memory, a crash in native code) is replaced; by
        # default Granian shut the whole server down instead. The listening socket stays
        # open in the main process, so connections not yet accepted go to the other workers
        # or wait for the new one: only the requests in flight on the dead worker are lost.
        # Granian still exits when the same worker dies again within 5.5 s of its respawn
        # (a worker that cannot start), rather than looping.
        respawn_failed_workers=True,
    ).serve()


def _demo_accounts(settings: Settings) -> None:
    """One staff account per role with a new password each start, printed (demo only: its
    secret key is public anyway)."""
    from kontingent.services import staff_for
    from kontingent.staff.audit import Actor, Channel, Entry

    async def work(db: Database) -> list[tuple[str, Any, str]]:
        staff = staff_for(settings, db, SystemClock())
        try:
            return await staff.demo_accounts(Entry(Actor("cli:demo"), "", Channel.cli))
        finally:
            await staff.lockouts.aclose()

    accounts = _run(work, settings)
    console.print(
        f"demo staff accounts (log in at http://{settings.host}:{settings.port}/staff/login):"
    )
    for username, role, password in accounts:
        console.print(f"  {role.value:<13} {username:<12} password: {password}", highlight=False)


def _warn_public_demo(settings: Settings) -> None:
    """Loud, on stderr before anything starts: check() let this through for --demo-public."""
    console.rule("[bold red]WARNING: THE DEMO IS OPEN TO THE NETWORK", style="red")
    console.print(
        f"[bold red]Serving demo mode on {settings.host}:{settings.port}[/bold red]: anyone "
        "who can reach this address reads every PIN at /api/v1/dev/messages and /dev/mailbox, "
        "books and cancels with them, and can forge tokens (the demo's secret key is public). "
        "Never enter real names, numbers or addresses into it.",
        highlight=False,
    )
    console.rule(style="red")


def _export(settings: Settings) -> None:
    """Hand the merged settings to the worker processes through their environment."""
    for name in (
        "database_url",
        "database_schema",
        "redis_url",
        "smtp_url",
        "sms_gateway_url",
        "secret_key",
        "demo",
        "demo_public",
        "cors_origins",
        "metrics_token",
        "waiting_room",
        "embedded_relay",
        "db_statement_timeout_s",
        "db_lock_timeout_s",
        "host",
        "port",
        "workers",
    ):
        value = getattr(settings, name)
        if value is not None:
            os.environ[f"KONTINGENT_{name.upper()}"] = (
                str(value).lower() if isinstance(value, bool) else str(value)
            )


@app.command()
def worker(
    database_url: DatabaseUrl = None,
    smtp_url: Annotated[str | None, typer.Option(help="KONTINGENT_SMTP_URL")] = None,
    sms_gateway_url: Annotated[str | None, typer.Option(help="KONTINGENT_SMS_GATEWAY_URL")] = None,
    status: Annotated[
        bool, typer.Option("--status", help="show the backlog and the parked messages, then exit")
    ] = False,
    requeue_parked: Annotated[
        bool,
        typer.Option("--requeue-parked", help="give parked messages new tries, then exit"),
    ] = False,
    purge_sent_days: Annotated[
        int | None,
        typer.Option(
            "--purge-sent",
            min=0,
            metavar="DAYS",
            help="delete outbox rows sent more than DAYS days ago (30 is the advice), then exit",
        ),
    ] = None,
    nice: Annotated[
        int,
        typer.Option(
            min=0,
            max=19,
            help="lower the relay's CPU priority by this much (0-19), so that on a host it "
            "shares with `serve` requests go first; PINs still go first within the relay",
        ),
    ] = 0,
) -> None:
    """Relay the outbox (SMS and e-mail), queue day-before reminders and run the scheduled
    jobs (waitlist SMS when offers come free) until stopped."""
    settings = _settings(
        database_url=database_url, smtp_url=smtp_url, sms_gateway_url=sms_gateway_url
    )
    from kontingent.app import build_services
    from kontingent.inventory.invalidation import running
    from kontingent.jobs.service import scheduler_for

    async def main() -> None:
        try:
            services = build_services(settings)
        except SettingsError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        try:
            if status:
                await _print_outbox(services.db, services.clock.now())
            elif requeue_parked:
                count = await services.relay.requeue_parked()
                console.print(f"{count} parked message(s) queued again")
            elif purge_sent_days is not None:
                from kontingent.notifications.service import purge_sent

                cutoff = services.clock.now() - timedelta(days=purge_sent_days)
                count = await purge_sent(services.db, cutoff)
                console.print(
                    f"{count} sent message(s) older than {purge_sent_days} day(s) deleted"
                )
            else:
                if nice:
                    console.print(f"CPU priority lowered by {nice} ({lower_cpu_priority(nice)})")
                # The scheduler releases phone seats: the web processes hear of it at once.
                async with running(services.invalidation):
                    await _relay_until_stopped(services.relay, scheduler_for(services))
        finally:
            await services.relay.aclose()
            await services.db.dispose()

    if not (status or requeue_parked or purge_sent_days is not None):
        from kontingent.observability.logs import configure_logging, log_format_for

        # Only the long-running relay logs; the one-shot commands print tables.
        configure_logging(log_format_for(settings.log_format, settings.demo), settings.log_level)
        mail = "SMTP" if settings.smtp_url else "the dev mailbox"
        sms = "the SMS gateway" if settings.sms_gateway_url else "the dev mailbox"
        console.print(f"relaying e-mail to {mail} and SMS to {sms}; Ctrl+C stops")
    with contextlib.suppress(KeyboardInterrupt):
        _event_loop_run(main())


def lower_cpu_priority(by: int) -> str:
    """Lower this process's CPU priority by `by` (0-19); which scope it took effect in.

    On Linux with autogroups (the default), `nice` orders processes only within their session:
    each session shares the CPU equally with every other, whatever its processes' nice values.
    So a process that leads its own session (as under systemd, or `setsid`) lowers its
    session's share as well; one inside a shared session (a terminal running `serve` too)
    only its own priority there, which is all that counts in that case.
    """
    os.nice(by)
    autogroup = Path("/proc/self/autogroup")
    if os.getsid(0) == os.getpid() and autogroup.exists():
        try:
            autogroup.write_text(str(by))
        except OSError:
            return "nice only: the session's CPU share could not be lowered"
        return "nice and the session's CPU share"
    return "nice"


def _event_loop_run(work: Coroutine[Any, Any, None]) -> None:
    """uvloop where it is installed: the relay spends its time in socket I/O."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency except on Windows
        asyncio.run(work)
        return
    uvloop.run(work)


async def _relay_until_stopped(relay: Relay, scheduler: Scheduler | None = None) -> None:
    """Run the relay (and the scheduler). SIGTERM or Ctrl+C lets the rounds in flight record
    what they delivered, so a clean stop sends nothing twice; a second signal stops at once."""
    task = asyncio.create_task(relay.run_forever())
    jobs = asyncio.create_task(scheduler.run_forever()) if scheduler else None
    signals = 0

    def on_signal() -> None:
        nonlocal signals
        signals += 1
        relay.stop()
        if scheduler is not None:
            scheduler.stop()
        if signals > 1:
            task.cancel()
            if jobs is not None:
                jobs.cancel()

    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, on_signal)
    with contextlib.suppress(asyncio.CancelledError):
        await task
        if jobs is not None:
            await jobs


async def _print_outbox(db: Database, now: datetime) -> None:
    from rich.table import Table

    from kontingent.notifications import repository as outbox

    async with db.read() as conn:
        backlog = await outbox.backlog(conn, now)
        parked = await outbox.parked(conn, limit=50)
    table = Table("channel", "pending", "due now", "parked", "oldest due")
    for b in backlog:
        oldest = "" if b.oldest_due is None else b.oldest_due.isoformat(timespec="seconds")
        table.add_row(b.channel, str(b.pending), str(b.due), str(b.parked), oldest)
    Console().print(table)
    # One line per parked message, never wrapped: operators copy message ids from here.
    out = Console(soft_wrap=True)
    out.print(f"parked messages (newest first, at most 50): {len(parked)}")
    for p in parked:
        out.print(
            f"{p.parked_at.isoformat(timespec='seconds')}  {p.message_id}  {p.channel}  "
            f"{p.recipient}  tries={p.attempts}  {p.last_error}",
            markup=False,
            highlight=False,
        )


def _add_waiting_room_commands() -> None:
    from kontingent.waiting_room.admin import commands

    app.add_typer(commands, name="waiting-room")


_add_waiting_room_commands()


def _add_user_commands() -> None:
    from kontingent.staff.cli import commands

    app.add_typer(commands, name="user")


_add_user_commands()


def _add_population_commands() -> None:
    from kontingent.admin.population import commands

    app.add_typer(commands, name="population")


_add_population_commands()


def _add_retention_commands() -> None:
    from kontingent.retention.cli import purge_personal_data

    app.command("purge-personal-data")(purge_personal_data)


_add_retention_commands()


def main() -> None:
    app()
