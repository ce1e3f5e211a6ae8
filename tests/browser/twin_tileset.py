"""Write a small tileset shaped like the twin builder's output, for the viewer's browser tests.

The builder (twin.encode) is written by another engineer; until its output can be used here, this
module writes the same layout by hand: ``tileset.json`` with the ENU->ECEF root transform of the
scene origin, content-addressed ``blobs/<hash>.glb`` shared by the variants, ``variants/<id>/
tileset.json`` and ``scene.json`` (docs/architecture.md). Each glb has box buildings with
``_FEATURE_ID_0``, EXT_mesh_features and an EXT_structural_metadata property table of class
``building``. Unlike the builder it does not compress (no encoder here).
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ORIGIN = {"lon": 9.956, "lat": 53.576, "height": 0.0}
_A = 6378137.0
_E2 = (1 / 298.257223563) * (2 - 1 / 298.257223563)


@dataclass(frozen=True)
class Box:
    """A box building: centre ``(east, north)`` in metres from the origin, size and attributes."""

    id: str
    east: float
    north: float
    width: float
    depth: float
    height: float
    name: str = ""
    address: str = ""
    usage: str = "residential"
    levels: int = -1


BASE_BUILDINGS: list[Box] = [
    Box("way/1", 0, 0, 24, 18, 18, "Rathaus", "Teststraße 1", "civic", 5),
    Box("way/2", 45, 0, 16, 16, 12, "", "Teststraße 3", "residential", 4),
    Box("way/3", -45, 0, 16, 20, 9, "", "Teststraße 5"),
    Box("way/4", 0, 45, 30, 12, 15, "Schule", "Schulweg 2", "education", 4),
    Box("way/5", 0, -45, 20, 20, 21, "", "Hafenstraße 7", "commercial", 7),
    Box("way/6", 45, 45, 12, 12, 6),
    Box("way/7", -45, 45, 12, 14, 7),
    Box("way/8", 45, -45, 14, 12, 10),
    Box("way/9", -45, -45, 18, 12, 8),
]
TOWER = Box("design/tower", 45, 0, 14, 14, 60, "Turm", "Teststraße 3", "mixed", 18)


def enu_to_ecef(lon: float, lat: float, height: float) -> list[float]:
    """Column-major 4x4 ENU->ECEF transform at a geodetic point (degrees, metres)."""
    lam, phi = math.radians(lon), math.radians(lat)
    n = _A / math.sqrt(1 - _E2 * math.sin(phi) ** 2)
    o = [
        (n + height) * math.cos(phi) * math.cos(lam),
        (n + height) * math.cos(phi) * math.sin(lam),
        (n * (1 - _E2) + height) * math.sin(phi),
    ]
    east = [-math.sin(lam), math.cos(lam), 0.0]
    north = [-math.sin(phi) * math.cos(lam), -math.sin(phi) * math.sin(lam), math.cos(phi)]
    up = [math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)]
    return [*east, 0.0, *north, 0.0, *up, 0.0, *o, 1.0]


def _box_mesh(b: Box, centre: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat-shaded box in glTF Y-up axes relative to ``centre``.

    Returns positions (24, 3) float32, normals (24, 3) float32, indices (36,) uint32 local.
    """
    x0, x1 = b.east - b.width / 2 - centre[0], b.east + b.width / 2 - centre[0]
    y0, y1 = b.north - b.depth / 2 - centre[1], b.north + b.depth / 2 - centre[1]
    z0, z1 = 0.0, b.height
    faces = [  # ENU corners, counter-clockwise seen from outside, with the outward normal
        ([(x0, y0, z1), (x1, y0, z1), (x1, y1, z1), (x0, y1, z1)], (0, 0, 1)),
        ([(x0, y0, z0), (x0, y1, z0), (x1, y1, z0), (x1, y0, z0)], (0, 0, -1)),
        ([(x0, y0, z0), (x1, y0, z0), (x1, y0, z1), (x0, y0, z1)], (0, -1, 0)),
        ([(x1, y1, z0), (x0, y1, z0), (x0, y1, z1), (x1, y1, z1)], (0, 1, 0)),
        ([(x1, y0, z0), (x1, y1, z0), (x1, y1, z1), (x1, y0, z1)], (1, 0, 0)),
        ([(x0, y1, z0), (x0, y0, z0), (x0, y0, z1), (x0, y1, z1)], (-1, 0, 0)),
    ]
    pos, nor, idx = [], [], []
    for k, (corners, normal) in enumerate(faces):
        pos += corners
        nor += [normal] * 4
        idx += [4 * k + i for i in (0, 1, 2, 0, 2, 3)]
    enu = np.asarray(pos, dtype=np.float64)
    n_enu = np.asarray(nor, dtype=np.float64)
    # ENU (x east, y north, z up) -> glTF Y-up (x, z, -y), the same swap twin.encode does.
    yup = np.stack([enu[:, 0], enu[:, 2], -enu[:, 1]], axis=1).astype(np.float32)
    n_yup = np.stack([n_enu[:, 0], n_enu[:, 2], -n_enu[:, 1]], axis=1).astype(np.float32)
    return yup, n_yup, np.asarray(idx, dtype=np.uint32)


