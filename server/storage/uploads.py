"""Design uploads: one row per file stored under ``<data_dir>/uploads/<id>/``."""

from __future__ import annotations

import json
import time
from typing import Any

from server.errors import InsufficientStorage
from server.storage.connection import Connection, Session
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
        self,
        upload: str,
        scene: str,
        filename: str,
        fmt: str,
        size: int,
        sha256: str,
        info: dict[str, Any],
        quota: tuple[int, int] | None = None,
    ) -> None:
        """Record a stored upload (called after the file has been moved in).

        ``quota`` (most uploads, most bytes of the scene) is checked in the same transaction as the insert,
        with the scene's row locked, so two uploads arriving at once (on two servers) cannot both pass it:
        :class:`InsufficientStorage` if this one would.
        """
        with self.db.transaction(immediate=True) as s:
            if quota is not None:
                self._check_quota(s, scene, size, *quota)
            s.execute(
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

    def _check_quota(self, s: Session, scene: str, size: int, max_uploads: int, max_bytes: int) -> None:
        s.one(f"SELECT id FROM scenes WHERE id=?{self.db.for_update}", scene)  # waits for the scene's other uploads
        row = s.one("SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS used FROM uploads WHERE scene=?", scene)
        n, used = (int(row["n"]), int(row["used"])) if row else (0, 0)
        if n >= max_uploads:
            raise InsufficientStorage(f"scene {scene!r} has {n} uploads, its quota; delete some before uploading more")
        if used + size > max_bytes:
            raise InsufficientStorage(
                f"this upload ({size} bytes) would pass scene {scene!r}'s quota ({max_bytes - used} bytes left of "
                f"{max_bytes}); delete uploads no variant uses"
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
