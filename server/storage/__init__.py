"""The server's database: a SQLite file (the default) or PostgreSQL (``TWIN_DATABASE_URL``), one store per topic.

:class:`Database` composes the topic stores over one :class:`Connection` (``db.scenes``, ``db.uploads``,
``db.builds``, ``db.tokens``). Each topic module owns its tables and migrations; a new topic (participation,
sensors) adds a module here and one line below, and touches no other topic.
"""

from __future__ import annotations

from pathlib import Path

from server.storage.builds import FINAL_STATES, LIVE_STATES, Builds
from server.storage.connection import Connection, new_id
from server.storage.scenes import Scenes
from server.storage.sensors import Sensors
from server.storage.tokens import Tokens
from server.storage.uploads import Uploads

__all__ = ["FINAL_STATES", "LIVE_STATES", "Connection", "Database", "new_id"]


class Database:
    """Every topic store of one database (a SQLite file, or a ``postgresql://`` URL); each method of a store
    opens its own short connection (PostgreSQL's are reused from a small per-process pool)."""

    def __init__(self, target: str | Path) -> None:
        self.connection = Connection(target)
        self.path = self.connection.path
        # SQLite resolves REFERENCES when rows are written, so topics migrate in any order (on PostgreSQL a
        # reference waits until its table exists, see server.storage.postgres); the order here is who asks
        # whom (scenes ask uploads about a design's file, builds ask scenes).
        self.uploads = Uploads(self.connection)
        self.scenes = Scenes(self.connection, self.uploads)
        self.builds = Builds(self.connection, self.scenes)
        self.tokens = Tokens(self.connection)
        self.sensors = Sensors(self.connection)
