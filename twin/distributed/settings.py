"""How a build runs: the process pool, a local Dask cluster or a remote scheduler (CLI, manifest ``[build]``, env)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ManifestError

#: Environment variables read when neither the command line nor the manifest says.
SCHEDULER_ENV, WORKERS_ENV = "TWIN_SCHEDULER", "TWIN_WORKERS"
#: Rows of a GeoPackage layer read by one task.
PARTITION_ROWS = 50_000
#: Buildings a tiling task aims at (it takes whole quadtree nodes, so a task holds about this many).
TASK_BUILDINGS = 25_000
#: Bytes of an OSM file read by one task: a larger file is cut into about size / OSM_BYTES bbox extracts.
OSM_BYTES = 16 * 1024 * 1024
_KEYS = {"scheduler": str, "workers": int, "partition_rows": int, "task_buildings": int, "osm_bytes": int}
_ADDRESS = re.compile(r"^(tcp|tls|ucx|inproc)://\S+$")


@dataclass(frozen=True)
class DaskSettings:
    """A Dask build. scheduler : ``"local"`` (a LocalCluster of ``workers`` processes) or a scheduler address."""

    scheduler: str
    workers: int | None = None
    partition_rows: int = PARTITION_ROWS
    task_buildings: int = TASK_BUILDINGS
    osm_bytes: int = OSM_BYTES

    @property
    def local(self) -> bool:
        """True for a cluster this build starts (and stops) itself."""
        return self.scheduler == "local"


def _scheduler(value: Any, where: str) -> str:
    if not isinstance(value, str) or not (value == "local" or _ADDRESS.match(value)):
        raise ManifestError(f"{where}: scheduler must be 'local' or an address like tcp://host:8786, not {value!r}")
    return value


def _positive(value: Any, where: str, key: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ManifestError(f"{where}: {key} must be a whole number of at least 1, not {value!r}")
    return value


def dask_settings(
    table: Mapping[str, Any] | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    env: Mapping[str, str] | None = None,
    where: str = "[build]",
) -> DaskSettings | None:
    """The Dask settings of a build, or None for today's process pool (no scheduler named anywhere).

    Precedence: the command line (``scheduler``, ``workers``), then ``TWIN_SCHEDULER`` / ``TWIN_WORKERS``, then
    the manifest's ``[build]`` table (keys: scheduler, workers, partition_rows, task_buildings, osm_bytes). Raises
    :class:`ManifestError` naming the key for an unknown key or a bad value.
    """
    table = dict(table or {})
    env = os.environ if env is None else env
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise ManifestError(f"{where}: unknown key {unknown[0]!r} (expected one of {', '.join(_KEYS)})")
    chosen = scheduler or env.get(SCHEDULER_ENV) or table.get("scheduler")
    if chosen is None:
        return None
    source = "--scheduler" if scheduler else SCHEDULER_ENV if env.get(SCHEDULER_ENV) else where
    count = workers or env.get(WORKERS_ENV) or table.get("workers")
    return DaskSettings(
        scheduler=_scheduler(chosen, source),
        workers=None if count is None else _positive(count, where, "workers"),
        partition_rows=_positive(table.get("partition_rows", PARTITION_ROWS), where, "partition_rows"),
        task_buildings=_positive(table.get("task_buildings", TASK_BUILDINGS), where, "task_buildings"),
        osm_bytes=_positive(table.get("osm_bytes", OSM_BYTES), where, "osm_bytes"),
    )
