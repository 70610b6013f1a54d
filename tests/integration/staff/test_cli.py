"""`kontingent user add|list|disable|reset-password`, and the demo's accounts printed by
`kontingent serve --demo`, on a seeded SQLite copy (Granian replaced by a recorder, so
nothing listens)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from pathlib import Path
from typing import Any

import granian
import pytest
from typer.testing import CliRunner

from kontingent.cli import app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.errors import KontingentError
from kontingent.services import build_services
from kontingent.staff.audit import Channel
from kontingent.staff.model import SessionKind
from kontingent.staff.tables import audit_log
from tests.support import T0

PASSWORD = "ein langes Passwort für Tests"


@pytest.fixture
def database(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "cli.sqlite3"
    shutil.copy(sqlite_template, path)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KONTINGENT_")}
    environ["KONTINGENT_METRICS_DIR"] = str(tmp_path / "metrics")
    monkeypatch.setattr(os, "environ", environ)  # `serve` exports its settings here
    return f"sqlite+aiosqlite:///{path}"


def user(database: str, *args: str, stdin: str | None = None) -> Any:
    result = CliRunner().invoke(app, ["user", *args, "--database-url", database], input=stdin)
    result.said = " ".join(result.output.split())
    return result


def can_log_in(database: str, username: str, password: str) -> bool:
    async def attempt() -> bool:
        services = build_services(Settings(database_url=database), FixedClock(T0))
        try:
            await services.staff.login(username, password, SessionKind.api, Channel.api, None)
            return True
        except KontingentError:
            return False
        finally:
            await services.db.dispose()

    return asyncio.run(attempt())


def audited(database: str) -> list[tuple[str, str]]:
    async def read() -> list[tuple[str, str]]:
        services = build_services(Settings(database_url=database), FixedClock(T0))
        try:
            async with services.db.read() as conn:
                rows = await conn.execute(audit_log.select().order_by(audit_log.c.id))
                return [(r.action, r.username) for r in rows]
        finally:
            await services.db.dispose()

    return asyncio.run(read())


def test_user_add_list_disable_and_reset_password(database: str) -> None:
    added = user(database, "add", "carl", "--role", "centre_staff", "--centre", "1",
                 "--centre", "2", "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "added carl (centre_staff) bound to centre(s) 1, 2" in added.said
    assert user(database, "add", "ada", "--role", "admin", "--password-stdin",
                stdin=PASSWORD + "\n").exit_code == 0  # fmt: skip
    listed = user(database, "list")
    assert listed.stdout.splitlines() == [
        "ada\tadmin\t-\tactive",
        "carl\tcentre_staff\t1,2\tactive",
    ]
    assert can_log_in(database, "carl", PASSWORD)
    assert user(database, "disable", "carl").exit_code == 0
    assert "carl\tcentre_staff\t1,2\tdisabled" in user(database, "list").stdout
    assert not can_log_in(database, "carl", PASSWORD)
    reset = user(
        database, "reset-password", "ada", "--password-stdin", stdin="neu und lang genug\n"
    )
    assert reset.exit_code == 0, reset.output
    assert can_log_in(database, "ada", "neu und lang genug")
    assert not can_log_in(database, "ada", PASSWORD)
    who = f"cli:{__import__('getpass').getuser()}"
    assert [a for a in audited(database) if a[1] == who] == [
        ("user_add", who), ("user_add", who), ("user_disable", who), ("user_reset_password", who),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        (["add", "anna", "--role", "agent", "--password-stdin"], "zu kurz\n", "use at least 12"),
        (["add", "anna", "--role", "agent", "--password-stdin"], "password1234\n", "common"),
        (["add", "anna", "--role", "agent", "--centre", "1", "--password-stdin"], PASSWORD,
         "only centre_staff"),
        (["add", "anna", "--role", "chef", "--password-stdin"], PASSWORD, "'chef' is not one of"),
        (["disable", "nobody"], None, "no staff account 'nobody'"),
    ],
)  # fmt: skip
def test_user_commands_refuse_bad_input_saying_what_to_fix(
    database: str, args: list[str], stdin: str | None, says: str
) -> None:
    result = user(database, *args, stdin=stdin)
    assert result.exit_code != 0
    assert says in result.said, result.said
    assert user(database, "list").stdout == ""


class Recorder:
    def __init__(self, target: str, **options: Any) -> None:
        pass

    def serve(self) -> None:
        return None


def test_serve_demo_prints_one_working_account_per_role(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(granian, "Granian", Recorder)
    printed: list[dict[str, str]] = []
    for _ in range(2):  # a second start prints new passwords that work in turn
        result = CliRunner().invoke(app, ["serve", "--demo", "--database-url", database])
        assert result.exit_code == 0, result.output
        found = re.findall(
            r"(agent|centre_staff|admin)\s+(demo-\w+)\s+password: (\S+)", result.output
        )
        assert [role for role, _, _ in found] == ["agent", "centre_staff", "admin"]
        printed.append({name: password for _, name, password in found})
    for name, password in printed[1].items():
        assert can_log_in(database, name, password), name
        assert password != printed[0][name]
    assert not can_log_in(database, "demo-agent", printed[0]["demo-agent"])
