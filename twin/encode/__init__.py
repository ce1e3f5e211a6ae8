"""Encoders: a tile's meshes and metadata as glb bytes (:mod:`twin.encode.glb`, :mod:`twin.encode.metadata`).

Encoders return bytes or dicts and write no files; :mod:`twin.store` writes them.
"""

from twin.encode.glb import MeshBatch, encode_glb, read_glb, to_gltf_axes
from twin.encode.metadata import (
    BUILDING_CLASS,
    BUILDING_PROPERTIES,
    PropertySpec,
    PropertyTable,
    building_table,
)

__all__ = [
    "BUILDING_CLASS",
    "BUILDING_PROPERTIES",
    "MeshBatch",
    "PropertySpec",
    "PropertyTable",
    "building_table",
    "encode_glb",
    "read_glb",
    "to_gltf_axes",
]
