"""Per-feature metadata as an EXT_structural_metadata property table (one row per building).

The table is binary: each numeric column is one little-endian array, each string column is the UTF-8 bytes
of all values back to back plus an offset array of ``count + 1`` entries (UINT16 while the column's text is
under 64 KiB, as in any tile of short ids, else UINT32). :func:`encode_property_table`
turns a :class:`PropertyTable` into those byte arrays and the extension JSON; the glb encoder decides where
the bytes go. :func:`decode_property_table` reads a table back, for
tests and tools. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from twin.errors import BuildError

#: EXT_structural_metadata component types and the numpy dtypes that store them (little-endian).
COMPONENT_DTYPES: dict[str, np.dtype[Any]] = {
    "INT8": np.dtype("<i1"),
    "UINT8": np.dtype("<u1"),
    "INT16": np.dtype("<i2"),
    "UINT16": np.dtype("<u2"),
    "INT32": np.dtype("<i4"),
    "UINT32": np.dtype("<u4"),
    "INT64": np.dtype("<i8"),
    "UINT64": np.dtype("<u8"),
    "FLOAT32": np.dtype("<f4"),
    "FLOAT64": np.dtype("<f8"),
}

#: String offset types, narrowest first: the first that holds a column's text length is used.
STRING_OFFSET_TYPES = ("UINT16", "UINT32")


@dataclass(frozen=True, slots=True)
class PropertySpec:
    """One property of a metadata class (a column of the table).

    type : ``"STRING"`` or ``"SCALAR"``
    component_type : for ``SCALAR``, a key of :data:`COMPONENT_DTYPES` (``"FLOAT32"``, ``"INT16"``, ...)
    required : every row has a value; required or not, every property is written in every tile's table
        (a column no row has a value for is all noData, its arrays shared with other such columns)
    no_data : the sentinel stored for a missing value (``None`` in a column); for optional properties only
    description : free text for readers of the code (written into a schema only with ``describe=True``)
    """

    type: Literal["STRING", "SCALAR", "ENUM"]
    component_type: str | None = None
    required: bool = False
    no_data: str | int | float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if self.type == "SCALAR" and self.component_type not in COMPONENT_DTYPES:
            raise BuildError(f"SCALAR property needs a component type, got {self.component_type!r}")
        if self.type == "STRING" and self.component_type is not None:
            raise BuildError("STRING property takes no component type")
        if self.type == "ENUM" and (self.component_type is not None or self.no_data is not None):
            raise BuildError("ENUM property takes no component type and no noData (its values are per tile)")
        if self.type not in ("STRING", "SCALAR", "ENUM"):
            raise BuildError(f"unsupported property type {self.type!r}")
        if self.required and self.no_data is not None:
            # The spec forbids noData on required properties.
            raise BuildError("a required property cannot have a noData value")

    def to_dict(self, name: str = "", describe: bool = False) -> dict[str, Any]:
        """The class property JSON (EXT_structural_metadata ``class.property``); ``name`` names its enum.

        Descriptions are left out unless asked for: every tile repeats its schema, and ~350 bytes of prose
        per tile add up (the contract is documented in docs/architecture.md).
        """
        out: dict[str, Any] = {"type": self.type}
        if self.type == "ENUM":
            out["enumType"] = name
        if self.component_type is not None:
            out["componentType"] = self.component_type
        if self.description and describe:
            out["description"] = self.description
        if self.required:
            out["required"] = True
        if self.no_data is not None:
            out["noData"] = self.no_data
        return out


@dataclass(frozen=True)
class PropertyTable:
    """A table of feature metadata: one row per feature, one column per property.

    class_name : the metadata class (a schema id: letters, digits, underscores)
    properties : the class's properties, in the order they are written
    columns : property name -> sequence of ``count`` values (``str``/``None`` for strings, numbers/``None``
        for scalars; ``None`` becomes the property's ``no_data``). Properties without a column are missing
        in every row.
    """

    class_name: str
    properties: Mapping[str, PropertySpec]
    columns: Mapping[str, Sequence[Any] | np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.columns) - set(self.properties))
        if unknown:
            raise BuildError(f"property table {self.class_name!r}: columns {unknown} are not class properties")
        lengths = {name: len(values) for name, values in self.columns.items()}
        if len(set(lengths.values())) > 1:
            raise BuildError(f"property table {self.class_name!r}: columns differ in length {lengths}")
        for name, spec in self.properties.items():
            if spec.required and name not in self.columns:
                raise BuildError(f"property table {self.class_name!r}: required column {name!r} is missing")

    @property
    def count(self) -> int:
        """Number of rows (features)."""
        return len(next(iter(self.columns.values()))) if self.columns else 0


#: The building class of docs/architecture.md, the contract with the viewer.
BUILDING_CLASS = "building"
BUILDING_PROPERTIES: dict[str, PropertySpec] = {
    "id": PropertySpec("STRING", required=True, description="Stable source id, e.g. way/123"),
    "source": PropertySpec("ENUM", required=True, description="Name of the source it came from"),
    "height": PropertySpec("SCALAR", "FLOAT32", required=True, description="Metres above ground, roof included"),
    "levels": PropertySpec("SCALAR", "INT16", no_data=-1, description="Storeys above ground"),
    "roof_shape": PropertySpec("ENUM", description="Roof shape (OSM roof:shape; unknown when not given)"),
    "address": PropertySpec("STRING", no_data="", description="Street and house number"),
    "name": PropertySpec("STRING", no_data=""),
    "usage": PropertySpec("ENUM", description="Building use, e.g. OSM building=*; unknown when not given"),
    "year": PropertySpec("STRING", no_data="", description="Year of construction as given by the source"),
}


def building_table(rows: Sequence[Mapping[str, Any]]) -> PropertyTable:
    """The ``building`` property table from one mapping per feature (missing keys are missing values).

    rows : e.g. ``{"id": "way/1", "source": "osm", "height": 9.0, "levels": 3, "address": "Main St 1"}``
    """
    columns = {name: [row.get(name) for row in rows] for name in BUILDING_PROPERTIES}
    return PropertyTable(BUILDING_CLASS, BUILDING_PROPERTIES, columns)


def _scalar_column(name: str, spec: PropertySpec, values: Sequence[Any] | np.ndarray) -> np.ndarray:
    dtype = COMPONENT_DTYPES[spec.component_type or ""]
    if isinstance(values, np.ndarray) and values.dtype != object:
        raw = values
    else:
        missing = [i for i, v in enumerate(values) if v is None]
        if missing and spec.no_data is None:
            raise BuildError(f"property {name!r}: no value in rows {missing[:5]} and no noData declared")
        raw = np.array([spec.no_data if v is None else v for v in values], dtype=np.float64)
    raw = np.asarray(raw)
    if raw.ndim != 1:
        raise BuildError(f"property {name!r}: expected a 1-d column, got shape {raw.shape}")
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if not np.all(np.isfinite(raw)) or raw.min(initial=0) < info.min or raw.max(initial=0) > info.max:
            raise BuildError(f"property {name!r}: values do not fit {spec.component_type}")
        return np.ascontiguousarray(np.round(raw), dtype=dtype)
    return np.ascontiguousarray(raw, dtype=dtype)


def _string_column(name: str, spec: PropertySpec, values: Sequence[Any] | np.ndarray) -> tuple[bytes, np.ndarray, str]:
    """UTF-8 text, offsets (count + 1) and the offsets' component type."""
    missing = "" if spec.no_data is None else str(spec.no_data)
    encoded = [(missing if v is None else str(v)).encode("utf-8") for v in values]
    lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
    total = int(lengths.sum())
    offset_type = next((t for t in STRING_OFFSET_TYPES if total <= np.iinfo(COMPONENT_DTYPES[t]).max), None)
    if offset_type is None:
        raise BuildError(f"property {name!r}: {total} bytes of text exceed UINT32 offsets")
    offsets = np.zeros(len(encoded) + 1, dtype=COMPONENT_DTYPES[offset_type])
    offsets[1:] = np.cumsum(lengths)
    return b"".join(encoded), offsets, offset_type


def _all_missing(spec: PropertySpec, values: Sequence[Any] | np.ndarray) -> bool:
    if spec.required:
        return False
    if isinstance(values, np.ndarray) and values.dtype != object:
        return spec.no_data is not None and bool(np.all(values == spec.no_data))
    return all(v is None or v == spec.no_data or (spec.type == "STRING" and v == "") for v in values)


#: Name of the enum value that stands for a missing value (enum values need a name).
ENUM_UNKNOWN = "unknown"


def _enum_column(values: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """Codes (UINT8, or UINT16 past 255 names) and the enum definition for a column of names.

    The enum is made per tile from the names that occur in it, so open vocabularies (sources, OSM roof
    shapes) cost one byte per row instead of a string and its 4-byte offset.
    """
    names = [ENUM_UNKNOWN if v is None or v == "" else str(v) for v in values]
    vocabulary = sorted(set(names))
    code = {n: i for i, n in enumerate(vocabulary)}
    value_type = "UINT8" if len(vocabulary) <= 256 else "UINT16"
    codes = np.array([code[n] for n in names], dtype=COMPONENT_DTYPES[value_type])
    return codes, {"valueType": value_type, "values": [{"name": n, "value": i} for n, i in code.items()]}


#: ``add_view(data, component_size) -> bufferView index``: the glb encoder's hook that stores one array.
AddView = Callable[[bytes, int], int]


def encode_property_table(table: PropertyTable, add_view: AddView) -> dict[str, Any]:
    """The glTF-level ``EXT_structural_metadata`` JSON for one table, its arrays stored through ``add_view``.

    Every class property is written, including those no row has a value for (all noData; an ENUM column of
    ``unknown``; only a SCALAR without a noData cannot be, and is left out): the spec would allow leaving
    them out, but CesiumGS's 3d-tiles-validator and tools built on 3d-tiles-tools stop on a table that
    lacks a class property. Arrays with the same bytes (the
    offsets of every empty string column, the codes of every unknown enum column) share one buffer view,
    so an empty column costs a tile one array, not one per property.
    """
    if table.count == 0:
        raise BuildError(f"property table {table.class_name!r} has no rows")
    views: dict[tuple[bytes, int], int] = {}

    def view(data: bytes, size: int) -> int:
        key = (data, size)
        if key not in views:
            views[key] = add_view(data, size)
        return views[key]

    properties: dict[str, Any] = {}
    enums: dict[str, Any] = {}
    for name, spec in table.properties.items():
        values = table.columns.get(name)
        if values is None or _all_missing(spec, values):
            if spec.type == "SCALAR" and spec.no_data is None:
                continue  # nothing to write it with; declare a noData to have it written
            values = [None] * table.count
        if spec.type == "ENUM":
            codes, enums[name] = _enum_column(values)
            properties[name] = {"values": view(codes.tobytes(), codes.dtype.itemsize)}
        elif spec.type == "STRING":
            text, offsets, offset_type = _string_column(name, spec, values)
            properties[name] = {
                # An empty column still needs a bufferView; give it one zero byte.
                "values": view(text or b"\0", 1),
                "stringOffsets": view(offsets.tobytes(), offsets.dtype.itemsize),
                "stringOffsetType": offset_type,
            }
        else:
            column = _scalar_column(name, spec, values)
            properties[name] = {"values": view(column.tobytes(), column.dtype.itemsize)}
    schema: dict[str, Any] = {
        "id": "urban_twin",
        "classes": {table.class_name: {"properties": {k: v.to_dict(k) for k, v in table.properties.items()}}},
    }
    if enums:
        schema["enums"] = enums
    return {
        "schema": schema,
        "propertyTables": [{"class": table.class_name, "count": table.count, "properties": properties}],
    }


def decode_property_table(
    extension: Mapping[str, Any], view_bytes: Callable[[int], bytes], index: int = 0
) -> dict[str, list[Any]]:
    """The columns of property table ``index`` as Python lists (missing columns filled with noData).

    extension : the glTF-level ``EXT_structural_metadata`` JSON
    view_bytes : bufferView index -> its (decompressed) bytes
    """
    table = extension["propertyTables"][index]
    class_props = extension["schema"]["classes"][table["class"]]["properties"]
    count = int(table["count"])
    out: dict[str, list[Any]] = {}
    for name, prop in class_props.items():
        stored = table["properties"].get(name)
        if stored is None:
            out[name] = [prop.get("noData")] * count
        elif prop["type"] == "ENUM":
            enum = extension["schema"]["enums"][prop["enumType"]]
            names = {v["value"]: v["name"] for v in enum["values"]}
            codes = np.frombuffer(view_bytes(stored["values"]), dtype=COMPONENT_DTYPES[enum.get("valueType", "UINT16")])
            out[name] = [names[int(c)] for c in codes[:count]]
        elif prop["type"] == "STRING":
            offset_dtype = COMPONENT_DTYPES[stored.get("stringOffsetType", "UINT32")]
            offsets = np.frombuffer(view_bytes(stored["stringOffsets"]), dtype=offset_dtype)[: count + 1]
            text = view_bytes(stored["values"])
            out[name] = [text[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
        else:
            dtype = COMPONENT_DTYPES[prop["componentType"]]
            out[name] = np.frombuffer(view_bytes(stored["values"]), dtype=dtype)[:count].tolist()
    return out
