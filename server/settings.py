"""Server settings: environment variables ``TWIN_*``, an optional TOML config file, or keyword arguments.

Precedence (highest first): keyword arguments, environment variables, the config file named by
``TWIN_CONFIG`` (or passed to :func:`load_settings`), the defaults below.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_REPO = Path(__file__).resolve().parent.parent
#: A Host header: a name or a bracketed IPv6 address, then an optional port; nothing else.
_HOST_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$")


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

    #: PostgreSQL shared by several server processes or machines (``postgresql://user@host:5432/twin``); None
    #: or empty: the SQLite file ``<data_dir>/twin.db``. Tokens, uploads, builds, scenes, participation and
    #: sensors live there; files stay under ``data_dir`` (or the object store).
    database_url: str | None = None
    #: Redis shared by several workers or machines for guided visits (``redis://host:6379/0``); None: in-process.
    redis_url: str | None = None
    #: Seconds a visitor whose connection dropped stays in the visit, waiting to resume.
    visit_grace_seconds: float = 20.0

    #: Published scenes on object storage (``s3://bucket/prefix``, ``file:///path``); None: under data_dir.
    #: Credentials come from the usual AWS_* variables; ``s3_endpoint`` for MinIO, moto or another S3.
    store_url: str | None = None
    s3_endpoint: str | None = None
    #: Seconds a worker trusts the object store's published pointer before reading it again.
    store_pointer_ttl_seconds: float = 1.0
    #: Published blobs answered by a redirect: a base URL (a CDN or a public bucket) or ``presigned``.
    tiles_redirect: str | None = None
    #: Published blobs answered by ``X-Accel-Redirect: <prefix><scene>/public-blobs/<blob>`` (nginx in front).
    accel_redirect: str | None = None

    #: Largest JSON body of any other route, bytes (answered 413 before it is read).
    max_body_bytes: int = 1024 * 1024
    #: Per scene: most bytes of stored uploads, and most uploads (507 past either).
    scene_quota_bytes: int = 2 * 1024**3
    scene_quota_uploads: int = 200

    #: The origin viewers reach this server at (``https://twin.example.org``); every absolute link in an
    #: answer is built from it. None: from the request's Host, if that is one of ``allowed_hosts``.
    public_url: str | None = None
    #: Host names whose Host header may build links when ``public_url`` is unset (others get the bind address).
    allowed_hosts: list[str] = Field(default_factory=lambda: ["localhost", "127.0.0.1", "::1"])
    #: Addresses of reverse proxies whose X-Forwarded-For/-Proto are believed; empty: nobody's.
    trusted_proxies: list[str] = Field(default_factory=list)
    #: Slow clients: seconds to send a request's headers, then seconds of grace plus a minimum rate
    #: (bytes/s) for its body; cut off past them. Connections per client address (0: no cap) and in all.
    header_timeout_seconds: float = 10.0
    body_grace_seconds: float = 10.0
    body_min_bytes_per_second: int = 10_000
    max_connections_per_client: int = 64
    limit_concurrency: int = 1000
    #: Seconds an idle keep-alive connection stays open.
    keep_alive_seconds: int = 5

    def base_url_for(self, scheme: str, host: str) -> str:
        """The root URL for links in an answer: ``public_url``, else ``scheme://host`` if the Host is allowed.

        Any other Host (``evil.example``) builds links to the bind address instead, so a forged Host header
        never reaches a generated link (or a shared cache in front of us).
        """
        if self.public_url:
            return self.public_url.rstrip("/") + "/"
        m = _HOST_RE.match(host)
        name = m.group(1).strip("[]").lower() if m else ""
        if name and name in {h.lower() for h in self.allowed_hosts} | {self.host.lower()}:
            return f"{'https' if scheme == 'https' else 'http'}://{host}/"
        bind = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{bind}:{self.port}/"

    @property
    def db_path(self) -> Path:
        """The SQLite database file."""
        return self.data_dir / "twin.db"

    @property
    def database(self) -> str | Path:
        """What :class:`server.storage.Database` opens: ``database_url`` if set, else the SQLite file."""
        return self.database_url or self.db_path


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
