"""A throwaway PostgreSQL server for the tests: Debian's binaries, a temporary cluster on a loopback port.

One server per pytest run (the session fixture ``postgres_server``), a fresh database per test
(:meth:`PostgresServer.new_database`). Missing binaries fail the PostgreSQL tests with a hint to run
``make setup``; only ``TWIN_TEST_POSTGRES=0`` skips them.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from liveserver import free_port

#: Where Debian's ``postgresql`` package puts the server binaries (one folder per major version).
DEBIAN_BIN = Path("/usr/lib/postgresql")


def find_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (newest Debian version, else on PATH), or None."""
    for folder in sorted(DEBIAN_BIN.glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True):
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class PostgresServer:
    """A running cluster in a temporary folder, owned by the ``postgres`` user when the tests run as root."""

    def __init__(self, bin_dir: Path, root: Path, port: int) -> None:
        self.bin, self.root, self.port = bin_dir, root, port
        self.data, self.log = root / "data", root / "server.log"
        self._names = itertools.count()

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}\n{log}")

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c max_connections=400"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def restart(self) -> None:
        """Stop the server (ending every session) and start it again with the same options."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "-t", "60", "restart")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        """The URL of a new, empty database on this server."""
        name = f"twin_test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`new_database`, ending the sessions still open on it (pooled ones).

        Each database is ~8 MB on disk: dropped after its test, a run's cluster stays small and quick to remove.
        """
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def start_server() -> Iterator[PostgresServer]:
    """Start a server for the whole run (the generator of the session fixture); stops it afterwards."""
    if os.environ.get("TWIN_TEST_POSTGRES") == "0":
        pytest.skip("TWIN_TEST_POSTGRES=0: the PostgreSQL variants are switched off")
    bin_dir = find_bin()
    if bin_dir is None:
        pytest.fail(
            "PostgreSQL's binaries (initdb, pg_ctl) are missing: run `make setup` (installs Debian's postgresql)",
            pytrace=False,
        )
    root = Path(tempfile.mkdtemp(prefix="twin-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    server = PostgresServer(bin_dir, root, free_port())
    try:
        server.start()
        yield server
    finally:
        with contextlib.suppress(RuntimeError):  # a server that never started has nothing to stop
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole test run."""
    yield from start_server()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database of the session's server, dropped after the test."""
    url = postgres_server.new_database()
    yield url
    postgres_server.drop_database(url)
