"""The server tests' app fixture (``env``: a fresh app with a published scene ``demo`` and tokens), for tests/fuzz.

tests/server/conftest.py is not in a package, and pytest imports several such files under the one name
``conftest``; it is loaded here under a name of its own, so ``from conftest import ...`` never picks the
wrong one.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def _load() -> ModuleType:
    name = "tests_server_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parent.parent / "server" / "conftest.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_server = _load()
Env = _server.Env
env = _server.env
database = _server.database  # env's database: SQLite here (the fuzz tests are not parametrized)
