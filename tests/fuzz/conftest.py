"""The ``fuzz`` marker on every test in tests/fuzz (``-m 'not fuzz'`` leaves the slice out); the server's ``env``."""

from __future__ import annotations

from pathlib import Path

import pytest

from .serverenv import database, env  # noqa: F401 (the server tests' app fixture, for the API and upload fuzzing)

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests of this folder as ``fuzz``."""
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.fuzz)
            # Inputs are files of up to megabytes: hypothesis warns that their repr is large.
            item.add_marker(pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning"))
