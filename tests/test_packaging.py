"""`pip install .` gives a complete server: the wheel ships the built viewer and the planner page (issue 12)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / "viewer" / "dist" / "index.html").is_file(), reason="viewer not built")
@pytest.mark.skipif(importlib.util.find_spec("wheel") is None, reason="needs the 'wheel' package (dev extra)")
def test_wheel_ships_viewer_and_planner(tmp_path: Path) -> None:
    # Build from a copy so the repository gets no build/ or egg-info folders.
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for package in ("twin", "server"):
        shutil.copytree(ROOT / package, src / package, ignore=ignore)
    shutil.copytree(ROOT / "viewer" / "dist", src / "viewer" / "dist")
    shutil.copy(ROOT / "viewer" / "package.json", src / "viewer" / "package.json")
    out = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)],
        check=True,
        timeout=600,
    )
    (wheel,) = out.glob("urban_twin-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "server/static/viewer/index.html" in names
    assert any(n.startswith("server/static/viewer/assets/") and n.endswith(".js") for n in names)
    assert {"server/static/planner/index.html", "server/static/moderate/index.html"} <= names
    assert "twin/designs/ifczip.py" in names


def test_installed_server_serves_the_shipped_viewer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from server import app as app_module
    from server.app import create_app
    from server.settings import Settings

    static = tmp_path / "static"
    shutil.copytree(app_module.STATIC, static)
    (static / "viewer").mkdir(exist_ok=True)
    (static / "viewer" / "index.html").write_text("<!doctype html><title>twin viewer</title>")
    monkeypatch.setattr(app_module, "STATIC", static)
    settings = Settings(data_dir=tmp_path / "data", viewer_dir=tmp_path / "no-such-dist")
    with TestClient(create_app(settings)) as client:
        r = client.get("/")
        assert r.status_code == 200 and "twin viewer" in r.text
