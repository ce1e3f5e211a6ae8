"""The server's database: SQLite through the standard library, one short connection per operation.

Tables: ``scenes`` (registered manifests), ``variants`` and ``designs`` (a planner's variants and the uploads
placed in them), ``uploads`` (design files stored under ``<data_dir>/uploads``), ``builds`` (state, progress,
log, cancel flag, worker pid) and ``tokens`` (sha256 of the secret, role, scene scope).

Several processes use the file at once (uvicorn workers, build workers): WAL mode plus a busy timeout keeps
readers and the one writer out of each other's way. The schema version lives in ``PRAGMA user_version``;
:data:`MIGRATIONS` are applied in order on open, so an old data directory upgrades itself.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from twin.errors import Conflict, NotFound

#: Build states; ``queued`` and ``running`` are live, the others final.
LIVE_STATES = ("queued", "running")
FINAL_STATES = ("succeeded", "failed", "cancelled")

#: One entry per schema version; never edit a released entry, append a new one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE scenes (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        manifest TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE TABLE variants (
        scene TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        title TEXT NOT NULL,
        removed TEXT NOT NULL DEFAULT '[]',
        updated REAL NOT NULL,
        PRIMARY KEY (scene, id)
    );
    CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        scene TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
        filename TEXT NOT NULL,
        format TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        info TEXT NOT NULL DEFAULT '{}',
        created REAL NOT NULL
    );
    CREATE TABLE designs (
        scene TEXT NOT NULL,
        variant TEXT NOT NULL,
        id TEXT NOT NULL,
        upload TEXT NOT NULL REFERENCES uploads(id),
        title TEXT NOT NULL,
        anchor TEXT NOT NULL,
        PRIMARY KEY (scene, variant, id),
        FOREIGN KEY (scene, variant) REFERENCES variants(scene, id) ON DELETE CASCADE
    );
    CREATE TABLE builds (
        id TEXT PRIMARY KEY,
        scene TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
        state TEXT NOT NULL,
        stage TEXT NOT NULL DEFAULT '',
        progress REAL NOT NULL DEFAULT 0,
        log TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        cancel INTEGER NOT NULL DEFAULT 0,
        pid INTEGER,
        created REAL NOT NULL,
        started REAL,
        finished REAL
    );
    CREATE INDEX builds_scene ON builds(scene, created);
    CREATE TABLE tokens (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        scenes TEXT NOT NULL DEFAULT '[]',
        created REAL NOT NULL,
        revoked REAL
    );
    """,
]

_JSON_COLUMNS = ("removed", "info", "anchor", "scenes")


