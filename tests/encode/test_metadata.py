"""Property tables: specs, column checks, and the binary layout of EXT_structural_metadata."""

from __future__ import annotations

import numpy as np
import pytest

from twin.encode.metadata import (
    BUILDING_PROPERTIES,
    PropertySpec,
    PropertyTable,
    building_table,
    decode_property_table,
    encode_property_table,
)
from twin.errors import BuildError


def _encode(table: PropertyTable) -> tuple[dict, list[bytes]]:
    views: list[bytes] = []

    def add(data: bytes, component_size: int) -> int:
        assert len(data) % component_size == 0
        views.append(data)
        return len(views) - 1

    return encode_property_table(table, add), views


def test_strings_are_utf8_with_the_narrowest_offsets() -> None:
    table = building_table([{"id": "way/1", "source": "osm", "height": 3}, {"id": "n/ä", "source": "osm", "height": 4}])
    ext, views = _encode(table)
    prop = ext["propertyTables"][0]["properties"]["id"]
    assert prop["stringOffsetType"] == "UINT16"
    assert views[prop["values"]] == "way/1n/ä".encode()
    np.testing.assert_array_equal(np.frombuffer(views[prop["stringOffsets"]], "<u2"), [0, 5, 9])
    assert ext["propertyTables"][0]["count"] == 2
    assert decode_property_table(ext, views.__getitem__)["id"] == ["way/1", "n/ä"]


def test_long_text_switches_to_uint32_offsets() -> None:
    rows = [{"id": f"way/{i}", "source": "osm", "height": 3, "name": "x" * 700} for i in range(100)]
    ext, views = _encode(building_table(rows))
    props = ext["propertyTables"][0]["properties"]
    assert props["name"]["stringOffsetType"] == "UINT32"  # 70,000 bytes of text
    assert props["id"]["stringOffsetType"] == "UINT16"
    offsets = np.frombuffer(views[props["name"]["stringOffsets"]], "<u4")
    assert offsets[-1] == 70_000
    assert decode_property_table(ext, views.__getitem__)["name"] == ["x" * 700] * 100


def test_class_declares_the_architecture_properties() -> None:
    ext, _ = _encode(building_table([{"id": "a", "source": "s", "height": 1.0}]))
    props = ext["schema"]["classes"]["building"]["properties"]
    assert list(props) == ["id", "source", "height", "levels", "roof_shape", "address", "name", "usage", "year"]
    assert props["height"]["componentType"] == "FLOAT32"
    # No descriptions in tiles: every tile repeats its schema.
    assert props["levels"] == {"type": "SCALAR", "componentType": "INT16", "noData": -1}
    # Every class property is stored, those without a value anywhere as noData (3d-tiles-validator, issue 12).
    assert set(ext["propertyTables"][0]["properties"]) == set(props)


def test_every_class_property_is_in_every_table_sharing_empty_arrays() -> None:
    rows = [{"id": f"gen/{i}", "source": "gen", "height": 9.0 + i} for i in range(300)]
    ext, views = _encode(building_table(rows))
    table = ext["propertyTables"][0]["properties"]
    assert set(table) == set(BUILDING_PROPERTIES)
    # The empty string columns share their arrays, and so do the unknown enum columns.
    assert table["address"] == table["name"] == table["year"]
    assert table["roof_shape"] == table["usage"]
    # id (text, offsets), height, levels, the empty strings (text, offsets), and one array of zero codes for
    # every enum column (source has one name here, so its codes are zeros too).
    assert len(views) == 7
    decoded = decode_property_table(ext, views.__getitem__)
    assert decoded["levels"] == [-1] * 300 and decoded["address"] == [""] * 300
    assert decoded["usage"] == ["unknown"] * 300 and decoded["roof_shape"] == ["unknown"] * 300
    for name, stored in table.items():
        prop = ext["schema"]["classes"]["building"]["properties"][name]
        if prop["type"] == "ENUM":
            assert prop["enumType"] in ext["schema"]["enums"]
        assert "values" in stored, name


