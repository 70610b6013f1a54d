"""Issue 11, item 11: `kontingent serve --demo` binds to loopback only. The demo's secret key is
public and its dev mailbox lists every PIN, so serving it to a network must be asked for by
name (`--demo-public`), and is then announced loudly.

`serve` runs for real up to the server (settings, migrations and the seed on a seeded SQLite
copy); Granian itself is replaced by a recorder, so the test sees where it would bind and
never listens."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any, ClassVar

import granian
import pytest
from typer.testing import CliRunner

from kontingent.cli import app


class Recorder:
    """Stands in for Granian: remembers what it was asked to serve, serves nothing."""

    calls: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, target: str, **options: Any) -> None:
        Recorder.calls.append({"target": target, **options})

    def serve(self) -> None:
        return None


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_template: Path) -> Any:
    database = tmp_path / "demo.sqlite3"
    shutil.copy(sqlite_template, database)  # seeded: migrate and seed have nothing to do
    # `serve` hands its settings to the workers through os.environ: give it a copy to write.
    base = {k: v for k, v in os.environ.items() if not k.startswith("KONTINGENT_")}
    base["KONTINGENT_METRICS_DIR"] = str(tmp_path / "metrics")
    environ = dict(base)
    monkeypatch.setattr(os, "environ", environ)
    monkeypatch.setattr(granian, "Granian", Recorder)
    Recorder.calls = []

    def run(*args: str, env: dict[str, str] | None = None) -> Any:
        environ.clear()  # what the last run exported is gone, as in a new shell
        environ.update({**base, **(env or {})})
        url = f"sqlite+aiosqlite:///{database}"
        result = CliRunner().invoke(app, ["serve", "--demo", "--database-url", url, *args])
        result.said = " ".join(result.output.split())  # rich wraps long lines
        return result

    return run


def test_hardening_11_demo_refuses_a_public_host(serve: Any) -> None:
    """Stops `--demo` from putting every PIN and a public secret key on the network."""
    for args, env in (
        (["--host", "0.0.0.0"], None),  # noqa: S104  # the address under test
        (["--host", "192.0.2.10"], None),
        (["--host", "example.org"], None),
        ([], {"KONTINGENT_HOST": "::"}),
    ):
        result = serve(*args, env=env)
        assert result.exit_code == 2, result.output
        assert "127.0.0.1 only" in result.said and "--demo-public" in result.said, result.said
        assert Recorder.calls == []  # nothing was served


def test_hardening_11_demo_public_serves_with_a_loud_warning(serve: Any) -> None:
    """Stops the demo from going public silently: it must be asked for and is announced."""
    result = serve("--host", "0.0.0.0", "--demo-public", "--port", "8123")  # noqa: S104
    assert result.exit_code == 0, result.output
    assert "WARNING" in result.said and "every PIN" in result.said, result.said
    assert [(c["address"], c["port"]) for c in Recorder.calls] == [("0.0.0.0", 8123)]  # noqa: S104
    assert os.environ["KONTINGENT_DEMO_PUBLIC"] == "true"  # the workers' check() lets it pass


def test_demo_on_loopback_starts_quietly(serve: Any) -> None:
    """Stops the guard from getting in the way of `make run`."""
    for host in ("127.0.0.1", "::1", "localhost"):
        result = serve("--host", host)
        assert result.exit_code == 0, result.output
        assert "WARNING" not in result.said
    result = serve()
    assert result.exit_code == 0, result.output
    assert [c["address"] for c in Recorder.calls] == ["127.0.0.1", "::1", "localhost", "127.0.0.1"]


def test_serve_demo_brings_an_older_demo_database_to_every_postcode(
    serve: Any, tmp_path: Path
) -> None:
    """What `make run` does with a demo database seeded before every postcode was known."""
    database = tmp_path / "demo.sqlite3"
    with sqlite3.connect(database) as conn:
        conn.execute("DELETE FROM postcodes WHERE postcode <> '33602'")
    result = serve()
    assert result.exit_code == 0, result.output
    assert "postcodes brought up to date" in result.said
    with sqlite3.connect(database) as conn:
        found = dict(conn.execute("SELECT postcode, district_id FROM postcodes").fetchall())
    assert len(found) > 40 and found["33615"] == 1 and found["44787"] == 2  # Bielefeld, Bochum
