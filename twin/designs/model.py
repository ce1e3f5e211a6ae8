"""Records of planning designs: an imported :class:`Design`, the planner's :class:`Anchor`, the resulting
:class:`Placement`, and the :class:`DesignSpec` a scene manifest holds.

Nothing here reads files or transforms coordinates; :mod:`twin.designs.load` builds designs,
:mod:`twin.designs.georef` places them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

from twin.errors import ManifestError

#: Vertical datums an anchor's elevation may be given in. ``ellipsoidal``: height above the WGS 84/GRS80
#: ellipsoid; ``DHHN2016`` (and any other normal/orthometric height such as ``NHN``, ``EGM2008``): height
#: above the geoid, turned ellipsoidal with the scene's geoid undulation; ``ground``: metres above the scene's
#: ground (working z = 0).
DATUMS = ("ellipsoidal", "DHHN2016", "normal", "ground")

#: What an anchor's position names: the design's local ``origin`` or the ``centre`` of its footprint (the
#: centroid of the design seen from above, :func:`twin.designs.metrics.footprint_centre`).
ANCHOR_POINTS = ("origin", "centre")

#: Formats :func:`twin.designs.load.load_design` recognises (by content, not by file name).
FORMATS = ("ifc", "ifczip", "glb", "gltf", "obj", "citygml")


@dataclass(frozen=True, slots=True)
class Storey:
    """One storey of a design (IFC ``IfcBuildingStorey``).

    elevation : metres in the design's local frame (Z up)
    gross_floor_area : m² from the storey's base quantities or its spaces; ``None`` when the file says nothing
    area_source : ``"quantities"`` (the storey's own) or ``"spaces"`` (the sum of its spaces), ``""`` for none
    """

    name: str
    elevation: float
    gross_floor_area: float | None = None
    area_source: str = ""


@dataclass(frozen=True, slots=True)
class FileGeoref:
    """The georeference a design file carries about itself.

    route : ``"map_conversion"`` (IfcMapConversion + IfcProjectedCRS) or ``"site"`` (IfcSite RefLatitude/…)
    crs : the map CRS of a map conversion (``"EPSG:25832"``); ``None`` for the site route
    easting, northing : map coordinates of the local origin (map conversion, metres)
    lon, lat : degrees of the local origin (site route)
    height : normal (orthometric) height of the local origin, metres
    x_axis : (2,) the local +X direction in map grid coordinates (map conversion); ``None`` for the site route
    true_north : (2,) the direction of true north in the local XY plane (site route; IFC TrueNorth)
    scale : metres on the map grid per local metre (map conversion; 1 when the file gives none)
    notes : remarks on doubtful values found while reading (shown in the placement report)
    """

    route: str
    crs: str | None = None
    easting: float = 0.0
    northing: float = 0.0
    lon: float = 0.0
    lat: float = 0.0
    height: float = 0.0
    x_axis: tuple[float, float] | None = None
    true_north: tuple[float, float] | None = None
    scale: float = 1.0
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Design:
    """An imported design, in its own local frame: Z up, metres.

    id : stable identifier (the manifest's id, else the file stem)
    name : human title
    format : one of :data:`FORMATS`
    scene : trimesh.Scene whose nodes are the design's parts; every node's transform is the identity
        (transforms are baked in at import), geometry in local Z-up metres
    parts : node name → metadata of that part: ``id`` (IFC GlobalId or node name), ``name``, ``usage``
        (IFC class or ``""``), ``storey`` (storey name or ``""``)
    georef : what the file says about its own position, if anything
    storeys : IFC building storeys, lowest first
    space_area : sum of IfcSpace gross floor areas (m²), ``None`` when the file has no spaces
    space_area_source : where the space areas came from: ``"quantities"`` (the file's quantity sets),
        ``"geometry"`` (the spaces' volumes seen from above), both (``"geometry+quantities"``), or ``""``
    source : file name the design came from
    unit_scale : metres per file unit that was applied at import
    up_axis : the file's up axis that was converted from (``"Y"`` or ``"Z"``)
    """

    id: str
    name: str
    format: str
    scene: trimesh.Scene
    parts: Mapping[str, Mapping[str, Any]]
    georef: FileGeoref | None = None
    storeys: tuple[Storey, ...] = ()
    space_area: float | None = None
    space_area_source: str = ""
    source: str = ""
    unit_scale: float = 1.0
    up_axis: str = "Z"

    @property
    def bounds(self) -> np.ndarray:
        """(2, 3) float64, min and max corner in the local frame."""
        return np.asarray(self.scene.bounds, dtype=np.float64)

    @property
    def triangle_count(self) -> int:
        """Triangles over all parts."""
        return int(sum(len(g.faces) for g in self.meshes().values()))

    def meshes(self) -> dict[str, trimesh.Trimesh]:
        """Node name → its mesh (local frame; node transforms are identities)."""
        out: dict[str, trimesh.Trimesh] = {}
        for node in self.scene.graph.nodes_geometry:
            _, geom_name = self.scene.graph[node]
            geom = self.scene.geometry[geom_name]
            if isinstance(geom, trimesh.Trimesh):
                out[node] = geom
        return out


@dataclass(frozen=True, slots=True)
class Anchor:
    """An explicit placement given by the planner.

    Position: ``lon``/``lat`` (degrees, WGS 84) or ``easting``/``northing`` in ``crs``.
    elevation : metres, in ``datum`` (see :data:`DATUMS`) — where the design's local z = 0 lands
    heading : degrees clockwise from true north of the design's +Y axis
    scale : uniform scale applied to the design (1 = as modelled)
    point : what lands at the position (:data:`ANCHOR_POINTS`): the design's local ``origin`` (often a corner
        of the model, or metres away from it), or the ``centre`` of its footprint; the design turns about it
    """

    lon: float | None = None
    lat: float | None = None
    easting: float | None = None
    northing: float | None = None
    crs: str | None = None
    elevation: float = 0.0
    datum: str = "ground"
    heading: float = 0.0
    scale: float = 1.0
    point: str = "origin"

    def __post_init__(self) -> None:
        geographic = self.lon is not None and self.lat is not None
        projected = self.easting is not None and self.northing is not None and self.crs is not None
        if geographic == projected:
            raise ValueError("an anchor needs either lon and lat, or easting, northing and crs")
        if self.datum not in DATUMS:
            raise ValueError(f"anchor datum {self.datum!r} is not one of {', '.join(DATUMS)}")
        if self.point not in ANCHOR_POINTS:
            raise ValueError(f"anchor point {self.point!r} is not one of {', '.join(ANCHOR_POINTS)}")
        values = [self.elevation, self.heading, self.scale]
        values += [v for v in (self.lon, self.lat, self.easting, self.northing) if v is not None]
        if not all(math.isfinite(v) for v in values):
            raise ValueError("anchor values must be finite numbers")
        if not 0.0 < self.scale < 1000.0:
            raise ValueError(f"anchor scale {self.scale} must be positive (and sensible)")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Anchor:
        """Read a manifest's ``anchor`` table; raise :class:`ManifestError` naming the bad key."""
        known = {"lon", "lat", "easting", "northing", "crs", "elevation", "datum", "heading", "scale", "point"}
        unknown = set(d) - known
        if unknown:
            raise ManifestError(f"anchor: unknown keys {sorted(unknown)} (known: {sorted(known)})")
        kwargs: dict[str, Any] = {}
        for key in ("lon", "lat", "easting", "northing", "elevation", "heading", "scale"):
            if key in d:
                try:
                    kwargs[key] = float(d[key])
                except (TypeError, ValueError) as exc:
                    raise ManifestError(f"anchor.{key}: expected a number, got {d[key]!r}") from exc
        for key in ("crs", "datum", "point"):
            if key in d:
                kwargs[key] = str(d[key])
        try:
            return cls(**kwargs)
        except ValueError as exc:
            raise ManifestError(f"anchor: {exc}") from exc


@dataclass(frozen=True)
class Placement:
    """Where a design stands in the working CRS.

    matrix : (4, 4) float64, design-local Z-up metres → working CRS (x, y grid coordinates; z metres above
        the scene's ground z = 0)
    crs : the working CRS
    route : ``"map_conversion"``, ``"site"`` or ``"anchor"``
    lon, lat : the design origin in degrees
    ground_height : ellipsoidal height of working z = 0 (the scene frame's height)
    geoid_undulation : geoid height above the ellipsoid used for normal heights (m)
    heading : degrees clockwise from true north of the design's +Y axis
    convergence : meridian convergence of the working CRS at the origin (degrees, pyproj's sign)
    scale : design scale × the projection's point scale factor (grid metres per design metre)
    notes : remarks for the planner (doubtful file values, choices made)
    report_data : the precomputed report (JSON-ready), see :meth:`report`
    """

    matrix: np.ndarray
    crs: str
    route: str
    lon: float
    lat: float
    ground_height: float
    geoid_undulation: float
    heading: float
    convergence: float
    scale: float
    notes: tuple[str, ...] = ()
    report_data: Mapping[str, Any] = field(default_factory=dict)

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Design-local (n, 3) points → working CRS (n, 3)."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        return pts @ self.matrix[:3, :3].T + self.matrix[:3, 3]

    def report(self) -> dict[str, Any]:
        """Where the origin, the footprint corners and the top land (working CRS, lon/lat, heights)."""
        return dict(self.report_data)


#: Keys a ``[[variants.designs]]`` table may hold.
SPEC_KEYS = {
    "file",
    "id",
    "title",
    "filename",
    "anchor",
    "units",
    "up_axis",
    "site",
    "site_crs",
    "site_buffer",
    "cutout_threshold",
    "keep",
    "remove",
}


@dataclass(frozen=True)
class DesignSpec:
    """One ``[[variants.designs]]`` table of a scene manifest.

    file : absolute path of the design file
    filename : the file's name as the planner uploaded it (shown instead of the stored file's name)
    site : (n, 2) float64 polygon ring in ``site_crs`` (``None`` = the footprint buffered by ``site_buffer``)
    site_crs : CRS of ``site``; ``None`` = the working CRS (or lon/lat when every value looks like degrees)
    keep : ids of existing buildings the planner keeps although the site would remove them
    remove : ids of existing buildings the site overlaps too little to remove, which the planner removes
    """

    file: Path
    id: str
    title: str
    anchor: Anchor | None = None
    units: str | None = None
    up_axis: str | None = None
    filename: str | None = None
    site: np.ndarray | None = None
    site_crs: str | None = None
    site_buffer: float = 2.0
    cutout_threshold: float = 0.5
    keep: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], base_dir: Path) -> DesignSpec:
        """Read a manifest table; relative ``file`` paths resolve against ``base_dir``.

        Raises :class:`ManifestError` naming the key at fault.
        """
        unknown = set(d) - SPEC_KEYS
        if unknown:
            raise ManifestError(f"design: unknown keys {sorted(unknown)} (known: {sorted(SPEC_KEYS)})")
        if "file" not in d:
            raise ManifestError("design: 'file' is required")
        path = Path(str(d["file"]))
        if not path.is_absolute():
            path = Path(base_dir) / path
        if not path.is_file():
            raise ManifestError(f"design: file {path} does not exist")
        design_id = str(d.get("id", path.stem))
        label = f"design {design_id!r}"
        anchor = None
        if "anchor" in d:
            if not isinstance(d["anchor"], Mapping):
                raise ManifestError(f"{label}: 'anchor' must be a table")
            try:
                anchor = Anchor.from_dict(d["anchor"])
            except ManifestError as exc:
                raise ManifestError(f"{label}: {exc}") from exc
        units = d.get("units")
        if units is not None:
            from .units import unit_scale  # local import: units has no dependency on this module

            try:
                unit_scale(str(units))
            except ValueError as exc:
                raise ManifestError(f"{label}: units: {exc}") from exc
        up_axis = d.get("up_axis")
        if up_axis is not None and str(up_axis).upper() not in ("Y", "Z"):
            raise ManifestError(f"{label}: up_axis must be 'Y' or 'Z', got {up_axis!r}")
        site = None
        if "site" in d:
            try:
                site = np.asarray(d["site"], dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise ManifestError(f"{label}: site must be a list of [x, y] pairs") from exc
            if site.ndim != 2 or site.shape[1] != 2 or len(site) < 3 or not np.all(np.isfinite(site)):
                raise ManifestError(f"{label}: site must be at least 3 finite [x, y] pairs")
        buffer = _number(d, "site_buffer", 2.0, label)
        threshold = _number(d, "cutout_threshold", 0.5, label)
        if buffer < 0:
            raise ManifestError(f"{label}: site_buffer must be >= 0")
        if not 0.0 < threshold <= 1.0:
            raise ManifestError(f"{label}: cutout_threshold must be in (0, 1]")
        return cls(
            file=path,
            id=design_id,
            title=str(d.get("title", design_id)),
            anchor=anchor,
            units=None if units is None else str(units),
            up_axis=None if up_axis is None else str(up_axis).upper(),
            filename=None if d.get("filename") is None else str(d["filename"]),
            site=site,
            site_crs=None if d.get("site_crs") is None else str(d["site_crs"]),
            site_buffer=buffer,
            cutout_threshold=threshold,
            keep=_ids(d, "keep", label),
            remove=_ids(d, "remove", label),
        )


def _ids(d: Mapping[str, Any], key: str, label: str) -> tuple[str, ...]:
    """A list of building ids (``keep``, ``remove``); :class:`ManifestError` for anything else."""
    value = d.get(key, [])
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise ManifestError(f"{label}: {key} must be a list of building ids (strings)")
    return tuple(dict.fromkeys(value))


def _number(d: Mapping[str, Any], key: str, default: float, label: str) -> float:
    if key not in d:
        return default
    try:
        value = float(d[key])
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"{label}: {key} must be a number, got {d[key]!r}") from exc
    if not math.isfinite(value):
        raise ManifestError(f"{label}: {key} must be finite")
    return value
