"""A hand-made build folder in the layout of docs/architecture.md (used before/without the real builder)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import trimesh


def box_glb(size: float = 10.0) -> bytes:
    """A small valid glb: one box mesh."""
    scene = trimesh.Scene(trimesh.creation.box(extents=(size, size, size)))
    data = scene.export(file_type="glb")
    assert isinstance(data, bytes)
    return data


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def make_build(out: Path, label: str = "v1", n_features: int = 3) -> dict[str, Any]:
    """Write tileset.json, variants/proposal/tileset.json, blobs/<hash>.glb, a subtree, scene.json,
    report.json and buildings.geojson into ``out``; returns names for the tests."""
    glb = box_glb(10.0 if label == "v1" else 12.0)
    digest = hashlib.sha256(glb).hexdigest()[:32]
    subtree = b"subt" + label.encode() * 10
    _write(out / "blobs" / f"{digest}.glb", glb)
    _write(out / "blobs" / "root.subtree", subtree)
    root_tile = {
        "boundingVolume": {"region": [0.17, 0.93, 0.18, 0.94, 0, 50]},
        "geometricError": 0,
        "refine": "ADD",
        "content": {"uri": f"blobs/{digest}.glb"},
    }
    tileset = {
        "asset": {"version": "1.1", "tilesetVersion": label},
        "geometricError": 100,
        "root": root_tile,
        "padding": ["x" * 60 for _ in range(40)],
    }  # big enough to precompress
    variant = json.loads(json.dumps(tileset))
    variant["root"]["content"]["uri"] = f"../../blobs/{digest}.glb"
    _write(out / "variants" / "proposal" / "tileset.json", json.dumps(variant).encode())
    feats = [
        {
            "type": "Feature",
            "id": f"way/{i}",
            "properties": {"id": f"way/{i}", "height": 10 + i},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [9.96 + i * 0.01, 53.57],
                        [9.961 + i * 0.01, 53.57],
                        [9.961 + i * 0.01, 53.571],
                        [9.96 + i * 0.01, 53.57],
                    ]
                ],
            },
        }
        for i in range(n_features)
    ]
    _write(out / "buildings.geojson", json.dumps({"type": "FeatureCollection", "features": feats}).encode())
    _write(out / "report.json", b'{"counts": {}}')
    _write(out / "tileset.json", json.dumps(tileset).encode())
    info = {
        "id": "demo",
        "title": f"Demo {label}",
        "crs": "EPSG:25832",
        "origin": {"lon": 9.97, "lat": 53.57, "height": 51.5},
        "bounds": [9.95, 53.56, 9.99, 53.58],
        "attribution": ["© OpenStreetMap contributors"],
        "licenses": ["ODbL-1.0"],
        "tileset": "tileset.json",
        "variants": [
            {
                "id": "proposal",
                "title": "Proposal",
                "tileset": "variants/proposal/tileset.json",
                "designs": [],
                "removed": [],
                "metrics_delta": {},
            }
        ],
        "build": {"id": label, "created": "2024-01-01T00:00:00Z", "report": "report.json"},
    }
    _write(out / "scene.json", json.dumps(info).encode())
    return {"glb": glb, "blob": f"blobs/{digest}.glb", "tileset": tileset, "label": label}
