"""API tokens: the sha256 of each secret, its role and the scenes it may touch."""

from __future__ import annotations

import json
import time
from typing import Any

from server.storage.connection import Connection
from twin.errors import NotFound

TOPIC = "tokens"

#: One entry per schema version of this topic; never edit a released entry, append a new one.
MIGRATIONS: list[str] = [
    """
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


class Tokens:
    """Token digests; the secrets themselves are never stored."""

    def __init__(self, db: Connection) -> None:
        self.db = db
        db.migrate(TOPIC, MIGRATIONS)

    def add(self, name: str, digest: str, role: str, scenes: list[str]) -> int:
        """Store a token's digest; returns its numeric id."""
        row = self.db.one(
            "INSERT INTO tokens(name, hash, role, scenes, created) VALUES (?, ?, ?, ?, ?) RETURNING id",
            name,
            digest,
            role,
            json.dumps(scenes),
            time.time(),
        )
        assert row is not None
        return int(row["id"])

    def by_digest(self, digest: str) -> dict[str, Any] | None:
        """The live (not revoked) token with this digest, or None."""
        return self.db.one("SELECT * FROM tokens WHERE hash=? AND revoked IS NULL", digest)

    def all(self) -> list[dict[str, Any]]:
        """All tokens, without their digests."""
        return self.db.all("SELECT id, name, role, scenes, created, revoked FROM tokens ORDER BY id")

    def revoke(self, token_id: int) -> None:
        """Revoke a token by id; revoking twice is harmless, an unknown id is :class:`NotFound`."""
        with self.db.connect() as s:
            if s.one("SELECT 1 AS found FROM tokens WHERE id=?", token_id) is None:
                raise NotFound(f"token {token_id} not found")
            s.execute("UPDATE tokens SET revoked=? WHERE id=? AND revoked IS NULL", time.time(), token_id)
