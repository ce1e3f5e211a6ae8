"""Server settings: environment variables ``TWIN_*``, an optional TOML config file, or keyword arguments.

Precedence (highest first): keyword arguments, environment variables, the config file named by
``TWIN_CONFIG`` (or passed to :func:`load_settings`), the defaults below.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_REPO = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything the server needs to know; tests build one with ``Settings(data_dir=tmp_path)``."""

    model_config = SettingsConfigDict(env_prefix="TWIN_", extra="ignore")

    #: Root of everything the server writes: twin.db, scenes/<scene>/builds/..., uploads/...
    data_dir: Path = Path("data")
    #: Where scene manifests live (``<scenes_dir>/<name>/scene.toml``); scenes are registered from here.
    scenes_dir: Path = _REPO / "scenes"
    #: The built viewer (``npm run build`` in viewer/), served at ``/``; missing is fine (404 at ``/``).
    viewer_dir: Path = _REPO / "viewer" / "dist"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    #: Largest accepted design upload, bytes.
    max_upload_bytes: int = 200 * 1024 * 1024
    #: Largest accepted *unpacked* size of an upload (zip members, declared glTF buffers), bytes.
    max_inflated_bytes: int = 1024 * 1024 * 1024
    #: Origins allowed by CORS; tiles are open data, so everyone by default.
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    #: Memory for cached tile files per worker process, bytes; files above ``tile_cache_file_bytes`` are
    #: streamed from disk instead.
    tile_cache_bytes: int = 256 * 1024 * 1024
    tile_cache_file_bytes: int = 8 * 1024 * 1024
    #: The build function the worker calls, as ``module:function`` (tests swap in a fake builder).
    builder: str = "twin.build:build_scene"
    #: Parallel jobs handed to the builder (None: the builder decides).
    build_jobs: int | None = None
    #: Limits of the child process that reads one design file (upload check, and each design of a build):
    #: address space in bytes, CPU seconds, wall-clock seconds, and how many such children run at once.
    reader_memory_bytes: int = 4 * 1024**3
    reader_cpu_seconds: int = 120
    reader_wall_seconds: float = 180.0
    reader_concurrency: int = 2

    #: Redis shared by several workers or machines for guided visits (``redis://host:6379/0``); None: in-process.
    redis_url: str | None = None
    #: Seconds a visitor whose connection dropped stays in the visit, waiting to resume.
    visit_grace_seconds: float = 20.0

    @property
    def db_path(self) -> Path:
        """The SQLite database file."""
        return self.data_dir / "twin.db"


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Settings from a TOML file (``config`` or ``$TWIN_CONFIG``), then the environment, then ``overrides``.

    The file holds the same keys as :class:`Settings`, at top level or under a ``[server]`` table.
    """
    path = config or (Path(os.environ["TWIN_CONFIG"]) if os.environ.get("TWIN_CONFIG") else None)
    values: dict[str, Any] = {}
    if path is not None:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        values = dict(data.get("server", data))
    # Environment variables beat the file: drop file keys the environment sets.
    env_set = {k[len("TWIN_") :].lower() for k in os.environ if k.startswith("TWIN_")}
    values = {k: v for k, v in values.items() if k not in env_set}
    values.update(overrides)
    return Settings(**values)
