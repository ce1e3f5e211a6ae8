"""Fuzz the design check an upload runs (glTF/GLB incl. Draco, OBJ/MTL, IFC, CityGML) and twin validate's glb reader.

The target is :func:`twin.designs.check_design` as :mod:`server.uploads` calls it (self-contained, a
declared-size limit). The server runs it in :mod:`server.sandbox`, which turns a crash, a timeout or running
out of memory into a 422, so those are tolerated here (and their inputs kept); any exception that is not a
TwinError would be a 500 and fails.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twin.designs import check_design
from twin.validate import validate_glb_extensions

from . import seeds
from .harness import check_reader
from .mutate import byte_mutation, json_mutation, xml_mutation
from .profiles import fuzz_settings

#: What the upload route allows a design to declare (server Settings' default order of magnitude).
MAX_DECLARED = 256 * 1024**2
SANDBOXED = ("crash", "timeout", "oom")
GLBS = ("designs/pmndrs_house-5.glb", "fuzz/seeds/boxes_draco.glb")
OBJ_BESIDE = {name: seeds.read(f"designs/{name}") for name in ("box_cm.mtl", "checker.png")}


def upload_check(path: Path) -> Any:
    """What the upload route runs on a design file."""
    return check_design(path, name="fuzz", self_contained=True, max_declared=MAX_DECLARED)


def split_glb(glb: bytes) -> tuple[Any, bytes]:
    """(decoded JSON chunk, BIN chunk) of a well-formed glb."""
    json_len = struct.unpack_from("<I", glb, 12)[0]
    doc = json.loads(glb[20 : 20 + json_len])
    rest = glb[20 + json_len :]
    binary = rest[8 : 8 + struct.unpack_from("<I", rest, 0)[0]] if len(rest) >= 8 else b""
    return doc, binary


def join_glb(text: bytes, binary: bytes) -> bytes:
    """A glb with correct header and chunk lengths around any JSON text and binary (so the damage is inside)."""
    text += b" " * (-len(text) % 4)
    binary += b"\0" * (-len(binary) % 4)
    chunks = struct.pack("<I4s", len(text), b"JSON") + text
    if binary:
        chunks += struct.pack("<I4s", len(binary), b"BIN\0") + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks


@fuzz_settings()
@given(data=json_mutation(json.loads(seeds.read("designs/box.gltf"))))
def test_gltf_structure(data: bytes) -> None:
    check_reader("gltf", upload_check, data, ".gltf", allow=SANDBOXED)


@pytest.mark.parametrize("seed", GLBS)
def test_glb_json_chunk(seed: str) -> None:
    doc, binary = split_glb(seeds.read(seed))

    @fuzz_settings()
    @given(text=json_mutation(doc))
    def fuzz(text: bytes) -> None:
        check_reader("glb", upload_check, join_glb(text, binary), ".glb", allow=SANDBOXED)

    fuzz()


@pytest.mark.parametrize("seed", GLBS)
def test_glb_binary_chunk(seed: str) -> None:
    # Accessors, buffer views and Draco streams read bytes the JSON only points at.
    doc, binary = split_glb(seeds.read(seed))
    text = json.dumps(doc).encode()

    @fuzz_settings()
    @given(blob=byte_mutation(binary))
    def fuzz(blob: bytes) -> None:
        check_reader("glb", upload_check, join_glb(text, blob), ".glb", allow=SANDBOXED)

    fuzz()


@pytest.mark.parametrize("seed", GLBS)
def test_glb_bytes(seed: str) -> None:
    @fuzz_settings(0.5)
    @given(data=byte_mutation(seeds.read(seed)))
    def fuzz(data: bytes) -> None:
        check_reader("glb", upload_check, data, ".glb", allow=SANDBOXED)

    fuzz()


@fuzz_settings()
@given(data=byte_mutation(seeds.read("designs/box_cm.obj")), mtl=st.none() | byte_mutation(OBJ_BESIDE["box_cm.mtl"]))
def test_obj_and_mtl(data: bytes, mtl: bytes | None) -> None:
    beside = {**OBJ_BESIDE, "box_cm.mtl": mtl} if mtl is not None else OBJ_BESIDE
    check_reader("obj", lambda p: check_design(p, name="fuzz"), data, ".obj", allow=SANDBOXED, beside=beside)


@fuzz_settings(0.5)
@given(data=byte_mutation(seeds.read("fuzz/seeds/box.ifc")))
def test_ifc_bytes(data: bytes) -> None:
    check_reader("ifc", upload_check, data, ".ifc", allow=SANDBOXED)


@fuzz_settings(0.5)
@given(data=byte_mutation(seeds.read("fuzz/seeds/boxes_draco.glb")))
def test_glb_extension_validator(data: bytes) -> None:
    # twin validate reads tile glbs of any origin (bytes, no file name to report).
    check_reader("validate-glb", lambda p: validate_glb_extensions(p.read_bytes()), data, ".glb", named=False)


@fuzz_settings(0.5)
@given(data=xml_mutation(seeds.read("citygml/sig3d_building_and_garage_LOD2_citygml3.gml")))
def test_citygml_design(data: bytes) -> None:
    check_reader("citygml-design", upload_check, data, ".gml", allow=SANDBOXED)
