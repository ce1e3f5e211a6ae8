"""Build jobs: state, stage and progress, log, cancel flag and the worker's pid."""

from __future__ import annotations

import time
from typing import Any

from server.storage.connection import Connection, new_id
from server.storage.scenes import Scenes
from twin.errors import NotFound

TOPIC = "builds"

#: Build states; ``queued`` and ``running`` are live, the others final.
LIVE_STATES = ("queued", "running")
FINAL_STATES = ("succeeded", "failed", "cancelled")

#: One entry per schema version of this topic; never edit a released entry, append a new one.
MIGRATIONS: list[str] = [
    """
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
    """,
    # 2: the file(s) the worker is reading, so a worker killed by a signal can be reported by file.
    """
    ALTER TABLE builds ADD COLUMN reading TEXT NOT NULL DEFAULT '';
    """,
]

_UPDATABLE = {"state", "stage", "progress", "pid", "started", "finished", "error", "reading"}


class Builds:
    """The builds of every scene; a build is created for a registered scene only."""

    def __init__(self, db: Connection, scenes: Scenes) -> None:
        self.db, self.scenes = db, scenes
        db.migrate(TOPIC, MIGRATIONS)

    def create(self, scene: str) -> str:
        """A new queued build of ``scene``; returns its id."""
        self.scenes.get(scene)
        build = new_id()
        self.db.exec(
            "INSERT INTO builds(id, scene, state, created) VALUES (?, ?, 'queued', ?)", build, scene, time.time()
        )
        return build

    def get(self, build: str, scene: str | None = None) -> dict[str, Any]:
        """One build (of ``scene`` when given)."""
        row = self.db.one("SELECT * FROM builds WHERE id=?", build)
        if row is None or (scene is not None and row["scene"] != scene):
            raise NotFound(f"build {build!r} not found")
        return row

    def of_scene(self, scene: str, limit: int = 50) -> list[dict[str, Any]]:
        """The latest builds of ``scene``, newest first, without their logs."""
        return self.db.all(
            "SELECT id, scene, state, stage, progress, error, cancel, pid, created, started, finished "
            "FROM builds WHERE scene=? ORDER BY created DESC LIMIT ?",
            scene,
            limit,
        )

    def live(self) -> list[dict[str, Any]]:
        """Builds that are queued or running, in any scene."""
        return self.db.all("SELECT * FROM builds WHERE state IN ('queued', 'running')")

    def update(self, build: str, **fields: Any) -> None:
        """Set columns of a build (state, stage, progress, pid, started, finished, error, reading)."""
        if not fields or not set(fields) <= _UPDATABLE:
            raise ValueError(f"cannot update build columns {sorted(set(fields) - _UPDATABLE)}")
        sets = ", ".join(f"{k}=?" for k in fields)
        self.db.exec(f"UPDATE builds SET {sets} WHERE id=?", *fields.values(), build)

    def finish(self, build: str, state: str, error: str = "") -> None:
        """Move a live build to a final state (a final state is never overwritten)."""
        self.db.exec(
            "UPDATE builds SET state=?, error=?, finished=? WHERE id=? AND state IN ('queued', 'running')",
            state,
            error,
            time.time(),
            build,
        )

    def append_log(self, build: str, text: str) -> None:
        """Append lines to a build's log."""
        self.db.exec("UPDATE builds SET log = log || ? WHERE id=?", text if text.endswith("\n") else text + "\n", build)

    def request_cancel(self, build: str) -> None:
        """Ask a live build to stop; the worker polls the flag."""
        self.db.exec("UPDATE builds SET cancel=1 WHERE id=?", build)

    def cancel_requested(self, build: str) -> bool:
        """True once :meth:`request_cancel` was called for ``build``."""
        row = self.db.one("SELECT cancel FROM builds WHERE id=?", build)
        return bool(row and row["cancel"])
