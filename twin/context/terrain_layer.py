"""The terrain layer of a build: the scene's DEM as a working-CRS grid, buildings on it, terrain tilesets.

The build calls four things here: :func:`load_terrain` (read the manifest's DEM around the buildings, in
working z), :func:`mesh_terrain` (the tile pyramid and the ground its finest tiles show),
:func:`building_grounds` (how far each building's base moves up or down to stand on that ground) and
:func:`write_terrain` (encode and store a terrain tileset, e.g. ``terrain/tileset.json`` next to the city's,
sharing its ``blobs/``). A variant with designs writes its own terrain tileset from a
grid with the design sites levelled (:func:`flatten_sites`); every tile the levelling does not reach has the
same bytes, so it is the very same blob as the city's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import Polygon

from twin.context.terrain import (
    TILE_CELLS,
    Datum,
    HeightGrid,
    TerrainTile,
    flatten_site,
    footprint_ground,
    mesh_pyramid,
    site_detail,
    surface_grid,
    working_offset,
)
from twin.crs import Frame
from twin.errors import ManifestError
from twin.records import Building
from twin.store import write_blob, write_json_atomic

#: Keys a ``[terrain]`` table may hold.
TERRAIN_KEYS = {"dem", "datum", "max_error", "margin", "tile_cells", "step", "site_blend"}


@dataclass(frozen=True)
class TerrainSpec:
    """The manifest's ``[terrain]`` table.

    dem : the DEM file (GeoTIFF, SRTM .hgt or .hgt.zip, a zipped GeoTIFF; any CRS)
    datum : ``"normal"`` (SRTM/EGM96, DHHN: the scene's ``geoid_undulation`` is added) or ``"ellipsoidal"``
    max_error : the finest tiles' error bound (m); each level up allows twice as much
    margin : terrain reaches this far beyond the buildings (m)
    tile_cells : DEM cells along a terrain tile's side
    step : post spacing (m); default the DEM's resolution
    site_blend : a design's levelled site blends into the slope over this many metres
    """

    dem: Path
    datum: Datum = "normal"
    max_error: float = 1.0
    margin: float = 500.0
    tile_cells: int = TILE_CELLS
    step: float | None = None
    site_blend: float = 20.0

    @classmethod
    def from_dict(cls, data: Any, root: Path, where: str = "[terrain]") -> TerrainSpec:
        """Parse a ``[terrain]`` table; paths are relative to ``root``. Raises ManifestError naming the key."""
        if not isinstance(data, dict):
            raise ManifestError(f"{where} must be a table")
        unknown = sorted(set(data) - TERRAIN_KEYS)
        if unknown:
            raise ManifestError(f"{where}: unknown keys {unknown}; expected some of {sorted(TERRAIN_KEYS)}")
        if not isinstance(data.get("dem"), str):
            raise ManifestError(f"{where}: 'dem' (the DEM file) is required")
        dem = root / data["dem"]
        if not dem.exists():
            raise ManifestError(f"{where}: DEM {dem} does not exist")
        datum = data.get("datum", "normal")
        if datum not in ("normal", "ellipsoidal"):
            raise ManifestError(f"{where}: datum must be 'normal' or 'ellipsoidal', got {datum!r}")
        try:
            spec = cls(
                dem=dem,
                datum=datum,
                max_error=float(data.get("max_error", 1.0)),
                margin=float(data.get("margin", 500.0)),
                tile_cells=int(data.get("tile_cells", TILE_CELLS)),
                step=None if data.get("step") is None else float(data["step"]),
                site_blend=float(data.get("site_blend", 20.0)),
            )
        except (TypeError, ValueError) as exc:
            raise ManifestError(f"{where}: {exc}") from exc
        checks = [
            (spec.max_error > 0, "max_error must be positive"),
            (spec.margin >= 0, "margin must not be negative"),
            (2 <= spec.tile_cells <= 512, "tile_cells must be 2 to 512"),
            (spec.step is None or spec.step > 0, "step must be positive"),
            (spec.site_blend >= 0, "site_blend must not be negative"),
        ]
        for ok, message in checks:
            if not ok:
                raise ManifestError(f"{where}: {message}")
        return spec

    def fingerprint(self) -> str:
        """What decides the terrain (for incremental rebuilds): the DEM file's size and time and the settings."""
        st = self.dem.stat()
        return f"{self.dem.resolve()}|{st.st_size}|{st.st_mtime_ns}|{self}"


@dataclass(frozen=True)
class Terrain:
    """A scene's terrain: the grid in working z and figures for the report.

    grid : heights in working z (metres above the scene's z = 0)
    info : DEM name, post spacing, filled share, height range
    """

    grid: HeightGrid
    info: dict[str, Any]


def load_terrain(
    spec: TerrainSpec, crs: str, bounds: tuple[float, float, float, float], z0_height: float, geoid_undulation: float
) -> Terrain:
    """Read the DEM over ``bounds`` (working CRS) plus the margin, in working z."""
    from twin.context.dem import read_dem  # rasterio loads GDAL: only builds with terrain pay for it

    minx, miny, maxx, maxy = bounds
    m = spec.margin
    window = read_dem(spec.dem, crs, (minx - m, miny - m, maxx + m, maxy + m), step=spec.step)
    grid = window.grid.shifted(working_offset(spec.datum, geoid_undulation, z0_height))
    info = {
        "dem": spec.dem.name,
        "datum": spec.datum,
        "posts": list(grid.shape),
        "step_m": round(grid.step, 3),
        "dem_step_m": round(window.native_step, 3),
        "filled_share": round(window.filled, 4),
        "z_range_m": [round(float(grid.heights.min()), 2), round(float(grid.heights.max()), 2)],
    }
    return Terrain(grid, info)


def building_grounds(grid: HeightGrid | None, buildings: Sequence[Building]) -> np.ndarray:
    """How far each building moves up to stand on the ground: (n,) float64 working z.

    An extruded building's walls reach down to the lowest ground point of its footprint. A building part
    stands where its parent building stands (so the parts of one building stay together). Surface models
    (CityGML) carry their own heights and do not move. Without terrain every building stays at z = 0.
    """
    out = np.zeros(len(buildings))
    if grid is None:
        return out
    extruded = [i for i, b in enumerate(buildings) if not b.is_surface_model and b.footprint is not None]
    if extruded:
        out[extruded] = footprint_ground(grid, [buildings[i].footprint for i in extruded])[:, 0]
    by_id = {b.id: i for i, b in enumerate(buildings) if b.parent is None}
    for i, b in enumerate(buildings):
        parent = by_id.get(b.parent) if b.parent is not None else None
        if parent is not None and not b.is_surface_model:
            out[i] = out[parent]
    return out


def flatten_sites(grid: HeightGrid, sites: Iterable[tuple[Polygon, float]], blend: float) -> HeightGrid:
    """The grid with every (site, z) levelled to z and blended into the slope around it."""
    for site, z in sites:
        grid = flatten_site(grid, site, z, blend)
    return grid


def mesh_terrain(grid: HeightGrid, spec: TerrainSpec) -> tuple[TerrainTile, HeightGrid]:
    """The tile pyramid of ``grid`` and its finest tiles' surface at every post (what buildings stand on)."""
    root = mesh_pyramid(grid, spec.max_error, spec.tile_cells)
    return root, surface_grid(root, grid)


def write_terrain(
    root: TerrainTile,
    source: str,
    frame: Frame,
    out_dir: Path,
    blob_dir: Path,
    *,
    compress: bool = True,
    version: str = "",
) -> tuple[dict[str, Any], set[str]]:
    """Store the pyramid's tiles as blobs and write ``out_dir/tileset.json``.

    Returns figures for the build report and the names of the blobs the tileset uses.
    """
    from twin.context.terrain_tiles import encode_terrain_tile, terrain_tileset

    started = time.perf_counter()
    prefix = os.path.relpath(blob_dir.resolve(), out_dir.resolve()).replace(os.sep, "/") + "/"
    contents, names = {}, {}
    for tile in root.walk():
        content = encode_terrain_tile(tile, frame, source, compress=compress)
        contents[tile.key] = content
        names[tile.key] = write_blob(blob_dir, content.glb)
    uris = {key: prefix + name for key, name in names.items()}
    tileset = terrain_tileset(root, contents, uris, frame)
    tileset.tileset_version = version
    write_json_atomic(out_dir / "tileset.json", tileset.to_dict())
    tiles = root.walk()
    info = {
        "tiles": len(tiles),
        "levels": max(t.level for t in tiles) + 1,
        "triangles": sum(c.triangles for c in contents.values()),
        "bytes": sum(len(c.glb) for c in contents.values()),
        "root_error_m": round(root.error, 3),
        "leaf_error_m": round(max(t.error for t in tiles if not t.children), 3),
        "encode_seconds": round(time.perf_counter() - started, 3),
    }
    return info, set(names.values())


@dataclass(frozen=True)
class CityTerrain:
    """What a build keeps of its terrain: the grid, its pyramid, the ground buildings stand on, figures."""

    spec: TerrainSpec
    grid: HeightGrid
    root: TerrainTile
    surface: HeightGrid
    info: dict[str, Any]


def prepare_terrain(
    spec: TerrainSpec, crs: str, buildings: Sequence[Building], z0_height: float, geoid_undulation: float
) -> CityTerrain:
    """Read and mesh the terrain under ``buildings`` (working CRS ``crs``)."""
    with_fp = [b.footprint.bounds for b in buildings if b.footprint is not None]
    b = np.asarray(with_fp)
    bounds = (
        (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())) if with_fp else None
    )
    return terrain_under(spec, crs, bounds, z0_height, geoid_undulation)


