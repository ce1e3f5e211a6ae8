"""Registered scenes, the planners' variants of them and the designs (placed uploads) in each variant."""

from __future__ import annotations

import json
import time
from typing import Any

from server.storage.connection import Connection
from server.storage.uploads import Uploads
from twin.errors import NotFound

TOPIC = "scenes"

#: One entry per schema version of this topic; never edit a released entry, append a new one. Tables of
#: other topics that belong to a scene reference ``scenes(id) ON DELETE CASCADE``, so forgetting a scene
#: reaches them without this module knowing them.
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
    """,
]


class Scenes:
    """Scenes, variants and designs; a design names an upload, so placing one asks :class:`Uploads`."""

    def __init__(self, db: Connection, uploads: Uploads) -> None:
        self.db, self.uploads = db, uploads
        db.migrate(TOPIC, MIGRATIONS)

    # scenes ------------------------------------------------------------------------------------------
    def put(self, scene: str, title: str, manifest: str) -> None:
        """Register (or update) a scene and the path of its manifest."""
        self.db.exec(
            "INSERT INTO scenes(id, title, manifest, created) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET title=excluded.title, manifest=excluded.manifest",
            scene,
            title,
            manifest,
            time.time(),
        )

    def get(self, scene: str) -> dict[str, Any]:
        """One registered scene; :class:`NotFound` if there is none."""
        row = self.db.one("SELECT * FROM scenes WHERE id=?", scene)
        if row is None:
            raise NotFound(f"scene {scene!r} not found")
        return row

    def all(self) -> list[dict[str, Any]]:
        """All registered scenes, by id."""
        return self.db.all("SELECT * FROM scenes ORDER BY id")

    def delete(self, scene: str) -> None:
        """Forget a scene and everything attached to it (files are the store's business).

        Designs go first (they name uploads, which the scene's cascade removes in the same transaction).
        """
        with self.db.transaction() as s:
            s.execute("DELETE FROM designs WHERE scene=?", scene)
            if s.execute("DELETE FROM scenes WHERE id=?", scene) == 0:
                raise NotFound(f"scene {scene!r} not found")  # rolls back

    # variants ----------------------------------------------------------------------------------------
    def put_variant(self, scene: str, variant: str, title: str, removed: list[str]) -> None:
        """Create or edit a variant of ``scene``."""
        self.get(scene)
        self.db.exec(
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
        row = self.db.one("SELECT * FROM variants WHERE scene=? AND id=?", scene, variant)
        if row is None:
            raise NotFound(f"variant {variant!r} of scene {scene!r} not found")
        row["designs"] = self.db.all(
            "SELECT id, upload, title, anchor FROM designs WHERE scene=? AND variant=? ORDER BY id",
            scene,
            variant,
        )
        return row

    def variants(self, scene: str) -> list[dict[str, Any]]:
        """All variants of ``scene`` with their designs."""
        ids = [r["id"] for r in self.db.all("SELECT id FROM variants WHERE scene=? ORDER BY id", scene)]
        return [self.variant(scene, v) for v in ids]

    def delete_variant(self, scene: str, variant: str) -> None:
        """Delete a variant and its placements (the uploads stay)."""
        with self.db.connect() as s:
            s.execute("DELETE FROM designs WHERE scene=? AND variant=?", scene, variant)
            if s.execute("DELETE FROM variants WHERE scene=? AND id=?", scene, variant) == 0:
                raise NotFound(f"variant {variant!r} of scene {scene!r} not found")

    # designs (placements of uploads) -----------------------------------------------------------------
    def put_design(
        self, scene: str, variant: str, design: str, upload: str, title: str, anchor: dict[str, Any]
    ) -> None:
        """Place ``upload`` into a variant as ``design`` (or move it there)."""
        self.variant(scene, variant)
        if self.uploads.get(upload)["scene"] != scene:
            raise NotFound(f"upload {upload!r} not found in scene {scene!r}")
        self.db.exec(
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
        n = self.db.exec("DELETE FROM designs WHERE scene=? AND variant=? AND id=?", scene, variant, design)
        if n == 0:
            raise NotFound(f"design {design!r} not found in variant {variant!r}")
