"""Fixtures shared by the whole test-suite."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

VALIDATORS = Path(__file__).parent / "validators"

#: validate(glbs) -> one Khronos validator report per glb ({"numErrors", "numWarnings", "numInfos", "messages"})
GltfValidator = Callable[[Sequence[bytes]], list[dict[str, Any]]]


@pytest.fixture(scope="session")
def gltf_validator(tmp_path_factory: pytest.TempPathFactory) -> GltfValidator:
    """Runs the Khronos glTF validator (npm ``gltf-validator``) through tests/validators/gltf_validate.mjs.

    Skips only when node is missing; installs the locked npm packages once when node_modules is absent.
    """
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (VALIDATORS / "node_modules" / "gltf-validator").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is missing: cannot install tests/validators (npm ci --prefix tests/validators)")
        subprocess.run([npm, "ci", "--prefix", str(VALIDATORS)], check=True, capture_output=True, timeout=300)
    folder = tmp_path_factory.mktemp("gltf_validator")

    def validate(glbs: Sequence[bytes]) -> list[dict[str, Any]]:
        paths = []
        for i, data in enumerate(glbs):
            path = folder / f"{len(list(folder.iterdir()))}_{i}.glb"
            path.write_bytes(data)
            paths.append(str(path))
        run = subprocess.run(
            [node, str(VALIDATORS / "gltf_validate.mjs"), *paths], capture_output=True, text=True, timeout=120
        )
        if run.returncode not in (0, 1):
            raise RuntimeError(f"gltf_validate.mjs failed ({run.returncode}): {run.stderr}")
        reports = json.loads(run.stdout)
        return [reports[p] for p in paths]

    return validate