def terrain_under(
    spec: TerrainSpec,
    crs: str,
    bounds: tuple[float, float, float, float] | None,
    z0_height: float,
    geoid_undulation: float,
) -> CityTerrain:
    """Read and mesh the terrain under the footprints' ``bounds`` (for a build that never holds all buildings)."""
    started = time.perf_counter()
    if bounds is None:
        raise ManifestError("[terrain]: the scene has no footprints to place terrain under")
    terrain = load_terrain(spec, crs, bounds, z0_height, geoid_undulation)
    root, surface = mesh_terrain(terrain.grid, spec)
    info = {**terrain.info, "read_mesh_seconds": round(time.perf_counter() - started, 3)}
    return CityTerrain(spec, terrain.grid, root, surface, info)


def on_the_ground(terrain: CityTerrain | None, buildings: Sequence[Building]) -> list[Building]:
    """The buildings with their ``ground`` (working z their base moves to, see :func:`building_grounds`)."""
    if terrain is None:
        return list(buildings)
    grounds = building_grounds(terrain.surface, buildings)
    return [
        replace(b, properties={**b.properties, "ground": round(float(g), 3)}) if g != 0.0 else b
        for b, g in zip(buildings, grounds, strict=True)
    ]


def lift(positions: np.ndarray, owner: np.ndarray, buildings: Sequence[Building]) -> np.ndarray:
    """Mesh vertices (n, 3) moved up by their building's ``ground`` (``owner``: the building of each vertex)."""
    ground = np.array([float(b.properties.get("ground", 0.0)) for b in buildings])
    if not ground.any():
        return positions
    out = np.array(positions, dtype=np.float64)
    out[:, 2] += ground[owner]
    return out


