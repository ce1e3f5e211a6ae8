"""Public scene documents (scene.json plus absolute URLs) and the buildings of a scene as GeoJSON.

Both read the *published* build only; an unpublished scene is simply not found.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.responses import JSONResponse

from server.errors import BadRequest
from server.store import SceneStore
from twin.errors import NotFound, StoreError

#: Most features one /buildings answer returns (a bbox over a whole city asks for a download instead).
MAX_FEATURES = 10_000


def _published(store: SceneStore, scene: str) -> str:
    build = store.published(scene)
    if build is None:
        raise NotFound(f"scene {scene!r} not found")
    return build


def _rel(path: Any, default: str) -> str:
    # scene.json holds paths relative to the build folder; keep them relative whatever it says.
    text = path if isinstance(path, str) and path else default
    return "/".join(p for p in text.split("/") if p not in ("", ".", ".."))


def public_scene(store: SceneStore, scene: str, base_url: str) -> dict[str, Any]:
    """The published scene.json of ``scene`` with absolute ``tileset_url``s for it and its variants."""
    info = store.scene_info(scene, _published(store, scene))
    root = f"{base_url.rstrip('/')}/tiles/{scene}/"
    doc = dict(info)
    doc.pop("variants_failed", None)  # the planner's file names and errors are for the planner page only
    doc["id"] = scene
    doc["tileset_url"] = root + _rel(info.get("tileset"), "tileset.json")
    doc["buildings_url"] = f"{base_url.rstrip('/')}/api/scenes/{scene}/buildings"
    variants = []
    for v in info.get("variants") or []:
        if isinstance(v, dict) and isinstance(v.get("id"), str):
            default = f"variants/{v['id']}/tileset.json"
            variants.append({**v, "tileset_url": root + _rel(v.get("tileset"), default)})
    doc["variants"] = variants
    return doc


def public_scenes(store: SceneStore, base_url: str) -> list[dict[str, Any]]:
    """Every published scene (a scene whose scene.json went missing is left out, not an error)."""
    out = []
    for scene in store.published_scenes():
        try:
            out.append(public_scene(store, scene, base_url))
        except (NotFound, StoreError):
            continue
    return out


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``"w,s,e,n"`` in degrees → floats; :class:`BadRequest` naming what is wrong."""
    parts = text.split(",")
    try:
        w, s, e, n = (float(p) for p in parts)
    except ValueError as exc:
        raise BadRequest(f"bbox must be four numbers west,south,east,north; got {text!r}") from exc
    if not all(math.isfinite(v) for v in (w, s, e, n)):
        raise BadRequest("bbox values must be finite")
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        raise BadRequest(f"bbox {text!r} is not west<=east in [-180, 180], south<=north in [-90, 90]")
    return w, s, e, n


class _Footprints:
    """The features of one buildings.geojson and their (n, 4) float64 bounding boxes (w, s, e, n)."""

    def __init__(self, path: Path) -> None:
        try:
            doc = json.loads(path.read_bytes())
        except ValueError as exc:
            raise StoreError(f"{path}: not JSON: {exc}") from exc
        feats = doc.get("features") if isinstance(doc, dict) else None
        self.features: list[dict[str, Any]] = [f for f in feats or [] if isinstance(f, dict)]
        boxes = np.full((len(self.features), 4), np.nan)
        for i, f in enumerate(self.features):
            geom = f.get("geometry")
            coords = np.array(list(_points(geom.get("coordinates") if isinstance(geom, dict) else None)))
            if coords.size:
                boxes[i] = (*coords.min(axis=0)[:2], *coords.max(axis=0)[:2])
        self.boxes = boxes

    def query(self, w: float, s: float, e: float, n: float, limit: int) -> list[dict[str, Any]]:
        b = self.boxes
        hit = np.flatnonzero((b[:, 0] <= e) & (b[:, 2] >= w) & (b[:, 1] <= n) & (b[:, 3] >= s))
        return [self.features[i] for i in hit[:limit]]


def _points(coords: Any) -> Any:
    """Every (x, y) position of nested GeoJSON coordinates."""
    if isinstance(coords, list | tuple) and coords:
        if all(isinstance(v, int | float) for v in coords[:2]) and len(coords) >= 2:
            yield (float(coords[0]), float(coords[1]))
        else:
            for c in coords:
                yield from _points(c)


_CACHE: OrderedDict[str, _Footprints] = OrderedDict()
_LOCK = threading.Lock()


def buildings(store: SceneStore, scene: str, bbox: str, limit: int = MAX_FEATURES) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the published buildings of ``scene`` that touch ``bbox``."""
    w, s, e, n = parse_bbox(bbox)
    path = store.build_dir(scene, _published(store, scene)) / "buildings.geojson"
    key = str(path)
    with _LOCK:
        prints = _CACHE.get(key)
    if prints is None:
        if not path.is_file():
            raise NotFound(f"scene {scene!r} has no building footprints (the build wrote no buildings.geojson)")
        prints = _Footprints(path)
        with _LOCK:
            _CACHE[key] = prints
            while len(_CACHE) > 8:
                _CACHE.popitem(last=False)
    features = prints.query(w, s, e, n, limit)
    return {"type": "FeatureCollection", "bbox": [w, s, e, n], "numberReturned": len(features), "features": features}


class GeoJSONResponse(JSONResponse):
    """JSON with the GeoJSON media type."""

    media_type = "application/geo+json"
