"""The server's ``twin`` commands arrive through the ``twin.commands`` entry point; twin/ never imports server/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from twin import cli as twin_cli

runner = CliRunner()


def test_server_commands_are_registered_through_the_entry_point() -> None:
    from importlib.metadata import entry_points

    (ep,) = [e for e in entry_points(group="twin.commands") if e.name == "server"]
    assert ep.value == "server.cli:register"
    overview = runner.invoke(twin_cli.app, ["--help"]).output
    assert all(f" {name} " in overview for name in ("build", "validate", "serve", "demo", "token"))
    for args in (["--help"], ["serve", "--help"], ["demo", "--help"], ["token", "--help"]):
        result = runner.invoke(twin_cli.app, args)
        assert result.exit_code == 0, result.output
    assert "--data-dir" in runner.invoke(twin_cli.app, ["serve", "--help"]).output
    assert "revoke" in runner.invoke(twin_cli.app, ["token", "--help"]).output


def test_token_commands_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWIN_DATA_DIR", str(tmp_path))
    created = runner.invoke(twin_cli.app, ["token", "create", "planner", "--name", "ana", "--scene", "demo"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert len(secret) >= 20
    listed = runner.invoke(twin_cli.app, ["token", "list"])
    (row,) = json.loads(listed.stdout)
    assert row["name"] == "ana" and row["role"] == "planner" and secret not in listed.stdout
    assert runner.invoke(twin_cli.app, ["token", "revoke", str(row["id"])]).exit_code == 0
    missing = runner.invoke(twin_cli.app, ["token", "revoke", "999"])
    assert missing.exit_code == 2 and "error" in missing.output


def test_a_plugin_that_cannot_import_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        name = "broken"

        def load(self) -> None:
            raise ImportError("No module named 'fastapi'")

    class Good:
        name = "good"

        def load(self):  # type: ignore[no-untyped-def]
            def register(app: typer.Typer) -> None:
                app.command("hello")(lambda: print("hi"))

            return register

    monkeypatch.setattr(twin_cli, "entry_points", lambda group: [Broken(), Good()])
    app = typer.Typer()
    app.command("build")(lambda: None)
    assert twin_cli.load_commands(app) == ["good"]
    assert runner.invoke(app, ["hello"]).stdout.strip() == "hi"


def test_twin_cli_starts_without_importing_the_server() -> None:
    code = (
        "import sys; import twin.cli; "
        "heavy = [m for m in ('fastapi', 'server.app', 'server.storage') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
