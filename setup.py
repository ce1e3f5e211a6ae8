"""Package build hook: the wheel ships the built viewer (viewer/dist → server/static/viewer), building it first.

Everything else is declared in pyproject.toml; this file only adds the step setuptools cannot declare. The
planner and moderation pages already live in server/static/ and ship as package data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
VIEWER = ROOT / "viewer"


def built_viewer() -> Path | None:
    """viewer/dist, built with npm when it is missing; ``None`` only when TWIN_WHEEL_WITHOUT_VIEWER=1."""
    dist = VIEWER / "dist"
    if not (dist / "index.html").is_file() and (VIEWER / "package.json").is_file():
        npm = shutil.which("npm")
        if npm is not None:
            if not (VIEWER / "node_modules").is_dir():
                subprocess.run([npm, "ci"], cwd=VIEWER, check=True)
            subprocess.run([npm, "run", "build"], cwd=VIEWER, check=True)
    if (dist / "index.html").is_file():
        return dist
    if os.environ.get("TWIN_WHEEL_WITHOUT_VIEWER") == "1":
        return None
    raise SystemExit(
        "the viewer is not built and npm is not available: run 'npm ci && npm run build' in viewer/, "
        "or set TWIN_WHEEL_WITHOUT_VIEWER=1 for a server-only package"
    )


class BuildPyWithViewer(build_py):
    """build_py, then the built viewer copied into the package as server/static/viewer."""

    def run(self) -> None:
        super().run()
        dist = built_viewer()
        if dist is not None:
            target = Path(self.build_lib) / "server" / "static" / "viewer"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(dist, target)


setup(cmdclass={"build_py": BuildPyWithViewer})
