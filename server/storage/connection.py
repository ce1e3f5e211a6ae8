"""The database connection factory (SQLite file or PostgreSQL URL) and the per-topic migrations of every store.

Embedded default: one SQLite file; several processes use it at once (uvicorn workers, build workers), WAL
mode plus a busy timeout keeps readers and the one writer out of each other's way, and every operation opens
and closes its own short connection. With a ``postgresql://`` URL (``TWIN_DATABASE_URL``) the same stores run
on a PostgreSQL server shared by several server processes on several machines (:mod:`server.storage.postgres`
translates the few SQLite-isms). Topic modules write SQL that both understand (``?`` placeholders, ``INSERT
... ON CONFLICT``, ``RETURNING``) and migrations in SQLite's dialect. Each topic (scenes, uploads, builds,
tokens, ...) owns its tables and a list of migrations; the ``schema`` table records how far each topic is, so
a new topic adds its module without touching the others.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from server.errors import StorageUnavailable
from twin.errors import Conflict

#: Columns stored as JSON text and decoded on read.
JSON_COLUMNS = ("removed", "info", "anchor", "scenes")

#: What ``PRAGMA user_version = N`` of the single migration list before per-topic schemas meant, as topic
#: versions: a data directory made by that code adopts these and goes on from there.
LEGACY_VERSIONS: dict[int, dict[str, int]] = {1: {"scenes": 1, "uploads": 1, "builds": 1, "tokens": 1}}

#: The table of topic versions, the same on both databases.
SCHEMA_TABLE = "CREATE TABLE IF NOT EXISTS schema (topic TEXT PRIMARY KEY, version INTEGER NOT NULL)"


def new_id(prefix: str = "") -> str:
    """A sortable, unguessable id: UTC time to the second plus 64 random bits (drafts stay secret)."""
    return prefix + time.strftime("%Y%m%dt%H%M%S", time.gmtime()) + "-" + secrets.token_hex(8)


def is_url(target: str | Path) -> bool:
    """True if ``target`` names a PostgreSQL server (``postgresql://...``) rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


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


class Dialect(Protocol):
    """What differs between the databases; :class:`Connection` and :class:`Session` do the rest."""

    name: str
    #: Errors of a broken constraint (answered as :class:`Conflict`) and of an unreachable server (503).
    integrity_errors: tuple[type[Exception], ...]
    unavailable_errors: tuple[type[Exception], ...]
    #: Appended to a ``SELECT`` inside :meth:`Connection.transaction` to lock the rows it reads until the
    #: end (PostgreSQL's ``FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE`` already locks the whole file).
    for_update: str

    def open(self) -> Any:
        """A DB-API connection in autocommit mode."""

    def release(self, raw: Any) -> None:
        """Give back a connection from :meth:`open` (closed, or kept for the next operation)."""

    def sql(self, sql: str) -> str:
        """A query written for both databases in this database's own syntax."""

    def prepare(self, session: Session) -> None:
        """Once per :class:`Connection`, inside its first (locked) transaction: create the ``schema`` table."""

    def lock(self, session: Session) -> None:
        """Inside a transaction: serialize migrations of every process using this database."""

    def legacy_version(self, session: Session) -> int:
        """The single schema version of a database made before per-topic schemas (0 if none)."""

    def migration(self, session: Session, script: str) -> None:
        """Run one migration script (SQLite's dialect) inside the open transaction."""

    def bulk(self, session: Session, on: bool) -> None:
        """Make this session's bulk writes cheaper (durability of the last batch for speed), or undo that."""

    def executemany(self, raw: Any, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run ``sql`` once per row; returns the number of rows changed."""

    def describe(self) -> str:
        """The database for messages (a file path, or host, port and name; never a password)."""


class Session:
    """One open connection: queries written for both databases, rows as dicts (JSON columns decoded) or tuples."""

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self.raw, self.dialect = raw, dialect

    def _run(self, sql: str, args: Sequence[Any]) -> Any:
        try:
            return self.raw.execute(self.dialect.sql(sql), tuple(args))
        except self.dialect.integrity_errors as exc:
            raise Conflict(f"conflicts with existing data: {exc}") from exc
        except self.dialect.unavailable_errors as exc:
            raise StorageUnavailable(f"the {self.dialect.describe()} failed: {exc}") from exc

    def execute(self, sql: str, *args: Any) -> int:
        """Run a statement; returns the number of rows it changed. A broken constraint is :class:`Conflict`."""
        return int(self._run(sql, args).rowcount)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run a statement once per row of ``rows``; returns the number of rows changed."""
        batch = list(rows)
        if not batch:
            return 0
        try:
            return self.dialect.executemany(self.raw, self.dialect.sql(sql), batch)
        except self.dialect.integrity_errors as exc:
            raise Conflict(f"conflicts with existing data: {exc}") from exc
        except self.dialect.unavailable_errors as exc:
            raise StorageUnavailable(f"the {self.dialect.describe()} failed: {exc}") from exc

    def one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        """The first row of a query, JSON columns decoded, or None."""
        rows = self.all(sql, *args)
        return rows[0] if rows else None

    def all(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Every row of a query, JSON columns decoded."""
        cur = self._run(sql, args)
        names = [d[0] for d in cur.description]
        out = []
        for row in cur.fetchall():
            item = dict(zip(names, row, strict=True))
            for key in JSON_COLUMNS:
                if isinstance(item.get(key), str):
                    item[key] = json.loads(item[key])
            out.append(item)
        return out

    def tuples(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Every row of a query as a plain tuple (numpy reads them ten times faster than dicts)."""
        return [tuple(r) for r in self._run(sql, args).fetchall()]


class _SQLite:
    """The embedded default: one file, WAL, foreign keys on, ``BEGIN IMMEDIATE`` serializing writers."""

    name = "sqlite"
    integrity_errors: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)
    unavailable_errors: tuple[type[Exception], ...] = ()  # a full or read-only disk: server.errors tells
    for_update = ""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        try:
            # Switching a new file to WAL needs it to itself, and SQLite does not wait for that (the busy
            # timeout does not cover it): processes opening one new file at once retry, briefly.
            deadline = time.monotonic() + 30.0
            while True:
                try:
                    con.execute("PRAGMA journal_mode=WAL")
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
        finally:
            con.close()

    def open(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        con.execute("PRAGMA foreign_keys=ON")
        return con

    def release(self, raw: sqlite3.Connection) -> None:
        raw.close()

    def sql(self, sql: str) -> str:
        return sql

    def prepare(self, session: Session) -> None:
        session.execute(SCHEMA_TABLE)

    def lock(self, session: Session) -> None:
        pass  # BEGIN IMMEDIATE already holds the file's write lock

    def legacy_version(self, session: Session) -> int:
        return int(session.tuples("PRAGMA user_version")[0][0])

    def migration(self, session: Session, script: str) -> None:
        for sql in statements(script):
            session.raw.execute(sql)

    def bulk(self, session: Session, on: bool) -> None:
        if on:  # safe under WAL: a crash loses the last batch only (the connection closes afterwards)
            session.raw.execute("PRAGMA synchronous=NORMAL")

    def executemany(self, raw: sqlite3.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        return int(raw.executemany(sql, rows).rowcount)

    def describe(self) -> str:
        return str(self.path)


class Connection:
    """Short connections to one database (a SQLite file or a ``postgresql://`` URL) and the common query shapes."""

    def __init__(self, target: str | Path) -> None:
        self.dialect: Dialect
        if is_url(target):
            from server.storage.postgres import Postgres

            self.dialect = Postgres(str(target))
        else:
            self.dialect = _SQLite(Path(target))
        self.path = target if is_url(target) else Path(target)
        with self.transaction(immediate=True) as s:
            self.dialect.lock(s)
            self.dialect.prepare(s)

    @property
    def kind(self) -> str:
        """``"sqlite"`` or ``"postgres"``."""
        return self.dialect.name

    @property
    def for_update(self) -> str:
        """``" FOR UPDATE"`` on PostgreSQL, nothing on SQLite: see :attr:`Dialect.for_update`."""
        return self.dialect.for_update

    @contextmanager
    def connect(self) -> Iterator[Session]:
        """A session in autocommit mode (use :meth:`transaction` for several statements at once)."""
        raw = self.dialect.open()
        try:
            yield Session(raw, self.dialect)
        finally:
            self.dialect.release(raw)

    @contextmanager
    def transaction(self, immediate: bool = False) -> Iterator[Session]:
        """A session inside one transaction: committed at the end, rolled back if the block raises.

        ``immediate`` takes SQLite's write lock at once (before the first read), so read-then-write blocks of
        two processes do not interleave; PostgreSQL's row locks and ``ON CONFLICT`` need no such lock.
        """
        with self.connect() as s:
            s.raw.execute("BEGIN IMMEDIATE" if immediate and self.kind == "sqlite" else "BEGIN")
            try:
                yield s
            except BaseException:
                s.raw.execute("ROLLBACK")
                raise
            s.raw.execute("COMMIT")

    @contextmanager
    def bulk(self) -> Iterator[Session]:
        """A session for large batches of writes, each batch in its own ``BEGIN``/``COMMIT`` (see :meth:`batch`)."""
        with self.connect() as s:
            self.dialect.bulk(s, True)
            try:
                yield s
            finally:
                self.dialect.bulk(s, False)

    def batch(
        self, s: Session, sql: str, rows: Sequence[Sequence[Any]], then: Callable[[Session, int], None] | None = None
    ) -> int:
        """Run ``sql`` for every row in one transaction of the bulk session ``s``; returns rows changed.

        ``then(s, changed)`` runs in the same transaction afterwards (what must commit together with the rows).
        """
        s.raw.execute("BEGIN IMMEDIATE" if self.kind == "sqlite" else "BEGIN")
        try:
            n = s.executemany(sql, rows)
            if then is not None:
                then(s, n)
        except BaseException:
            s.raw.execute("ROLLBACK")
            raise
        s.raw.execute("COMMIT")
        return n

    def migrate(self, topic: str, migrations: Sequence[str]) -> int:
        """Apply the migrations of ``topic`` it has not had yet, each in its own transaction; returns its version.

        The transaction holds a lock before the version is read (SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's
        advisory lock), so two processes opening the same database at once apply each migration exactly once.
        """
        with self.transaction(immediate=True) as s:
            self.dialect.lock(s)
            version = self._adopt_legacy(s, topic)
            for i, script in enumerate(migrations[version:], start=version + 1):
                self.dialect.migration(s, script)
                s.execute(
                    "INSERT INTO schema(topic, version) VALUES (?, ?) "
                    "ON CONFLICT(topic) DO UPDATE SET version=excluded.version",
                    topic,
                    i,
                )
                version = i
        return version

    def _adopt_legacy(self, s: Session, topic: str) -> int:
        row = s.one("SELECT version FROM schema WHERE topic=?", topic)
        if row is not None:
            return int(row["version"])
        # A file from before per-topic schemas: its user_version says which tables the old list made.
        legacy = self.dialect.legacy_version(s)
        if legacy == 0:
            return 0
        if legacy not in LEGACY_VERSIONS:
            raise RuntimeError(f"database schema version {legacy} is newer than this server knows")
        version = LEGACY_VERSIONS[legacy].get(topic, 0)
        s.execute("INSERT INTO schema(topic, version) VALUES (?, ?)", topic, version)
        return version

    def versions(self) -> dict[str, int]:
        """Every topic's schema version."""
        with self.connect() as s:
            return {r["topic"]: int(r["version"]) for r in s.all("SELECT topic, version FROM schema")}

    def one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        """The first row of a query, JSON columns decoded, or None."""
        with self.connect() as s:
            return s.one(sql, *args)

    def all(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Every row of a query, JSON columns decoded."""
        with self.connect() as s:
            return s.all(sql, *args)

    def exec(self, sql: str, *args: Any) -> int:
        """Run a write; returns the number of rows it changed. A broken constraint is :class:`Conflict`."""
        with self.connect() as s:
            return s.execute(sql, *args)