def test_a_scalar_without_no_data_is_left_out_when_empty() -> None:
    spec = {"id": PropertySpec("STRING", required=True), "error": PropertySpec("SCALAR", "FLOAT32")}
    ext, _ = _encode(PropertyTable("tile", spec, {"id": ["a"], "error": [None]}))
    assert set(ext["propertyTables"][0]["properties"]) == {"id"}


def test_missing_levels_become_no_data() -> None:
    ext, views = _encode(
        building_table(
            [{"id": "a", "source": "s", "height": 1.0, "levels": 2}, {"id": "b", "source": "s", "height": 2.0}]
        )
    )
    assert decode_property_table(ext, views.__getitem__)["levels"] == [2, -1]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"id": "a", "source": "s"}], "no value in rows"),  # required height missing
        ([{"id": "a", "source": "s", "height": 1.0, "levels": 40000}], "do not fit INT16"),
        ([], "no rows"),
    ],
)
def test_bad_columns_raise(rows: list[dict], message: str) -> None:
    with pytest.raises(BuildError, match=message):
        _encode(building_table(rows))


def test_table_checks_its_columns() -> None:
    with pytest.raises(BuildError, match="not class properties"):
        PropertyTable("building", BUILDING_PROPERTIES, {"colour": ["red"]})
    with pytest.raises(BuildError, match="differ in length"):
        PropertyTable("building", BUILDING_PROPERTIES, {"id": ["a", "b"], "source": ["s"], "height": [1.0, 2.0]})
    with pytest.raises(BuildError, match="required column 'id'"):
        PropertyTable("building", BUILDING_PROPERTIES, {"source": ["s"], "height": [1.0]})


def test_spec_rules() -> None:
    with pytest.raises(BuildError, match="component type"):
        PropertySpec("SCALAR")
    with pytest.raises(BuildError, match="required property cannot have a noData"):
        PropertySpec("SCALAR", "INT8", required=True, no_data=-1)
    assert PropertySpec("SCALAR", "UINT8").to_dict() == {"type": "SCALAR", "componentType": "UINT8"}


def test_numpy_columns_are_written_as_given() -> None:
    spec = {"value": PropertySpec("SCALAR", "FLOAT64", required=True)}
    table = PropertyTable("thing", spec, {"value": np.array([0.5, 1.25, -3.0])})
    ext, views = _encode(table)
    assert decode_property_table(ext, views.__getitem__)["value"] == [0.5, 1.25, -3.0]


def test_open_vocabularies_are_per_tile_enums() -> None:
    from twin.encode.metadata import ENUM_UNKNOWN, building_table, decode_property_table, encode_property_table

    rows = [
        {"id": "way/1", "source": "osm", "height": 9.0, "roof_shape": "gabled", "usage": "house"},
        {"id": "way/2", "source": "osm", "height": 12.0, "roof_shape": "double_saltbox"},
        {"id": "way/3", "source": "lod2", "height": 3.0, "roof_shape": "flat", "usage": "garage"},
    ]
    views: list[bytes] = []

    def add_view(data: bytes, _size: int) -> int:
        views.append(data)
        return len(views) - 1

    ext = encode_property_table(building_table(rows), add_view)
    enums = ext["schema"]["enums"]
    assert [v["name"] for v in enums["roof_shape"]["values"]] == ["double_saltbox", "flat", "gabled"]
    assert enums["usage"]["valueType"] == "UINT8"
    prop = ext["schema"]["classes"]["building"]["properties"]["usage"]
    assert prop == {"type": "ENUM", "enumType": "usage"}
    # One byte per row for an enum column.
    assert len(views[ext["propertyTables"][0]["properties"]["source"]["values"]]) == 3
    columns = decode_property_table(ext, views.__getitem__)
    assert columns["usage"] == ["house", ENUM_UNKNOWN, "garage"]
    assert columns["source"] == ["osm", "osm", "lod2"]
