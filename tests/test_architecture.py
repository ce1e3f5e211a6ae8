"""The architecture contracts in pyproject.toml ([tool.importlinter]) hold: run import-linter over twin/ and server/.

twin/ never imports server/; twin's packages import only the layers below them (cli → pipeline → tile
content → scene → designs/context → encode/mesh/read/... → tile → records/crs); source readers and design
format modules are independent of each other. A broken contract fails here with import-linter's report,
which names the import chain to cut.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_are_there() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = {c["type"]: c for c in reversed(config["contracts"])}
    assert {"forbidden", "layers", "independence"} <= set(contracts)
    forbidden = [c for c in config["contracts"] if c["type"] == "forbidden" and c["source_modules"] == ["twin"]]
    assert forbidden and forbidden[0]["forbidden_modules"] == ["server"]
    layers = contracts["layers"]["layers"]
    assert layers[0] == "cli" and layers[-1].startswith("records")


def test_test_modules_have_unique_names() -> None:
    """pytest imports test folders without ``__init__.py`` by basename: two ``test_x.py`` there stop collection."""
    tests = Path(__file__).resolve().parent
    seen: dict[str, Path] = {}
    for path in sorted(tests.rglob("test_*.py")):
        if (path.parent / "__init__.py").exists() or "node_modules" in path.parts:
            continue
        assert path.name not in seen, f"{path} and {seen[path.name]} share a module name"
        seen[path.name] = path
