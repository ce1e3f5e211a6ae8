"""Contributions, replies, votes and per-scene participation settings in the server's database.

This topic owns three tables and its own migrations (registered in the ``schema`` table like every topic of
:mod:`server.storage`); they reference ``scenes(id) ON DELETE CASCADE``, so forgetting a scene forgets its
contributions. Nothing here knows HTTP or validation (that is :mod:`server.participation.rules`); a device is
only ever seen as a salted hash, and no address or e-mail has a column to go in.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from server.storage.connection import Connection, new_id
from twin.errors import NotFound

TOPIC = "participation"

#: One entry per schema version of this topic; never edit a released entry, append a new one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE participation_settings (
        scene TEXT PRIMARY KEY REFERENCES scenes(id) ON DELETE CASCADE,
        salt TEXT NOT NULL,
        premoderation INTEGER NOT NULL DEFAULT 0,
        open INTEGER NOT NULL DEFAULT 1,
        opens REAL,
        closes REAL
    );
    CREATE TABLE contributions (
        id TEXT PRIMARY KEY,
        scene TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
        parent TEXT REFERENCES contributions(id) ON DELETE CASCADE,
        category TEXT NOT NULL,
        text TEXT NOT NULL,
        name TEXT,
        variant TEXT,
        building TEXT,
        design TEXT,
        lon REAL NOT NULL,
        lat REAL NOT NULL,
        height REAL NOT NULL,
        camera TEXT,
        sun_time TEXT,
        channel TEXT NOT NULL,
        workshop TEXT,
        card TEXT,
        device TEXT NOT NULL,
        status TEXT NOT NULL,
        reviewed INTEGER NOT NULL DEFAULT 0,
        hidden_reason TEXT,
        answer TEXT,
        answered REAL,
        created REAL NOT NULL,
        moderated REAL
    );
    CREATE INDEX contributions_scene ON contributions(scene, status, created);
    CREATE INDEX contributions_parent ON contributions(parent);
    CREATE TABLE votes (
        contribution TEXT NOT NULL REFERENCES contributions(id) ON DELETE CASCADE,
        device TEXT NOT NULL,
        created REAL NOT NULL,
        PRIMARY KEY (contribution, device)
    );
    """,
]

#: Columns a contribution row is written with (besides id, scene, status, reviewed, created).
FIELDS = (
    "parent",
    "category",
    "text",
    "name",
    "variant",
    "building",
    "design",
    "lon",
    "lat",
    "height",
    "camera",
    "sun_time",
    "channel",
    "workshop",
    "card",
    "device",
)

#: A contribution with its vote and visible-reply counts; ``{where}`` and ``{order}`` are filled by code only.
_SELECT = """
    SELECT c.*,
        (SELECT COUNT(*) FROM votes v WHERE v.contribution = c.id) AS votes,
        (SELECT COUNT(*) FROM contributions r WHERE r.parent = c.id AND r.status = 'visible') AS replies
    FROM contributions c WHERE {where} ORDER BY {order}
"""
ORDERS = {"newest": "c.created DESC, c.id DESC", "oldest": "c.created, c.id", "support": "votes DESC, c.created DESC"}


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row.pop("device", None)  # the device hash never leaves this module
    row["camera"] = json.loads(row["camera"]) if row.get("camera") else None
    row["reviewed"] = bool(row.get("reviewed"))
    return row


