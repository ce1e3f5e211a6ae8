"""The SQLite connection factory and per-topic migrations shared by every store in this package.

Several processes use the file at once (uvicorn workers, build workers): WAL mode plus a busy timeout keeps
readers and the one writer out of each other's way, and every operation opens and closes its own short
connection. Each topic (scenes, uploads, builds, tokens, ...) owns its tables and a list of migrations; the
``schema`` table records how far each topic is, so a new topic adds its module without touching the others.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from twin.errors import Conflict

#: Columns stored as JSON text and decoded on read.
JSON_COLUMNS = ("removed", "info", "anchor", "scenes")

#: What ``PRAGMA user_version = N`` of the single migration list before per-topic schemas meant, as topic
#: versions: a data directory made by that code adopts these and goes on from there.
LEGACY_VERSIONS: dict[int, dict[str, int]] = {1: {"scenes": 1, "uploads": 1, "builds": 1, "tokens": 1}}


def new_id(prefix: str = "") -> str:
    """A sortable, unguessable id: UTC time to the second plus 64 random bits (drafts stay secret)."""
    return prefix + time.strftime("%Y%m%dt%H%M%S", time.gmtime()) + "-" + secrets.token_hex(8)


def _row(row: sqlite3.Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    out = dict(row)
    for key in JSON_COLUMNS:
        if key in out and isinstance(out[key], str):
            out[key] = json.loads(out[key])
    return out


def statements(script: str) -> list[str]:
    """Split a migration script into complete SQL statements (so they can run inside one transaction)."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        raise ValueError(f"incomplete SQL statement in migration: {current.strip()[:60]!r}")
    return out


class Connection:
    """Opens short connections to one SQLite file and runs the common query shapes on them."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("CREATE TABLE IF NOT EXISTS schema (topic TEXT PRIMARY KEY, version INTEGER NOT NULL)")

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode (``BEGIN`` explicitly for a transaction); closed afterwards."""
        con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA foreign_keys=ON")
        try:
            yield con
        finally:
            con.close()

    def migrate(self, topic: str, migrations: Sequence[str]) -> int:
        """Apply the migrations of ``topic`` it has not had yet, each in its own transaction; returns its version.

        ``BEGIN IMMEDIATE`` takes the write lock before the version is read, so two processes opening the
        same file at once apply each migration exactly once.
        """
        with self.connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                version = self._adopt_legacy(con, topic)
                for i, script in enumerate(migrations[version:], start=version + 1):
                    for sql in statements(script):
                        con.execute(sql)
                    con.execute("INSERT OR REPLACE INTO schema(topic, version) VALUES (?, ?)", (topic, i))
                    version = i
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return version

    @staticmethod
    def _adopt_legacy(con: sqlite3.Connection, topic: str) -> int:
        row = con.execute("SELECT version FROM schema WHERE topic=?", (topic,)).fetchone()
        if row is not None:
            return int(row[0])
        # A file from before per-topic schemas: its user_version says which tables the old list made.
        legacy = int(con.execute("PRAGMA user_version").fetchone()[0])
        if legacy == 0:
            return 0
        if legacy not in LEGACY_VERSIONS:
            raise RuntimeError(f"database schema version {legacy} is newer than this server knows")
        version = LEGACY_VERSIONS[legacy].get(topic, 0)
        con.execute("INSERT INTO schema(topic, version) VALUES (?, ?)", (topic, version))
        return version

    def versions(self) -> dict[str, int]:
        """Every topic's schema version."""
        with self.connect() as con:
            return {r["topic"]: r["version"] for r in con.execute("SELECT topic, version FROM schema")}

    def one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        """The first row of a query, JSON columns decoded, or None."""
        with self.connect() as con:
            return _row(con.execute(sql, args).fetchone())

    def all(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Every row of a query, JSON columns decoded."""
        with self.connect() as con:
            return [r for r in map(_row, con.execute(sql, args).fetchall()) if r is not None]

    def exec(self, sql: str, *args: Any) -> int:
        """Run a write; returns the number of rows it changed. A broken constraint is :class:`Conflict`."""
        with self.connect() as con:
            try:
                return con.execute(sql, args).rowcount
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"conflicts with existing data: {exc}") from exc