def _row(row: sqlite3.Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    out = dict(row)
    for key in _JSON_COLUMNS:
        if key in out and isinstance(out[key], str):
            out[key] = json.loads(out[key])
    return out


def new_id(prefix: str = "") -> str:
    """A sortable, unguessable id: UTC time to the second plus 64 random bits (drafts stay secret)."""
    return prefix + time.strftime("%Y%m%dt%H%M%S", time.gmtime()) + "-" + secrets.token_hex(8)


class Database:
    """Typed operations on the server's SQLite file; every method opens and closes its own connection."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            version = con.execute("PRAGMA user_version").fetchone()[0]
            for i, script in enumerate(MIGRATIONS[version:], start=version + 1):
                con.executescript("BEGIN;" + script + f"PRAGMA user_version={i}; COMMIT;")

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit-per-``with`` mode: committed on success, rolled back on error."""
        con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA foreign_keys=ON")
        try:
            yield con
        finally:
            con.close()

    def _one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        with self.connect() as con:
            return _row(con.execute(sql, args).fetchone())

    def _all(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        with self.connect() as con:
            return [r for r in map(_row, con.execute(sql, args).fetchall()) if r is not None]

    def _exec(self, sql: str, *args: Any) -> int:
        with self.connect() as con:
            try:
                return con.execute(sql, args).rowcount
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"conflicts with existing data: {exc}") from exc

    # scenes ------------------------------------------------------------------------------------------
    def put_scene(self, scene: str, title: str, manifest: str) -> None:
        """Register (or update) a scene and the path of its manifest."""
        self._exec(
            "INSERT INTO scenes(id, title, manifest, created) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET title=excluded.title, manifest=excluded.manifest",
            scene,
            title,
            manifest,
            time.time(),
        )

    def scene(self, scene: str) -> dict[str, Any]:
        """One registered scene; :class:`NotFound` if there is none."""
        row = self._one("SELECT * FROM scenes WHERE id=?", scene)
        if row is None:
            raise NotFound(f"scene {scene!r} not found")
        return row

    def scenes(self) -> list[dict[str, Any]]:
        """All registered scenes, by id."""
        return self._all("SELECT * FROM scenes ORDER BY id")

    def delete_scene(self, scene: str) -> None:
        """Forget a scene and everything attached to it (files are the store's business)."""
        with self.connect() as con:
            con.execute("BEGIN")
            con.execute("DELETE FROM designs WHERE scene=?", (scene,))
            con.execute("DELETE FROM variants WHERE scene=?", (scene,))
            con.execute("DELETE FROM uploads WHERE scene=?", (scene,))
            con.execute("DELETE FROM builds WHERE scene=?", (scene,))
            if con.execute("DELETE FROM scenes WHERE id=?", (scene,)).rowcount == 0:
                con.execute("ROLLBACK")
                raise NotFound(f"scene {scene!r} not found")
            con.execute("COMMIT")

    # variants ----------------------------------------------------------------------------------------
    def put_variant(self, scene: str, variant: str, title: str, removed: list[str]) -> None:
        """Create or edit a variant of ``scene``."""
        self.scene(scene)
        self._exec(
            "INSERT INTO variants(scene, id, title, removed, updated) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(scene, id) DO UPDATE SET title=excluded.title, removed=excluded.removed, "
            "updated=excluded.updated",
            scene,
            variant,
            title,
            json.dumps(removed),
            time.time(),
        )

    def variant(self, scene: str, variant: str) -> dict[str, Any]:
        """One variant with its placed designs."""
        row = self._one("SELECT * FROM variants WHERE scene=? AND id=?", scene, variant)
        if row is None:
            raise NotFound(f"variant {variant!r} of scene {scene!r} not found")
        row["designs"] = self._all(
            "SELECT id, upload, title, anchor FROM designs WHERE scene=? AND variant=? ORDER BY id",
            scene,
            variant,
        )
        return row

    def variants(self, scene: str) -> list[dict[str, Any]]:
        """All variants of ``scene`` with their designs."""
        ids = [r["id"] for r in self._all("SELECT id FROM variants WHERE scene=? ORDER BY id", scene)]
        return [self.variant(scene, v) for v in ids]

    def delete_variant(self, scene: str, variant: str) -> None:
        """Delete a variant and its placements (the uploads stay)."""
        with self.connect() as con:
            con.execute("DELETE FROM designs WHERE scene=? AND variant=?", (scene, variant))
            if con.execute("DELETE FROM variants WHERE scene=? AND id=?", (scene, variant)).rowcount == 0:
                raise NotFound(f"variant {variant!r} of scene {scene!r} not found")

    # designs (placements of uploads) -----------------------------------------------------------------
    def put_design(
        self, scene: str, variant: str, design: str, upload: str, title: str, anchor: dict[str, Any]
    ) -> None:
        """Place ``upload`` into a variant as ``design`` (or move it there)."""
        self.variant(scene, variant)
        up = self.upload(upload)
        if up["scene"] != scene:
            raise NotFound(f"upload {upload!r} not found in scene {scene!r}")
        self._exec(
            "INSERT INTO designs(scene, variant, id, upload, title, anchor) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(scene, variant, id) DO UPDATE SET upload=excluded.upload, title=excluded.title, "
            "anchor=excluded.anchor",
            scene,
            variant,
            design,
            upload,
            title,
            json.dumps(anchor),
        )

    def delete_design(self, scene: str, variant: str, design: str) -> None:
        """Remove a design from a variant."""
        n = self._exec("DELETE FROM designs WHERE scene=? AND variant=? AND id=?", scene, variant, design)
        if n == 0:
            raise NotFound(f"design {design!r} not found in variant {variant!r}")

    # uploads -----------------------------------------------------------------------------------------
    def add_upload(
        self, upload: str, scene: str, filename: str, fmt: str, size: int, sha256: str, info: dict[str, Any]
    ) -> None:
        """Record a stored upload (called after the file has been moved in)."""
        self._exec(
            "INSERT INTO uploads(id, scene, filename, format, size, sha256, info, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            upload,
            scene,
            filename,
            fmt,
            size,
            sha256,
            json.dumps(info),
            time.time(),
        )

    def upload(self, upload: str) -> dict[str, Any]:
        """One upload."""
        row = self._one("SELECT * FROM uploads WHERE id=?", upload)
        if row is None:
            raise NotFound(f"upload {upload!r} not found")
        return row

    def uploads(self, scene: str) -> list[dict[str, Any]]:
        """The uploads of a scene, oldest first."""
        return self._all("SELECT * FROM uploads WHERE scene=? ORDER BY created", scene)

    def delete_upload(self, upload: str) -> None:
        """Forget an upload; refused while a variant still places it."""
        if self._one("SELECT 1 AS x FROM designs WHERE upload=?", upload):
            raise Conflict(f"upload {upload!r} is placed in a variant; remove the design first")
        if self._exec("DELETE FROM uploads WHERE id=?", upload) == 0:
            raise NotFound(f"upload {upload!r} not found")

    # builds ------------------------------------------------------------------------------------------
    def create_build(self, scene: str) -> str:
        """A new queued build of ``scene``; returns its id."""
        self.scene(scene)
        build = new_id()
        self._exec(
            "INSERT INTO builds(id, scene, state, created) VALUES (?, ?, 'queued', ?)", build, scene, time.time()
        )
        return build

    def build(self, build: str, scene: str | None = None) -> dict[str, Any]:
        """One build (of ``scene`` when given)."""
        row = self._one("SELECT * FROM builds WHERE id=?", build)
        if row is None or (scene is not None and row["scene"] != scene):
            raise NotFound(f"build {build!r} not found")
        return row

    def builds(self, scene: str, limit: int = 50) -> list[dict[str, Any]]:
        """The latest builds of ``scene``, newest first, without their logs."""
        return self._all(
            "SELECT id, scene, state, stage, progress, error, cancel, pid, created, started, finished "
            "FROM builds WHERE scene=? ORDER BY created DESC LIMIT ?",
            scene,
            limit,
        )

    def live_builds(self) -> list[dict[str, Any]]:
        """Builds that are queued or running, in any scene."""
        return self._all("SELECT * FROM builds WHERE state IN ('queued', 'running')")

    def update_build(self, build: str, **fields: Any) -> None:
        """Set columns of a build (state, stage, progress, pid, started, finished, error)."""
        allowed = {"state", "stage", "progress", "pid", "started", "finished", "error"}
        if not fields or not set(fields) <= allowed:
            raise ValueError(f"cannot update build columns {sorted(set(fields) - allowed)}")
        sets = ", ".join(f"{k}=?" for k in fields)
        self._exec(f"UPDATE builds SET {sets} WHERE id=?", *fields.values(), build)

    def finish_build(self, build: str, state: str, error: str = "") -> None:
        """Move a live build to a final state (a final state is never overwritten)."""
        self._exec(
            "UPDATE builds SET state=?, error=?, finished=? WHERE id=? AND state IN ('queued', 'running')",
            state,
            error,
            time.time(),
            build,
        )

    def append_log(self, build: str, text: str) -> None:
        """Append lines to a build's log."""
        self._exec("UPDATE builds SET log = log || ? WHERE id=?", text if text.endswith("\n") else text + "\n", build)

    def request_cancel(self, build: str) -> None:
        """Ask a live build to stop; the worker polls the flag."""
        self._exec("UPDATE builds SET cancel=1 WHERE id=?", build)

    def cancel_requested(self, build: str) -> bool:
        """True once :meth:`request_cancel` was called for ``build``."""
        row = self._one("SELECT cancel FROM builds WHERE id=?", build)
        return bool(row and row["cancel"])

    # tokens ------------------------------------------------------------------------------------------
    def add_token(self, name: str, digest: str, role: str, scenes: list[str]) -> int:
        """Store a token's digest; returns its numeric id."""
        with self.connect() as con:
            cur = con.execute(
                "INSERT INTO tokens(name, hash, role, scenes, created) VALUES (?, ?, ?, ?, ?)",
                (name, digest, role, json.dumps(scenes), time.time()),
            )
            return int(cur.lastrowid or 0)

    def token_by_digest(self, digest: str) -> dict[str, Any] | None:
        """The live (not revoked) token with this digest, or None."""
        return self._one("SELECT * FROM tokens WHERE hash=? AND revoked IS NULL", digest)

    def tokens(self) -> list[dict[str, Any]]:
        """All tokens, without their digests."""
        return self._all("SELECT id, name, role, scenes, created, revoked FROM tokens ORDER BY id")

    def revoke_token(self, token_id: int) -> None:
        """Revoke a token by id; revoking twice is harmless, an unknown id is :class:`NotFound`."""
        with self.connect() as con:
            if con.execute("SELECT 1 FROM tokens WHERE id=?", (token_id,)).fetchone() is None:
                raise NotFound(f"token {token_id} not found")
            con.execute("UPDATE tokens SET revoked=? WHERE id=? AND revoked IS NULL", (time.time(), token_id))