class ParticipationStore:
    """Contributions (top-level ones and replies), votes and settings of every scene."""

    def __init__(self, db: Connection) -> None:
        self.db = db
        db.migrate(TOPIC, MIGRATIONS)

    # settings ----------------------------------------------------------------------------------------
    def settings(self, scene: str) -> dict[str, Any]:
        """The scene's settings, made (with a fresh random salt) on first use."""
        self.db.exec(
            "INSERT INTO participation_settings(scene, salt) VALUES (?, ?) ON CONFLICT DO NOTHING",
            scene,
            secrets.token_hex(16),
        )
        row = self.db.one("SELECT * FROM participation_settings WHERE scene=?", scene)
        assert row is not None
        row["premoderation"], row["open"] = bool(row["premoderation"]), bool(row["open"])
        return row

    def update_settings(self, scene: str, values: dict[str, Any]) -> dict[str, Any]:
        """Change some of premoderation, open, opens, closes; returns the new settings."""
        self.settings(scene)
        for key in ("premoderation", "open", "opens", "closes"):
            if key in values:
                self.db.exec(f"UPDATE participation_settings SET {key}=? WHERE scene=?", values[key], scene)
        return self.settings(scene)

    # contributions -----------------------------------------------------------------------------------
    def add(self, scene: str, values: dict[str, Any], status: str, reviewed: bool = False) -> dict[str, Any]:
        """Store one contribution or reply (``values`` holds :data:`FIELDS`); returns it as read back."""
        cid = new_id("c")
        row = {k: values.get(k) for k in FIELDS}
        row["camera"] = json.dumps(row["camera"]) if row["camera"] is not None else None
        cols = ", ".join(("id", "scene", "status", "reviewed", "created", *FIELDS))
        marks = ", ".join("?" * (5 + len(FIELDS)))
        self.db.exec(
            f"INSERT INTO contributions({cols}) VALUES ({marks})",
            cid,
            scene,
            status,
            int(reviewed),
            time.time(),
            *row.values(),
        )
        return self.get(scene, cid)

    def get(self, scene: str, cid: str) -> dict[str, Any]:
        """One contribution of ``scene`` whatever its status; :class:`NotFound` if there is none."""
        rows = self.db.all(_SELECT.format(where="c.scene=? AND c.id=?", order="c.id"), scene, cid)
        if not rows:
            raise NotFound(f"contribution {cid!r} not found")
        return _decode(rows[0])

    def query(
        self,
        scene: str,
        *,
        statuses: tuple[str, ...] = ("visible",),
        parent: str | None = None,
        category: str | None = None,
        variant: str | None = None,
        building: str | None = None,
        unreviewed: bool = False,
        bbox: tuple[float, float, float, float] | None = None,
        order: str = "newest",
        limit: int = 1000,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Contributions of a scene filtered by status and fields: top-level ones, the replies to ``parent``,
        or (``parent="*"``) both.

        ``variant="existing"`` means the ones made on the existing state (no variant).
        """
        where = ["c.scene=?", f"c.status IN ({', '.join('?' * len(statuses))})"]
        args: list[Any] = [scene, *statuses]
        if parent == "*":
            pass  # top-level contributions and replies alike
        elif parent is not None:
            where.append("c.parent=?")
            args.append(parent)
        else:
            where.append("c.parent IS NULL")
        for column, value in (("category", category), ("building", building)):
            if value is not None:
                where.append(f"c.{column}=?")
                args.append(value)
        if variant == "existing":
            where.append("c.variant IS NULL")
        elif variant is not None:
            where.append("c.variant=?")
            args.append(variant)
        if unreviewed:
            where.append("c.reviewed=0")
        if bbox is not None:
            where.append("c.lon BETWEEN ? AND ? AND c.lat BETWEEN ? AND ?")
            args += [bbox[0], bbox[2], bbox[1], bbox[3]]
        sql = _SELECT.format(where=" AND ".join(where), order=ORDERS[order]) + " LIMIT ? OFFSET ?"
        return [_decode(r) for r in self.db.all(sql, *args, limit, offset)]

    def moderate(self, scene: str, cid: str, values: dict[str, Any]) -> dict[str, Any]:
        """Set some of status, hidden_reason, answer (and mark it reviewed); returns the contribution."""
        self.get(scene, cid)
        now = time.time()
        for key in ("status", "hidden_reason", "answer"):
            if key in values:
                self.db.exec(f"UPDATE contributions SET {key}=? WHERE id=?", values[key], cid)
        if "answer" in values:
            self.db.exec("UPDATE contributions SET answered=? WHERE id=?", now if values["answer"] else None, cid)
        self.db.exec("UPDATE contributions SET reviewed=1, moderated=? WHERE id=?", now, cid)
        return self.get(scene, cid)

    def delete(self, scene: str, cid: str) -> None:
        """Remove a contribution entirely, with its replies and votes."""
        if self.db.exec("DELETE FROM contributions WHERE scene=? AND id=?", scene, cid) == 0:
            raise NotFound(f"contribution {cid!r} not found")

    # votes -------------------------------------------------------------------------------------------
    def vote(self, cid: str, device: str) -> bool:
        """Record one device's support; False if that device had already voted (nothing changes)."""
        sql = "INSERT INTO votes VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
        return self.db.exec(sql, cid, device, time.time()) == 1

    def unvote(self, cid: str, device: str) -> bool:
        """Withdraw one device's support; False if it had none."""
        return self.db.exec("DELETE FROM votes WHERE contribution=? AND device=?", cid, device) == 1

    def voted(self, scene: str, device: str) -> set[str]:
        """The contributions of a scene this device supports."""
        rows = self.db.all(
            "SELECT v.contribution FROM votes v JOIN contributions c ON c.id = v.contribution "
            "WHERE c.scene=? AND v.device=?",
            scene,
            device,
        )
        return {r["contribution"] for r in rows}

    def summary(self, scene: str) -> list[dict[str, Any]]:
        """Visible top-level contributions per variant and category, with their support."""
        return self.db.all(
            "SELECT c.variant, c.category, COUNT(*) AS count, "
            "SUM((SELECT COUNT(*) FROM votes v WHERE v.contribution = c.id)) AS support "
            "FROM contributions c WHERE c.scene=? AND c.status='visible' AND c.parent IS NULL "
            "GROUP BY c.variant, c.category ORDER BY c.variant, c.category",
            scene,
        )
