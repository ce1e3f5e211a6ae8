"""Design uploads: one row per file stored under ``<data_dir>/uploads/<id>/``."""

from __future__ import annotations

import json
import time
from typing import Any

from server.storage.connection import Connection
from twin.errors import Conflict, NotFound

TOPIC = "uploads"

#: One entry per schema version of this topic; never edit a released entry, append a new one.
MIGRATIONS: list[str] = [
    """
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
    """,
]


class Uploads:
    """The uploads of every scene."""

    def __init__(self, db: Connection) -> None:
        self.db = db
        db.migrate(TOPIC, MIGRATIONS)

    def add(
        self, upload: str, scene: str, filename: str, fmt: str, size: int, sha256: str, info: dict[str, Any]
    ) -> None:
        """Record a stored upload (called after the file has been moved in)."""
        self.db.exec(
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

    def get(self, upload: str) -> dict[str, Any]:
        """One upload."""
        row = self.db.one("SELECT * FROM uploads WHERE id=?", upload)
        if row is None:
            raise NotFound(f"upload {upload!r} not found")
        return row

    def of_scene(self, scene: str) -> list[dict[str, Any]]:
        """The uploads of a scene, oldest first."""
        return self.db.all("SELECT * FROM uploads WHERE scene=? ORDER BY created", scene)

    def delete(self, upload: str) -> None:
        """Forget an upload; refused while a variant still places it (the designs' foreign key says so)."""
        try:
            n = self.db.exec("DELETE FROM uploads WHERE id=?", upload)
        except Conflict as exc:
            raise Conflict(f"upload {upload!r} is placed in a variant; remove the design first") from exc
        if n == 0:
            raise NotFound(f"upload {upload!r} not found")
