"""The OBJ reference check reads exactly what trimesh's OBJ and MTL loaders will open (issue 20)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import trimesh

from twin.designs.load import load_design
from twin.designs.obj import referenced_mtl, referenced_textures
from twin.errors import DesignError

from .conftest import FIXTURES

TRIANGLE = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        # trimesh takes the first "mtllib" anywhere, not only as a statement.
        ("o xmtllib /etc/passwd\n" + TRIANGLE, "external reference '/etc/passwd'"),
        ("# exported by mtllib ../secret.mtl\n" + TRIANGLE, "'..'"),
        # Backslash continuations are joined before trimesh looks.
        ("mtllib \\\n../secret.mtl\n" + TRIANGLE, "'..'"),
        ("usemtl a\nmtllib file:///etc/passwd\n" + TRIANGLE, "external reference"),
    ],
)
def test_attacking_mtllib_lines_are_refused(tmp_path: Path, obj: str, message: str) -> None:
    path = tmp_path / "design.obj"
    path.write_text(obj)
    with pytest.raises(DesignError, match=message):
        load_design(path)


@pytest.mark.parametrize(
    ("mtl", "message"),
    [
        # trimesh opens the whole rest of the line: the last word alone (checker.png) is harmless.
        ("newmtl a\nmap_Kd -s 1 1 1 ../../etc/passwd checker.png\n", "'..'"),
        # str.splitlines splits on a lone CR as well: this map_Kd is a line of its own to trimesh.
        ("newmtl a\nKd 1 1 1\rmap_Kd /etc/passwd\n", "external reference '/etc/passwd'"),
        ("newmtl a\n  MAP_KD   /etc/passwd  \n", "external reference '/etc/passwd'"),
    ],
)
def test_attacking_map_kd_lines_are_refused(tmp_path: Path, mtl: str, message: str) -> None:
    shutil.copy(FIXTURES / "checker.png", tmp_path / "checker.png")
    (tmp_path / "m.mtl").write_bytes(mtl.encode())
    path = tmp_path / "design.obj"
    path.write_text("mtllib m.mtl\nusemtl a\n" + TRIANGLE)
    with pytest.raises(DesignError, match=message):
        load_design(path)


def test_the_check_reads_the_names_trimesh_opens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Odd but harmless spacing, case and line ends: record what trimesh asks its resolver for.
    shutil.copy(FIXTURES / "checker.png", tmp_path / "checker file.png")
    mtl = b"newmtl a\r\nKd 1 1 1\rMap_Kd   checker file.png  \r\n"
    (tmp_path / "my materials.mtl").write_bytes(mtl)
    obj = tmp_path / "design.obj"
    obj.write_bytes(b"# box\r\no part\r\nmtllib   my materials.mtl  \r\nusemtl a\r\n" + TRIANGLE.encode())
    opened: list[str] = []
    real_get = trimesh.resolvers.FilePathResolver.get

    def get(self: trimesh.resolvers.FilePathResolver, name: str) -> bytes:
        opened.append(name)
        return real_get(self, name)

    monkeypatch.setattr(trimesh.resolvers.FilePathResolver, "get", get)
    design = load_design(obj)
    assert [n.strip() for n in opened] == ["my materials.mtl", "checker file.png"]
    assert referenced_mtl(obj.read_bytes()) == "my materials.mtl"
    assert referenced_textures(mtl) == ["checker file.png"]
    assert next(iter(design.meshes().values())).visual.material.image is not None


def test_obj_without_material_library(tmp_path: Path) -> None:
    assert referenced_mtl(TRIANGLE.encode()) is None
    assert referenced_mtl(b"mtllib   \n" + TRIANGLE.encode()) is None
