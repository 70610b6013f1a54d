"""`kontingent population import FILE.csv`: inhabitants per district and age group.

No registry package ships this data for Westfalen-Lippe (the statistics offices publish it
as tables to download), so the operator imports it from a CSV of this format, UTF-8 (a BOM
is allowed), `;` or `,` between fields, with a header line:

    district;age_from;age_to;people
    Bielefeld, Stadt;80;;21450
    Bielefeld, Stadt;60;79;72310

`district` names a district as the campaign has it (the districts table, named as in
`demo/data/centres-westfalen-lippe.csv`); `age_to` empty means "and older".

Invariants kept here:
- The whole file is checked before anything is written, every problem reported with its
  line; one bad line and the table stays as it was.
- Every district of the campaign appears, each with the same age groups, which never
  overlap: a cohort's share is then taken of everyone in its age range, never of a part.
- The import replaces the table in one transaction, audited (`population_imported`,
  channel cli) in the same transaction.
"""

from __future__ import annotations

import asyncio
import csv
import getpass
import io
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.admin import stats_repository as repo
from kontingent.admin.stats_model import AgeGroup
from kontingent.clock import Clock, SystemClock
from kontingent.config import SettingsError, ensure_sqlite_dir, load_settings
from kontingent.db import Database, make_engine
from kontingent.errors import InvalidInput
from kontingent.staff import audit
from kontingent.staff.audit import Actor, Channel, Entry

HEADER = ("district", "age_from", "age_to", "people")
MAX_AGE = 130
commands = typer.Typer(help="The population per district and age group (statistics).")
console = Console(stderr=True)


@dataclass(frozen=True, slots=True)
class Imported:
    districts: int
    groups: int
    people: int


def _number(text: str, name: str, line: int, upper: int) -> int:
    if not text.strip().isdigit() or int(text) > upper:
        raise ValueError(f"line {line}: {name} {text!r} is not a whole number 0..{upper}")
    return int(text)


def _row(fields: list[str], line: int) -> tuple[str, AgeGroup]:
    if len(fields) != len(HEADER):
        raise ValueError(f"line {line}: {len(fields)} fields, expected {len(HEADER)}")
    district, age_from, age_to, people = (f.strip() for f in fields)
    if not district:
        raise ValueError(f"line {line}: the district is empty")
    low = _number(age_from, "age_from", line, MAX_AGE)
    high = None if age_to == "" else _number(age_to, "age_to", line, MAX_AGE)
    if high is not None and high < low:
        raise ValueError(f"line {line}: age_to {high} is below age_from {low}")
    return district, AgeGroup(low, high, _number(people, "people", line, 10**8))


def parse(text: str) -> dict[str, list[AgeGroup]]:
    """The file's groups per district name; ValueError listing every problem found."""
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter=";" if ";" in first else ",")
    rows = list(reader)
    if not rows or tuple(f.strip().lower() for f in rows[0]) != HEADER:
        raise ValueError(f"line 1: the header must be {';'.join(HEADER)}")
    found: dict[str, list[AgeGroup]] = {}
    problems = []
    for line, fields in enumerate(rows[1:], start=2):
        if not any(f.strip() for f in fields):
            continue
        try:
            district, group = _row(fields, line)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        found.setdefault(district, []).append(group)
    if problems:
        raise ValueError("; ".join(problems[:20]))
    return found


def check(found: dict[str, list[AgeGroup]], known: dict[str, int]) -> list[str]:
    """What is wrong with parsed groups against the campaign's districts."""
    problems = [f"unknown district {name!r}" for name in found if name not in known]
    problems += [f"district {name!r} is missing" for name in known if name not in found]
    ranges = None
    for name, groups in found.items():
        own = sorted((g.age_from, g.age_to) for g in groups)
        for (a, b), (c, _) in itertools.pairwise(own):
            if b is None or b >= c:
                problems.append(f"district {name!r}: the groups from {a} and {c} overlap")
        if ranges is not None and own != ranges:
            problems.append(f"district {name!r} has other age groups than the first district")
        ranges = ranges or own
    return problems


async def import_population(db: Database, clock: Clock, text: str, who: str) -> Imported:
    try:
        found = parse(text)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    async with db.read() as conn:
        known = await repo.district_ids(conn)
    problems = check(found, known)
    if problems:
        raise InvalidInput("; ".join(problems[:20]))
    rows = [(known[name], g) for name, groups in found.items() for g in groups]
    people = sum(g.people for _, g in rows)
    entry = Entry(
        Actor(who), "population_imported", Channel.cli, "population",
        details={"districts": len(found), "groups": len(rows), "people": people},
    )  # fmt: skip

    async def write(conn: AsyncConnection) -> None:
        await repo.replace_population(conn, rows)
        await audit.record(conn, entry, clock.now())

    await db.run_write(write)
    return Imported(len(found), len(rows), people)


@commands.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="the CSV: district;age_from;age_to;people")],
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="KONTINGENT_DATABASE_URL")
    ] = None,
) -> None:
    """Replace the population per district and age group with the file's (see the format in
    README, "Population")."""
    try:
        settings = load_settings(database_url=database_url)
        text = file.read_text(encoding="utf-8")
    except (SettingsError, OSError, UnicodeDecodeError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    ensure_sqlite_dir(settings.database_url)

    async def main() -> Imported:
        db = Database(make_engine(settings.database_url, schema=settings.database_schema))
        try:
            return await import_population(db, SystemClock(), text, f"cli:{getpass.getuser()}")
        finally:
            await db.dispose()

    try:
        done = asyncio.run(main())
    except InvalidInput as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None
    console.print(f"{done.people} people in {done.groups} groups of {done.districts} districts")