def site_base(terrain: CityTerrain, site: Polygon) -> float:
    """The lowest ground of a design's site: where a design anchored on the ground stands."""
    return float(footprint_ground(terrain.surface, [site])[0, 0])


def write_variant_terrain(
    terrain: CityTerrain,
    sites: Sequence[tuple[Polygon, float]],
    frame: Frame,
    out_dir: Path,
    blob_dir: Path,
    *,
    compress: bool = True,
    version: str = "",
) -> tuple[dict[str, Any], set[str]]:
    """A variant's terrain tileset: the city's grid with the design sites levelled, in ``out_dir``."""
    blend = terrain.spec.site_blend
    flat = flatten_sites(terrain.grid, sites, blend)
    # Sites are often smaller than a DEM cell: the finest tiles around them are meshed from finer posts.
    detail = site_detail(terrain.grid, sites, blend)
    root = mesh_pyramid(flat, terrain.spec.max_error, terrain.spec.tile_cells, detail)
    return write_terrain(root, terrain.grid.source, frame, out_dir, blob_dir, compress=compress, version=version)


def scene_terrain(scene: Any, crs: str, buildings: Sequence[Building]) -> CityTerrain | None:
    """The terrain of a :class:`twin.scene.Scene` with a ``[terrain]`` table, else None (flat ground)."""
    if scene.terrain is None:
        return None
    return prepare_terrain(scene.terrain, crs, buildings, scene.z0_height, scene.geoid_undulation)
