"""`kontingent population import FILE.csv` on a seeded SQLite copy: a good file is loaded
and counted, a bad one is refused with its line and exit code 2, changing nothing."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from kontingent.cli import app
from kontingent.db import Database, make_engine
from kontingent.schema import districts, population
from tests.integration.admin.test_stats import population_csv


async def _read(url: str, query: object) -> list[object]:
    db = Database(make_engine(url))
    try:
        async with db.read() as conn:
            return list((await conn.execute(query)).scalars())  # type: ignore[call-overload]
    finally:
        await db.dispose()


def test_import_and_refusal(tmp_path: Path, sqlite_template: Path) -> None:
    path = tmp_path / "cli.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    names = [str(n) for n in asyncio.run(_read(url, select(districts.c.name)))]
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(population_csv(names), encoding="utf-8")
    bad.write_text(population_csv(names).replace(";60;79;", ";60;x;"), encoding="utf-8")

    done = CliRunner().invoke(app, ["population", "import", str(good), "--database-url", url])
    assert done.exit_code == 0, done.output
    people = 54000 * len(names)
    assert f"{people} people in {3 * len(names)} groups of {len(names)} districts" in done.output
    refused = CliRunner().invoke(app, ["population", "import", str(bad), "--database-url", url])
    assert refused.exit_code == 2
    assert "age_to 'x' is not a whole number" in " ".join(refused.output.split())
    assert asyncio.run(_read(url, select(func.sum(population.c.people)))) == [people]
