"""Scene manifests: what a scene is made of (sources, CRS, defaults, attribution, variants).

A manifest is ``scenes/<name>/scene.toml``; paths in it are relative to its folder::

    id = "hamburg-eimsbuettel"
    title = "Hamburg-Eimsbüttel"
    crs = "EPSG:25832"              # working CRS (metres); default: the UTM zone of the data
    z0_height = 40.0                # ellipsoidal height (m) of working z = 0 (ground of extruded buildings)
    geoid_undulation = 39.5         # geoid above ellipsoid (m) here: turns normal heights (DHHN2016) ellipsoidal
    attribution = ["© OpenStreetMap contributors"]
    licenses = ["ODbL-1.0"]

    [defaults]
    height = 9.0                    # where a source gives no height (counted in the report)
    level_height = 3.0
    tile_budget = 60000             # estimated triangles per tile
    max_tile_side = 1000            # widest tile with content (m): streaming granularity vs bytes

    [building_types.garage]         # defaults by building type where OSM gives no height (optional)
    height = 2.8                    # or levels = 1; roof_shape, roof_height (twin/read/building_types.py)

    [[sources]]
    name = "osm"
    path = "data/buildings.geojson"
    format = "osm-geojson"          # optional: osm, osm-geojson, citygml, footprints (sniffed otherwise)

    [[variants]]
    id = "fzk-haus"
    title = "FZK-Haus"
    [[variants.designs]]           # see twin.designs.model.DesignSpec
    file = "designs/AC20-FZK-Haus.ifc"
    anchor = { lon = 9.956, lat = 53.576, elevation = 0.0, datum = "ground", heading = 20.0 }
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import ManifestError
from .read.building_types import TypeDefault, parse_building_types
from .read.limits import KEYS as LIMIT_KEYS
from .read.limits import SourceLimits
from .read.registry import FORMATS, sniff_format
from .records import ReaderOptions

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class SourceSpec:
    """One data source of a scene: a file, its format and reader options."""

    name: str
    path: Path
    format: str
    options: ReaderOptions = field(default_factory=ReaderOptions)


@dataclass(frozen=True)
class VariantSpec:
    """A named variant: a set of placed designs (``twin.designs.model.DesignSpec``) and buildings it removes.

    ``removed`` lists existing buildings the variant takes away whatever its designs cover (a demolition, a
    square cleared); a design's own cut-out and its keep/remove choices come on top.
    """

    id: str
    title: str
    designs: tuple[Any, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scene:
    """A scene: sources, working CRS, vertical reference, defaults, attribution and variants."""

    id: str
    title: str
    sources: tuple[SourceSpec, ...]
    crs: str | None = None
    z0_height: float = 0.0
    geoid_undulation: float = 0.0
    attribution: tuple[str, ...] = ()
    licenses: tuple[str, ...] = ()
    tile_budget: int = 60_000
    max_tile_side: float = 1000.0
    variants: tuple[VariantSpec, ...] = ()
    root: Path = Path(".")
    sensors: tuple[Any, ...] = ()  # twin.sensors.spec.SensorSourceSpec, from [[sensors]]
    terrain: Any = None  # twin.context.terrain_layer.TerrainSpec from [terrain]; None: flat ground at z = 0
    context: Any = None  # twin.context.context_layer.ContextSpec from [context] (on for OSM sources); None: none
    build: dict[str, Any] = field(default_factory=dict)  # the raw [build] table (how the build runs: scheduler, ...)
    building_types: dict[str, Any] = field(default_factory=dict)  # the raw [building_types] table (defaults by type)


def _require(d: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in d:
        raise ManifestError(f"{where}: missing '{key}'")
    if not isinstance(d[key], kind):
        raise ManifestError(f"{where}: '{key}' must be a {kind.__name__}, got {d[key]!r}")
    return d[key]


def _options(
    defaults: dict[str, Any], src: dict[str, Any], where: str, building_types: dict[str, TypeDefault] | None = None
) -> ReaderOptions:
    merged = {**defaults, **src}
    base = ReaderOptions()
    SourceLimits.of(merged, where)  # a bad source limit is a manifest error now, not in the build
    try:
        return ReaderOptions(
            default_height=float(merged.get("height", base.default_height)),
            level_height=float(merged.get("level_height", base.level_height)),
            roof_level_height=float(merged.get("roof_level_height", base.roof_level_height)),
            height_attribute=merged.get("height_attribute"),
            id_attribute=merged.get("id_attribute"),
            crs=merged.get("source_crs"),
            building_types=building_types,
            limits={k: merged[k] for k in LIMIT_KEYS if k in merged} or None,
        )
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"{where}: bad option value: {exc}") from exc


def parse_scene(data: dict[str, Any], root: Path, where: str = "scene.toml") -> Scene:
    """A :class:`Scene` from a parsed manifest; paths resolved against ``root``."""
    scene_id = _require(data, "id", str, where)
    if not _ID.match(scene_id):
        raise ManifestError(f"{where}: id {scene_id!r} must be lowercase letters, digits, '-' or '_'")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ManifestError(f"{where}: [defaults] must be a table")
    # [building_types]: defaults by building type over the built-in table (twin.read.building_types).
    types = parse_building_types(_table(data, "building_types", where), where)
    sources = []
    raw_sources = data.get("sources", [])
    if not raw_sources:
        raise ManifestError(f"{where}: no [[sources]]")
    for i, src in enumerate(raw_sources):
        at = f"{where}: sources[{i}]"
        path = root / _require(src, "path", str, at)
        if not path.exists():
            raise ManifestError(f"{at}: file {path} does not exist")
        fmt = src.get("format") or sniff_format(path)
        if fmt not in FORMATS:
            raise ManifestError(f"{at}: unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        sources.append(SourceSpec(src.get("name", path.stem), path, fmt, _options(defaults, src, at, types)))
    variants = []
    for i, var in enumerate(data.get("variants", [])):
        at = f"{where}: variants[{i}]"
        vid = _require(var, "id", str, at)
        if not _ID.match(vid) or vid == "existing":
            raise ManifestError(f"{at}: variant id {vid!r} must be a lowercase slug other than 'existing'")
        designs = tuple(_design_spec(d, root, f"{at}.designs[{j}]") for j, d in enumerate(var.get("designs", [])))
        removed = var.get("removed", [])
        if not isinstance(removed, list) or not all(isinstance(r, str) and r for r in removed):
            raise ManifestError(f"{at}: 'removed' must be a list of building ids, got {removed!r}")
        variants.append(VariantSpec(vid, str(var.get("title", vid)), designs, tuple(removed)))
    if len({v.id for v in variants}) != len(variants):
        raise ManifestError(f"{where}: variant ids must be unique")
    try:
        return Scene(
            id=scene_id,
            title=str(data.get("title", scene_id)),
            sources=tuple(sources),
            crs=data.get("crs"),
            z0_height=float(data.get("z0_height", 0.0)),
            geoid_undulation=float(data.get("geoid_undulation", 0.0)),
            attribution=tuple(data.get("attribution", ())),
            licenses=tuple(data.get("licenses", ())),
            tile_budget=int(defaults.get("tile_budget", 60_000)),
            max_tile_side=float(defaults.get("max_tile_side", 1000.0)),
            variants=tuple(variants),
            root=root,
            sensors=_sensor_sources(data.get("sensors"), root, where, data.get("crs")),
            terrain=_terrain_spec(data.get("terrain"), root, f"{where}: [terrain]"),
            context=_context_spec(data.get("context"), sources, f"{where}: [context]"),
            build=_table(data, "build", where),
            building_types=_table(data, "building_types", where),
        )
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"{where}: {exc}") from exc


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise ManifestError(f"{where}: [{key}] must be a table")
    return dict(table)


def _sensor_sources(raw: Any, root: Path, where: str, crs: Any) -> tuple[Any, ...]:
    from .sensors.spec import parse_sensor_sources

    return parse_sensor_sources(raw, root, where, crs if isinstance(crs, str) else None)


def _terrain_spec(table: Any, root: Path, where: str) -> Any:
    if table is None:
        return None
    from .context.terrain_layer import TerrainSpec

    return TerrainSpec.from_dict(table, root, where)


def _context_spec(table: Any, sources: list[SourceSpec], where: str) -> Any:
    from .context.context_layer import OSM_FORMATS, ContextSpec

    if table is None:
        return ContextSpec() if any(s.format in OSM_FORMATS for s in sources) else None
    return ContextSpec.from_dict(table, where)


def _design_spec(d: dict[str, Any], root: Path, where: str) -> Any:
    from .designs.model import DesignSpec

    try:
        return DesignSpec.from_dict(d, root)
    except ManifestError:
        raise
    except Exception as exc:  # the design module raises its own errors; name the place in the manifest
        raise ManifestError(f"{where}: {exc}") from exc


def load_scene(path: str | Path) -> Scene:
    """Read a manifest: a ``scene.toml`` file or a folder containing one."""
    p = Path(path)
    if p.is_dir():
        p = p / "scene.toml"
    if not p.exists():
        raise ManifestError(f"no scene manifest at {p}")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{p}: {exc}") from exc
    return parse_scene(data, p.parent.resolve(), where=str(p))


def scene_for_file(path: str | Path, **overrides: Any) -> Scene:
    """A scene with sensible defaults around one data file (``twin build file.osm.pbf``)."""
    p = Path(path).resolve()
    if not p.exists():
        raise ManifestError(f"no such file: {p}")
    fmt = sniff_format(p)
    stem = re.sub(r"[^a-z0-9_-]+", "-", p.name.split(".")[0].lower()).strip("-") or "scene"
    attribution = ("© OpenStreetMap contributors",) if fmt.startswith("osm") else ()
    scene = Scene(
        id=stem[:64],
        title=p.name,
        sources=(SourceSpec(p.stem, p, fmt),),
        attribution=attribution,
        licenses=("ODbL-1.0",) if attribution else (),
        root=p.parent,
    )
    return replace(scene, **overrides)


def is_manifest(path: str | Path) -> bool:
    """True for a scene.toml or a folder holding one."""
    p = Path(path)
    return (p.is_dir() and (p / "scene.toml").exists()) or p.suffix == ".toml"