def _pad(data: bytes, fill: bytes = b"\0") -> bytes:
    return data + fill * ((-len(data)) % 8)


def building_glb(buildings: list[Box], centre: tuple[float, float]) -> bytes:
    """One glb with all ``buildings`` in one primitive, feature ids and a ``building`` property table."""
    pos, nor, idx, fid = [], [], [], []
    for i, b in enumerate(buildings):
        p, n, ix = _box_mesh(b, centre)
        idx.append(ix + 24 * i)
        pos.append(p)
        nor.append(n)
        fid.append(np.full(24, i, dtype=np.float32))
    positions = np.concatenate(pos)
    chunks: list[bytes] = []
    views: list[dict] = []

    def view(data: bytes, target: int | None = None) -> int:
        offset = sum(len(c) for c in chunks)
        chunks.append(_pad(data))
        v = {"buffer": 0, "byteOffset": offset, "byteLength": len(data)}
        if target:
            v["target"] = target
        views.append(v)
        return len(views) - 1

    accessors = [
        {
            "bufferView": view(positions.tobytes(), 34962),
            "componentType": 5126,
            "count": len(positions),
            "type": "VEC3",
            "min": positions.min(0).tolist(),
            "max": positions.max(0).tolist(),
        },
        {
            "bufferView": view(np.concatenate(nor).tobytes(), 34962),
            "componentType": 5126,
            "count": len(positions),
            "type": "VEC3",
        },
        {
            "bufferView": view(np.concatenate(fid).tobytes(), 34962),
            "componentType": 5126,
            "count": len(positions),
            "type": "SCALAR",
        },
        {
            "bufferView": view(np.concatenate(idx).tobytes(), 34963),
            "componentType": 5125,
            "count": 36 * len(buildings),
            "type": "SCALAR",
        },
    ]

    def strings(values: list[str]) -> dict:
        encoded = [v.encode() for v in values]
        offsets = np.cumsum([0] + [len(e) for e in encoded]).astype(np.uint32)
        return {
            "values": view(b"".join(encoded)),
            "stringOffsets": view(offsets.tobytes()),
            "stringOffsetType": "UINT32",
        }

    table = {
        "id": strings([b.id for b in buildings]),
        "source": strings(["test" for _ in buildings]),
        "height": {"values": view(np.asarray([b.height for b in buildings], np.float32).tobytes())},
        "levels": {"values": view(np.asarray([b.levels for b in buildings], np.int16).tobytes())},
        "roof_shape": strings(["flat" for _ in buildings]),
        "address": strings([b.address for b in buildings]),
        "name": strings([b.name for b in buildings]),
        "usage": strings([b.usage for b in buildings]),
        "year": strings(["" for _ in buildings]),
    }
    string = {"type": "STRING"}
    gltf = {
        "asset": {"version": "2.0", "generator": "urban-twin viewer test fixture"},
        "extensionsUsed": ["EXT_mesh_features", "EXT_structural_metadata"],
        "extensions": {
            "EXT_structural_metadata": {
                "schema": {
                    "id": "twin",
                    "classes": {
                        "building": {
                            "properties": {
                                "id": string,
                                "source": string,
                                "height": {"type": "SCALAR", "componentType": "FLOAT32"},
                                "levels": {"type": "SCALAR", "componentType": "INT16", "noData": -1},
                                "roof_shape": string,
                                "address": string,
                                "name": string,
                                "usage": string,
                                "year": string,
                            }
                        }
                    },
                },
                "propertyTables": [{"class": "building", "count": len(buildings), "properties": table}],
            }
        },
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "translation": [centre[0], 0.0, -centre[1]]}],
        "meshes": [
            {
                "primitives": [
                    {
                        "attributes": {"POSITION": 0, "NORMAL": 1, "_FEATURE_ID_0": 2},
                        "indices": 3,
                        "material": 0,
                        "extensions": {
                            "EXT_mesh_features": {
                                "featureIds": [{"featureCount": len(buildings), "attribute": 0, "propertyTable": 0}]
                            }
                        },
                    }
                ]
            }
        ],
        "materials": [
            {
                "pbrMetallicRoughness": {
                    "baseColorFactor": [0.92, 0.9, 0.86, 1],
                    "metallicFactor": 0,
                    "roughnessFactor": 0.9,
                }
            }
        ],
        "accessors": accessors,
        "bufferViews": views,
        "buffers": [{"byteLength": sum(len(c) for c in chunks)}],
    }
    json_chunk = _pad(json.dumps(gltf, separators=(",", ":")).encode(), b" ")
    bin_chunk = b"".join(chunks)
    total = 12 + 8 + len(json_chunk) + 8 + len(bin_chunk)
    return (
        struct.pack("<4sII", b"glTF", 2, total)
        + struct.pack("<I4s", len(json_chunk), b"JSON")
        + json_chunk
        + struct.pack("<I4s", len(bin_chunk), b"BIN\0")
        + bin_chunk
    )


