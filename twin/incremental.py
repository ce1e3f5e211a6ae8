"""Incremental rebuilds: keep a build's intermediate state so the next build redoes only what changed.

A build folder keeps ``.cache/state.pickle``: the repaired buildings, frame, quadtree and tile contents of
the existing city (valid while the sources and the settings that shape tiles are unchanged: the
*fingerprint*), plus placed designs and variant tiles (keyed by the design file's bytes and placement, and by
tile key + removed buildings). Adding, moving or removing a design then re-imports only that design and
re-encodes only the tiles its site touches. The cache is a private file of one build folder: it is only ever
read back by this same code of twin (the fingerprint hashes twin's source), never served.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import __version__
from .crs import Frame
from .records import Building
from .report import Report
from .scene import Scene
from .store import adopt_blobs, write_stream_atomic
from .tile import TileNode

CACHE_FILE = Path(".cache") / "state.pickle"


@lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of twin's own source: a cache made by other code (an upgrade, a local change) is not reused."""
    h = hashlib.sha256(__version__.encode())
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@dataclass
class State:
    """What a later build can reuse."""

    fingerprint: str
    buildings: list[Building]
    crs: str
    frame: Frame
    tree: TileNode
    contents: dict[str, Any]
    report: Report
    variants: dict[str, Any] = field(default_factory=dict)
    blob_dir: str = ""
    code: str = field(default_factory=code_version)


def fingerprint(scene: Scene, compress: bool) -> str:
    """A hash of everything that shapes the existing city's tiles."""
    h = hashlib.sha256(
        f"{code_version()}|{compress}|{scene.crs}|{scene.z0_height}|{scene.tile_budget}|{scene.max_tile_side}".encode()
    )
    for src in scene.sources:
        st = src.path.stat()
        h.update(f"{src.name}|{src.path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{src.format}|{src.options}".encode())
    if scene.terrain is not None:  # buildings stand on the terrain: another DEM moves them
        h.update(f"terrain|{scene.terrain.fingerprint()}|{scene.geoid_undulation}".encode())
    return h.hexdigest()


def load_state(previous: Path, scene: Scene, blob_dir: Path, compress: bool) -> State | None:
    """The reusable state of an earlier build, or None if it is missing, stale, or its blobs are gone."""
    path = Path(previous) / CACHE_FILE
    if not path.exists():
        return None
    try:
        with path.open("rb") as f:
            state = pickle.load(f)
    except Exception:  # a damaged or foreign cache is simply not used
        return None
    if not isinstance(state, State) or getattr(state, "code", None) != code_version():
        return None  # made by other code: pickled designs and tiles may not match what this code makes
    # The earlier build's blobs may live elsewhere (the server gives every build its own folder).
    src = Path(state.blob_dir) if state.blob_dir and Path(state.blob_dir).is_dir() else Path(previous) / "blobs"
    designs = state.variants.get("designs", {})
    for key, placed in list(designs.items()):
        if not adopt_blobs([placed.uri], src, blob_dir):
            del designs[key]
    if state.fingerprint != fingerprint(scene, compress) or not adopt_blobs(
        [c.uri for c in state.contents.values()], src, blob_dir
    ):
        # Sources or settings changed (or blobs are gone): placed designs may still be reused, tiles not.
        state.variants.pop("tiles", None)
        state.variants.pop("context", None)
        state.buildings = []
        return state
    tiles = state.variants.get("tiles", {})
    for key, content in list(tiles.items()):
        if content is not None and not adopt_blobs([content.uri], src, blob_dir):
            del tiles[key]
    context = state.variants.get("context")  # the street context layers' tilesets and blobs (build_context)
    if context and not adopt_blobs(context.get("blobs", []), src, blob_dir):
        state.variants.pop("context", None)
    return state
    # The earlier build's blobs may live elsewhere (the server gives every build its own folder).
    src = Path(state.blob_dir) if state.blob_dir and Path(state.blob_dir).is_dir() else Path(previous) / "blobs"
    if not adopt_blobs([c.uri for c in state.contents.values()], src, blob_dir):
        return None
    designs = state.variants.get("designs", {})
    for key, placed in list(designs.items()):
        if not adopt_blobs([placed.uri], src, blob_dir):
            del designs[key]
    tiles = state.variants.get("tiles", {})
    for key, content in list(tiles.items()):
        if content is not None and not adopt_blobs([content.uri], src, blob_dir):
            del tiles[key]
    return state


def save_state(out: Path, state: State, blob_dir: Path) -> None:
    """Write the state next to the build (atomically, like everything else)."""
    state.blob_dir = str(Path(blob_dir).resolve())
    write_stream_atomic(out / CACHE_FILE, lambda f: pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL))
