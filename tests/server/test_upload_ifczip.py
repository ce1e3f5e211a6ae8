"""ifcZIP uploads: one IFC inside is accepted, archives with none or several are a clear 4xx (issue 12)."""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import Env

URL = "/api/planner/scenes/demo/uploads"
FZK = Path(__file__).parents[1] / "fixtures" / "designs" / "AC20-FZK-Haus.ifc"


def zipped(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_ifczip_upload_is_accepted(env: Env) -> None:
    body = zipped({"AC20-FZK-Haus.ifc": FZK.read_bytes()})
    r = env.client.post(URL, params={"filename": "Haus.ifcZIP"}, content=body, headers=env.planner)
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["format"] == "ifczip" and up["filename"] == "Haus.ifcZIP" and up["info"]["storeys"] == 2
    assert (env.settings.data_dir / "uploads" / up["id"] / "design.ifczip").read_bytes() == body


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"a.ifc": b"x", "b.ifc": b"y"}, "holds 2 IFC files"),
        ({"readme.txt": b"hello"}, "without an IFC file"),
    ],
)
def test_archives_without_exactly_one_ifc_are_4xx(env: Env, members: dict[str, bytes], message: str) -> None:
    r = env.client.post(URL, params={"filename": "plans.zip"}, content=zipped(members), headers=env.planner)
    assert r.status_code == 415, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert message in r.json()["detail"] and "upload.bin" not in r.json()["detail"]
