"""Terrain geometry: a height grid in the working CRS, ground sampling, site flattening and tiled LoD meshes.

A :class:`HeightGrid` is a raster of *posts* (point samples, not cells) in the working CRS, north up:
post ``(row, col)`` sits at ``(x0 + col * step, y0 - row * step)``. Heights are working z (metres above the
scene's z = 0), so buildings, designs and terrain share one vertical frame (see :func:`working_offset`).

Meshing (:func:`mesh_pyramid`) cuts the grid into a quadtree of tiles of ``tile_cells`` cells each: the root
covers the whole grid with every ``2**levels``-th post, each level halves the tiles and the stride, and the
leaves use every post. Each tile is simplified by Delatin (pydelatin: greedy insertion until the mesh is
within ``max_error`` of the posts it was given) with an error bound that doubles per level up, so far-away
tiles are coarse. Every tile's real deviation from the full-resolution grid is then *measured* and becomes its
geometric error. Cracks between neighbours (same level or not) are covered by skirts: along the tile border
each mesh edge gets a vertical strip reaching ``2 * error + SKIRT_MARGIN`` down, more than the largest gap two
neighbours within their errors can leave. Normals come from the full-resolution grid's gradient, so
neighbouring tiles shade alike across their border.

Nothing here does I/O; :mod:`twin.context.dem` reads DEM files into a :class:`HeightGrid`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import shapely
from pydelatin import Delatin
from shapely.geometry import MultiPolygon, Polygon

from twin.errors import InvalidGeometry

#: Cells along a tile side: a leaf tile of SRTM (30–90 m posts) spans 2–6 km, of a 1 m DEM 64 m.
TILE_CELLS = 64
#: Skirts reach this much further down than twice the tile's error (Draco's 5 mm steps, float rounding).
SKIRT_MARGIN = 0.5
#: Vertical datums of DEM heights: normal heights (SRTM/EGM96, DHHN) get the geoid undulation added.
Datum = Literal["normal", "ellipsoidal"]


def working_offset(datum: Datum, geoid_undulation: float, z0_height: float) -> float:
    """What to add to a DEM's heights to get working z (metres above the scene's z = 0).

    Working z = 0 is the ellipsoidal height ``z0_height``; a normal height H (EGM96, DHHN2016) is the
    ellipsoidal height H + N with N the geoid undulation, as the manifest states it for buildings.
    """
    if datum == "normal":
        return geoid_undulation - z0_height
    if datum == "ellipsoidal":
        return -z0_height
    raise InvalidGeometry(f"unknown vertical datum {datum!r}; expected 'normal' or 'ellipsoidal'")


@dataclass(frozen=True)
class HeightGrid:
    """Terrain heights on a regular grid of posts in the working CRS.

    heights : (rows, cols) float64, row 0 is the northern edge; all finite
    x0, y0 : position of post (0, 0), the north-west corner
    step : post spacing in metres (> 0)
    crs : the working CRS
    source : what the heights came from (for metadata and the report)
    """

    heights: np.ndarray
    x0: float
    y0: float
    step: float
    crs: str
    source: str = ""

    def __post_init__(self) -> None:
        h = np.asarray(self.heights)
        if h.ndim != 2 or min(h.shape) < 2:
            raise InvalidGeometry(f"heights must be (rows, cols) with at least 2 posts each, got {h.shape}")
        if not np.all(np.isfinite(h)):
            raise InvalidGeometry("heights contain NaN or infinity (fill nodata first)")
        if not (self.step > 0 and math.isfinite(self.step)):
            raise InvalidGeometry(f"grid step must be positive, got {self.step}")

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of posts."""
        return self.heights.shape[0], self.heights.shape[1]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) of the posts."""
        rows, cols = self.shape
        return self.x0, self.y0 - (rows - 1) * self.step, self.x0 + (cols - 1) * self.step, self.y0

    def shifted(self, dz: float) -> HeightGrid:
        """The same grid with ``dz`` added to every height (e.g. :func:`working_offset`)."""
        return replace(self, heights=self.heights + dz)

    def post_xy(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Working x, y of posts (fractional indices allowed)."""
        return self.x0 + np.asarray(cols, dtype=np.float64) * self.step, self.y0 - np.asarray(
            rows, dtype=np.float64
        ) * self.step

    def sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Bilinear heights at working (x, y) arrays of any shape; points beyond the grid take the edge's."""
        col = (np.asarray(x, dtype=np.float64) - self.x0) / self.step
        row = (self.y0 - np.asarray(y, dtype=np.float64)) / self.step
        return _bilinear(self.heights, row, col)

    def normals(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Unit surface normals (n, 3) at working points, from the grid's central-difference gradient."""
        gy, gx = np.gradient(self.heights, self.step)
        col = (np.asarray(x, dtype=np.float64) - self.x0) / self.step
        row = (self.y0 - np.asarray(y, dtype=np.float64)) / self.step
        # Rows run south, so dz/dy (north) is minus the gradient along rows.
        dzdx, dzdy = _bilinear(gx, row, col), -_bilinear(gy, row, col)
        n = np.column_stack([-dzdx.ravel(), -dzdy.ravel(), np.ones(dzdx.size)])
        return n / np.linalg.norm(n, axis=1)[:, None]


def _bilinear(values: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of a 2-D array at fractional (row, col), clamped to the array."""
    rows, cols = values.shape
    r = np.clip(row, 0.0, rows - 1.0)
    c = np.clip(col, 0.0, cols - 1.0)
    r0 = np.minimum(np.floor(r).astype(np.int64), rows - 2)
    c0 = np.minimum(np.floor(c).astype(np.int64), cols - 2)
    fr, fc = r - r0, c - c0
    top = values[r0, c0] * (1 - fc) + values[r0, c0 + 1] * fc
    bottom = values[r0 + 1, c0] * (1 - fc) + values[r0 + 1, c0 + 1] * fc
    out: np.ndarray = top * (1 - fr) + bottom * fr
    return out


def grid_for(bounds: tuple[float, float, float, float], step: float) -> tuple[float, float, int, int]:
    """Posts every ``step`` metres covering ``bounds``, centred on them: (x0, y0, rows, cols)."""
    minx, miny, maxx, maxy = bounds
    cols = max(math.ceil((maxx - minx) / step - 1e-9), 1) + 1
    rows = max(math.ceil((maxy - miny) / step - 1e-9), 1) + 1
    cx, cy = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    return cx - (cols - 1) * step / 2.0, cy + (rows - 1) * step / 2.0, rows, cols


# -- ground under buildings --------------------------------------------------------------------------------------


def ground_height(grid: HeightGrid | None, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ground heights (working z) at points; 0 everywhere without terrain (flat ground at z = 0)."""
    if grid is None:
        return np.zeros(np.broadcast(np.asarray(x), np.asarray(y)).shape)
    return grid.sample(x, y)


def footprint_ground(grid: HeightGrid | None, footprints: list[Polygon | MultiPolygon]) -> np.ndarray:
    """Lowest and highest ground point of each footprint: (n, 2) float64 of (min, max) working z.

    The surface is bilinear per cell, so its extremes over a polygon lie on the polygon's boundary or on posts
    inside it: the boundary is sampled every quarter step and the posts inside are added. Without terrain
    every footprint stands on z = 0.
    """
    out = np.zeros((len(footprints), 2))
    if grid is None or not footprints:
        return out
    geoms = np.array(footprints, dtype=object)
    boundary = shapely.segmentize(shapely.boundary(geoms), grid.step / 4.0)
    pts, owner = shapely.get_coordinates(boundary, return_index=True)
    z = grid.sample(pts[:, 0], pts[:, 1])
    lo = np.full(len(footprints), np.inf)
    hi = np.full(len(footprints), -np.inf)
    np.minimum.at(lo, owner, z)
    np.maximum.at(hi, owner, z)
    # Posts inside: only footprints that can hold one (wider than a cell along both axes).
    b = shapely.bounds(geoms)
    big = np.flatnonzero((b[:, 2] - b[:, 0] >= grid.step) & (b[:, 3] - b[:, 1] >= grid.step))
    for i in big:
        c0, c1 = np.ceil((b[i, 0] - grid.x0) / grid.step), np.floor((b[i, 2] - grid.x0) / grid.step)
        r0, r1 = np.ceil((grid.y0 - b[i, 3]) / grid.step), np.floor((grid.y0 - b[i, 1]) / grid.step)
        rows, cols = grid.shape
        rr, cc = np.meshgrid(
            np.arange(max(r0, 0), min(r1, rows - 1) + 1, dtype=np.int64),
            np.arange(max(c0, 0), min(c1, cols - 1) + 1, dtype=np.int64),
            indexing="ij",
        )
        if rr.size == 0:
            continue
        px, py = grid.post_xy(rr.ravel(), cc.ravel())
        inside = shapely.contains_xy(geoms[i], px, py)
        if inside.any():
            zi = grid.heights[rr.ravel()[inside], cc.ravel()[inside]]
            lo[i], hi[i] = min(lo[i], zi.min()), max(hi[i], zi.max())
    out[:, 0], out[:, 1] = lo, hi
    return out


def level_sites(
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    sites: Sequence[tuple[Polygon | MultiPolygon, float]],
    blend: float,
    pad: float = 0.0,
) -> np.ndarray:
    """Heights ``z`` at points (x, y) with every (site, level) levelled, blended into the slope around it.

    Inside a site (and ``pad`` metres around it) the height is its level; at distance d < blend beyond that
    it moves towards its own height along a smoothstep of d / blend (no kink at either end); further out
    nothing changes.
    """
    out = np.array(z, dtype=np.float64)
    points = shapely.points(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    for site, level in sites:
        if site.is_empty:
            continue
        d = np.maximum(shapely.distance(site, points) - pad, 0.0)
        t = np.clip(d / blend, 0.0, 1.0) if blend > 0 else (d > 0).astype(np.float64)
        w = t * t * (3.0 - 2.0 * t)
        out = level + (out - level) * w
    return out


def flatten_site(grid: HeightGrid, site: Polygon | MultiPolygon, z: float, blend: float = 20.0) -> HeightGrid:
    """The grid with ``site`` levelled to ``z`` at its posts, blended into the slope (:func:`level_sites`)."""
    if site.is_empty:
        return grid
    minx, miny, maxx, maxy = site.buffer(blend + grid.step).bounds
    rows, cols = grid.shape
    r0, r1 = max(int((grid.y0 - maxy) // grid.step), 0), min(math.ceil((grid.y0 - miny) / grid.step), rows - 1)
    c0, c1 = max(int((minx - grid.x0) // grid.step), 0), min(math.ceil((maxx - grid.x0) / grid.step), cols - 1)
    if r1 < r0 or c1 < c0:
        return grid
    rr, cc = (a.ravel() for a in np.meshgrid(np.arange(r0, r1 + 1), np.arange(c0, c1 + 1), indexing="ij"))
    px, py = grid.post_xy(rr, cc)
    heights = grid.heights.copy()
    heights[rr, cc] = level_sites(px, py, heights[rr, cc], [(site, z)], blend)
    return replace(grid, heights=heights)


@dataclass(frozen=True)
class Detail:
    """Finer heights for the finest tiles over ``area`` (a design site is often smaller than one DEM cell).

    area : where the finest tiles are meshed from ``factor`` times as many posts along each side
    heights : (x, y) arrays → heights there, e.g. the DEM bilinear with the sites levelled
    max_error : those tiles' error bound (a levelled site should look level: tighter than the DEM's)
    """

    area: Polygon | MultiPolygon
    heights: Callable[[np.ndarray, np.ndarray], np.ndarray]
    factor: int = 8
    max_error: float = 0.05


def site_detail(
    grid: HeightGrid, sites: Sequence[tuple[Polygon | MultiPolygon, float]], blend: float, factor: int = 8
) -> Detail:
    """The :class:`Detail` that levels ``sites`` between the grid's posts (the DEM bilinear, then levelled).

    The level reaches one and a half fine steps beyond each site, so every fine cell a site touches is level
    (a site's edge falls between posts; without the pad, cells across it would tilt the site's rim).
    """
    area = shapely.union_all([site.buffer(blend + 2.0 * grid.step) for site, _ in sites])
    pad = 1.5 * grid.step / factor

    def heights(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return level_sites(x, y, grid.sample(x, y), sites, blend, pad)

    return Detail(area, heights, factor)


# -- meshing -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TerrainTile:
    """One tile of the terrain pyramid, in working coordinates.

    level, row, col : its place in the quadtree (level 0 is the root; row/col count from the north-west)
    bounds : (minx, miny, maxx, maxy) it covers
    positions : (n, 3) float64 working coordinates, the surface first and then the skirt vertices
    normals : (n, 3) float64 unit vectors
    indices : (m, 3) int64, counter-clockwise seen from above
    surface_vertices : how many of ``positions`` are the surface (the rest hang down as skirts)
    error : measured largest vertical deviation of the surface from the full-resolution grid (m)
    skirt : how far the skirts reach below the border (m)
    children : the four (or fewer) tiles of the next level
    """

    level: int
    row: int
    col: int
    bounds: tuple[float, float, float, float]
    positions: np.ndarray
    normals: np.ndarray
    indices: np.ndarray
    surface_vertices: int
    error: float
    skirt: float
    children: tuple[TerrainTile, ...] = field(default=())

    @property
    def key(self) -> str:
        """A stable name, ``"<level>/<row>/<col>"``."""
        return f"{self.level}/{self.row}/{self.col}"

    def walk(self) -> list[TerrainTile]:
        """This tile and all its descendants, parents first."""
        out = [self]
        for c in self.children:
            out.extend(c.walk())
        return out


def pyramid_levels(grid: HeightGrid, tile_cells: int = TILE_CELLS) -> int:
    """Levels below the root so the leaves use every post (the grid is padded up to ``tile_cells * 2**L``)."""
    cells = max(grid.shape) - 1
    return max(0, math.ceil(math.log2(cells / tile_cells))) if cells > tile_cells else 0


def mesh_pyramid(
    grid: HeightGrid, max_error: float = 1.0, tile_cells: int = TILE_CELLS, detail: Detail | None = None
) -> TerrainTile:
    """Mesh ``grid`` as a quadtree of simplified tiles; returns the root (see the module docs).

    max_error : the leaves' Delatin error bound (m); a level up allows twice as much
    tile_cells : cells along a tile side (a power of two keeps strides even)
    detail : finer heights for the finest tiles that touch its area (their error is measured against those)
    """
    if not (max_error > 0 and math.isfinite(max_error)):
        raise InvalidGeometry(f"max_error must be positive, got {max_error}")
    if tile_cells < 2:
        raise InvalidGeometry(f"tile_cells must be at least 2, got {tile_cells}")
    levels = pyramid_levels(grid, tile_cells)
    size = tile_cells * 2**levels + 1
    rows, cols = grid.shape
    # Pad south and east by repeating the edge, so every tile falls on posts; tiles wholly in the padding
    # are dropped and the others are clipped to the data below.
    heights = np.pad(grid.heights, ((0, size - rows), (0, size - cols)), mode="edge")
    padded = replace(grid, heights=heights)

    def build(level: int, row: int, col: int) -> TerrainTile | None:
        stride = 2 ** (levels - level)
        span = tile_cells * stride
        r0, c0 = row * span, col * span
        if r0 >= rows - 1 or c0 >= cols - 1:
            return None
        r1, c1 = min(r0 + span, rows - 1), min(c0 + span, cols - 1)
        quads = [(2 * row + dr, 2 * col + dc) for dr in (0, 1) for dc in (0, 1)] if level < levels else []
        children = tuple(t for t in (build(level + 1, r, c) for r, c in quads) if t is not None)
        bound = max_error * 2 ** (levels - level)
        if detail is not None and level == levels:
            (bx0, bx1), (by1, by0) = grid.post_xy(np.array([r0, r1]), np.array([c0, c1]))
            if detail.area.intersects(shapely.box(bx0, by0, bx1, by1)):
                return _mesh_detail(grid, detail, level, row, col, (r0, r1, c0, c1), bound)
        return _mesh_tile(padded, level, row, col, (r0, r1, c0, c1), stride, bound, children)

    root = build(0, 0, 0)
    assert root is not None  # the grid has at least one cell
    return root


def _mesh_tile(
    grid: HeightGrid,
    level: int,
    row: int,
    col: int,
    window: tuple[int, int, int, int],
    stride: int,
    bound: float,
    children: tuple[TerrainTile, ...],
) -> TerrainTile:
    """One tile: Delatin over the window's posts at ``stride``, measured against every post, with skirts."""
    r0, r1, c0, c1 = window
    # Posts at the stride, plus the window's last row/column when the data ends between strides.
    rs = np.unique(np.append(np.arange(r0, r1 + 1, stride), r1))
    cs = np.unique(np.append(np.arange(c0, c1 + 1, stride), c1))
    sub = grid.heights[np.ix_(rs, cs)]
    tin = Delatin(sub, max_error=bound)
    vx = np.asarray(tin.vertices, dtype=np.float64)
    tri = np.asarray(tin.triangles, dtype=np.int64)
    # Delatin's x is the column of ``sub`` and its y counts rows from the last one up; map both to full-grid
    # post indices.
    vcol = cs[np.round(vx[:, 0]).astype(np.int64)]
    vrow = rs[len(rs) - 1 - np.round(vx[:, 1]).astype(np.int64)]
    z = grid.heights[vrow, vcol]
    window_heights = grid.heights[r0 : r1 + 1, c0 : c1 + 1]
    at_posts = _mesh_at_posts(np.column_stack([vrow, vcol, z]), tri, window_heights.shape, r0, c0)
    error = float(np.abs(at_posts - window_heights).max())
    # Seen from above with rows running south, Delatin's triangles turn clockwise; flip to counter-clockwise.
    tri = _counter_clockwise(vcol, -vrow, tri)
    x, y = grid.post_xy(vrow, vcol)
    surface = np.column_stack([x, y, z])
    normals = grid.normals(x, y)
    skirt = 2.0 * error + SKIRT_MARGIN
    positions, normals, indices = _with_skirts(surface, normals, tri, skirt)
    bx0, by1 = grid.post_xy(np.array([r0]), np.array([c0]))
    bx1, by0 = grid.post_xy(np.array([r1]), np.array([c1]))
    return TerrainTile(
        level,
        row,
        col,
        (float(bx0[0]), float(by0[0]), float(bx1[0]), float(by1[0])),
        positions,
        normals,
        indices,
        len(surface),
        error,
        skirt,
        children,
    )


def _mesh_detail(
    grid: HeightGrid, detail: Detail, level: int, row: int, col: int, window: tuple[int, int, int, int], bound: float
) -> TerrainTile:
    """A finest tile meshed from ``detail.factor`` times finer posts of the detail heights."""
    r0, r1, c0, c1 = window
    k = detail.factor
    (x0, _), (y0, _) = grid.post_xy(np.array([r0, r1]), np.array([c0, c1]))
    step = grid.step / k
    rows, cols = (r1 - r0) * k + 1, (c1 - c0) * k + 1
    gx, gy = np.meshgrid(x0 + np.arange(cols) * step, y0 - np.arange(rows) * step)
    fine = HeightGrid(detail.heights(gx, gy), float(x0), float(y0), step, grid.crs, grid.source)
    return _mesh_tile(fine, level, row, col, (0, rows - 1, 0, cols - 1), 1, min(bound, detail.max_error), ())


def _counter_clockwise(x: np.ndarray, y: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Triangles reordered to turn counter-clockwise in the (x, y) plane."""
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    cross = (x[b] - x[a]) * (y[c] - y[a]) - (y[b] - y[a]) * (x[c] - x[a])
    out = tri.copy()
    flip = cross < 0
    out[flip, 1], out[flip, 2] = tri[flip, 2], tri[flip, 1]
    return out


def _mesh_at_posts(vertices: np.ndarray, tri: np.ndarray, shape: tuple[int, int], r0: int, c0: int) -> np.ndarray:
    """The mesh's height at every post of a window of ``shape`` starting at post (r0, c0).

    vertices : (n, 3) of (row, col, z) in full-grid post indices. Each triangle is tested against the posts of
    its bounding box by barycentric coordinates, all triangles at once.
    """
    p = vertices[tri]  # (m, 3, 3)
    lo = np.floor(p[:, :, :2].min(axis=1)).astype(np.int64)
    hi = np.ceil(p[:, :, :2].max(axis=1)).astype(np.int64)
    nr, nc = hi[:, 0] - lo[:, 0] + 1, hi[:, 1] - lo[:, 1] + 1
    counts = nr * nc
    t = np.repeat(np.arange(len(tri)), counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    pr = lo[t, 0] + k // nc[t]
    pc = lo[t, 1] + k % nc[t]
    zm, inside = _barycentric(p[t], pr.astype(np.float64), pc.astype(np.float64))
    out = np.full(shape, np.nan)
    out[pr[inside] - r0, pc[inside] - c0] = zm[inside]
    if not np.isfinite(out).all():
        raise InvalidGeometry("terrain tile mesh does not cover its window")
    return out


@dataclass(frozen=True)
class LeafSurface(HeightGrid):
    """The finest tiles' surface, the ground a viewer sees up close, as a :class:`HeightGrid`.

    ``heights`` holds the surface at every post; :meth:`sample` finds the triangle under each point, so
    between posts it is the rendered surface too, not a bilinear blend.

    triangles : (m, 3, 3) float64, every leaf surface triangle as (row, col, z) corners in post indices
    cell_start : (cells + 1,) int64 CSR offsets into ``cell_triangles`` for cell ``row * (cols - 1) + col``
    cell_triangles : (k,) int64, the triangles overlapping each cell
    """

    triangles: np.ndarray = field(default_factory=lambda: np.zeros((0, 3, 3)))
    cell_start: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    cell_triangles: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The surface's heights at working (x, y) arrays; points beyond the grid take the nearest edge's."""
        rows, cols = self.shape
        shape = np.broadcast(np.asarray(x), np.asarray(y)).shape
        col = np.clip((np.asarray(x, dtype=np.float64).ravel() - self.x0) / self.step, 0.0, cols - 1.0)
        row = np.clip((self.y0 - np.asarray(y, dtype=np.float64).ravel()) / self.step, 0.0, rows - 1.0)
        cell = np.minimum(row.astype(np.int64), rows - 2) * (cols - 1) + np.minimum(col.astype(np.int64), cols - 2)
        counts = self.cell_start[cell + 1] - self.cell_start[cell]
        point = np.repeat(np.arange(len(cell)), counts)
        k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        tri = self.cell_triangles[self.cell_start[cell[point]] + k]
        z, inside = _barycentric(self.triangles[tri], row[point], col[point])
        out = np.full(len(cell), np.nan)
        out[point[inside]] = z[inside]
        return out.reshape(shape)


def surface_grid(root: TerrainTile, grid: HeightGrid) -> LeafSurface:
    """The finest tiles' surface over ``grid`` (see :class:`LeafSurface`): what buildings stand on.

    Buildings sample this rather than the DEM, so their walls reach the rendered ground: the leaves lie
    within ``max_error`` of the DEM, and a building placed on the DEM could float that much above them.
    """
    rows, cols = grid.shape
    heights = np.full(grid.shape, np.nan)
    parts = []
    for tile in root.walk():
        if tile.children:
            continue
        top = tile.positions[: tile.surface_vertices]
        surface = tile.indices[np.all(tile.indices < tile.surface_vertices, axis=1)]
        vertices = np.column_stack(
            [np.round((grid.y0 - top[:, 1]) / grid.step), np.round((top[:, 0] - grid.x0) / grid.step), top[:, 2]]
        )
        minx, miny, maxx, maxy = tile.bounds
        r0, c0 = round((grid.y0 - maxy) / grid.step), round((minx - grid.x0) / grid.step)
        r1, c1 = round((grid.y0 - miny) / grid.step), round((maxx - grid.x0) / grid.step)
        heights[r0 : r1 + 1, c0 : c1 + 1] = _mesh_at_posts(vertices, surface, (r1 - r0 + 1, c1 - c0 + 1), r0, c0)
        parts.append(vertices[surface])
    triangles = np.concatenate(parts)
    # Which cells each triangle overlaps (its bounding box's cells), as CSR lists per cell.
    lo = np.floor(triangles[:, :, :2].min(axis=1)).astype(np.int64)
    hi = np.maximum(np.ceil(triangles[:, :, :2].max(axis=1)).astype(np.int64) - 1, lo)
    nr, nc = hi[:, 0] - lo[:, 0] + 1, hi[:, 1] - lo[:, 1] + 1
    counts = nr * nc
    t = np.repeat(np.arange(len(triangles)), counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    cell = (lo[t, 0] + k // nc[t]) * (cols - 1) + lo[t, 1] + k % nc[t]
    order = np.argsort(cell, kind="stable")
    start = np.searchsorted(cell[order], np.arange((rows - 1) * (cols - 1) + 1))
    return LeafSurface(
        heights, grid.x0, grid.y0, grid.step, grid.crs, grid.source, triangles, start.astype(np.int64), t[order]
    )


def _barycentric(tri: np.ndarray, row: np.ndarray, col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Heights of triangles (m, 3, 3) of (row, col, z) at points (m,), and whether each point is inside."""
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    det = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1])
    ok = det != 0
    det = np.where(ok, det, 1.0)
    u = ((row - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (col - a[:, 1])) / det
    v = ((b[:, 0] - a[:, 0]) * (col - a[:, 1]) - (row - a[:, 0]) * (b[:, 1] - a[:, 1])) / det
    inside = ok & (u >= -1e-9) & (v >= -1e-9) & (u + v <= 1 + 1e-9)
    return a[:, 2] + u * (b[:, 2] - a[:, 2]) + v * (c[:, 2] - a[:, 2]), inside


def _with_skirts(
    surface: np.ndarray, normals: np.ndarray, tri: np.ndarray, depth: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add a vertical strip ``depth`` deep under every border edge (an edge of one triangle only).

    The strip's vertices are copies of the border vertices moved down; they keep the surface normals so the
    strip, seen through a crack, shades like the ground next to it.
    """
    edges = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]])
    key = np.sort(edges, axis=1)
    _, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    border = edges[counts[inverse.ravel()] == 1]  # directed as in their triangle (counter-clockwise)
    used = np.unique(border)
    below = np.full(len(surface), -1, dtype=np.int64)
    below[used] = len(surface) + np.arange(len(used))
    hanging = surface[used].copy()
    hanging[:, 2] -= depth
    a, b = border[:, 0], border[:, 1]
    # The triangle runs a -> b counter-clockwise, so the outside is to the right of a -> b: the strip
    # (a, a', b') and (a, b', b) faces outwards.
    strip = np.concatenate([np.column_stack([a, below[a], below[b]]), np.column_stack([a, below[b], b])])
    return (
        np.concatenate([surface, hanging]),
        np.concatenate([normals, normals[used]]),
        np.concatenate([tri, strip]),
    )