def _tileset(buildings: list[Box], out: Path, prefix: str) -> dict:
    """Root tile (the three biggest) + one leaf with the rest, ADD refinement, blobs shared by hash."""
    ranked = sorted(buildings, key=lambda b: b.width * b.depth * b.height, reverse=True)
    groups = [ranked[:3], ranked[3:]]
    uris = []
    for group in groups:
        data = building_glb(group, (0.0, 0.0))
        name = hashlib.sha256(data).hexdigest()[:32] + ".glb"
        (out / "blobs").mkdir(parents=True, exist_ok=True)
        (out / "blobs" / name).write_bytes(data)
        uris.append(prefix + "blobs/" + name)
    top = max(b.height for b in buildings)
    box = [0, 0, top / 2, 80, 0, 0, 0, 80, 0, 0, 0, top / 2]
    return {
        "asset": {"version": "1.1", "generator": "urban-twin viewer test fixture"},
        "geometricError": 200,
        "root": {
            "transform": enu_to_ecef(ORIGIN["lon"], ORIGIN["lat"], ORIGIN["height"]),
            "boundingVolume": {"box": box},
            "geometricError": 30,
            "refine": "ADD",
            "content": {"uri": uris[0]},
            "children": [{"boundingVolume": {"box": box}, "geometricError": 0, "content": {"uri": uris[1]}}],
        },
    }


def write_scene(out: Path) -> dict:
    """Write the base tileset, a ``tower`` variant (way/2 replaced by a 60 m tower) and scene.json."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "tileset.json").write_text(json.dumps(_tileset(BASE_BUILDINGS, out, "")))
    variant = [b for b in BASE_BUILDINGS if b.id != "way/2"] + [TOWER]
    (out / "variants" / "tower").mkdir(parents=True, exist_ok=True)
    (out / "variants" / "tower" / "tileset.json").write_text(json.dumps(_tileset(variant, out, "../../")))
    scene = {
        "id": "demo",
        "title": "Demo",
        "crs": "EPSG:25832",
        "origin": ORIGIN,
        "bounds": [9.9548, 53.5753, 9.9572, 53.5767],
        "attribution": ["© OpenStreetMap contributors", "Test buildings"],
        "licenses": ["CC0-1.0"],
        "tileset": "tileset.json",
        "variants": [
            {
                "id": "tower",
                "title": "Tower",
                "tileset": "variants/tower/tileset.json",
                "designs": [
                    {"id": "tower", "title": "Tower", "metrics": {"gross_floor_area_m2": 3528, "height_m": 60}}
                ],
                "removed": ["way/2"],
                "metrics_delta": {"gross_floor_area_m2": 2504, "buildings": 0},
            }
        ],
        "build": {"id": "test", "created": "2025-01-01T00:00:00Z", "report": "report.json"},
    }
    (out / "scene.json").write_text(json.dumps(scene, ensure_ascii=False, indent=1))
    return scene
