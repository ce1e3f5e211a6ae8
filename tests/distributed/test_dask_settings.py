"""How a build chooses Dask: command line, then TWIN_SCHEDULER / TWIN_WORKERS, then the manifest's [build] table."""

from __future__ import annotations

import pytest

from twin.distributed.settings import DaskSettings, dask_settings
from twin.errors import ManifestError


def test_no_scheduler_anywhere_keeps_the_process_pool() -> None:
    assert dask_settings({}, env={}) is None
    assert dask_settings({"workers": 4}, env={"TWIN_WORKERS": "2"}) is None


def test_precedence_command_line_then_environment_then_manifest() -> None:
    table = {"scheduler": "tcp://manifest:8786", "workers": 3, "partition_rows": 1000}
    assert dask_settings(table, env={}) == DaskSettings("tcp://manifest:8786", 3, partition_rows=1000)
    env = {"TWIN_SCHEDULER": "local", "TWIN_WORKERS": "2"}
    assert dask_settings(table, env=env) == DaskSettings("local", 2, partition_rows=1000)
    chosen = dask_settings(table, scheduler="tcp://cli:8786", workers=5, env=env)
    assert chosen == DaskSettings("tcp://cli:8786", 5, partition_rows=1000)
    assert chosen is not None and not chosen.local


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"schedular": "local"}, "unknown key 'schedular'"),
        ({"scheduler": "host:8786"}, "scheduler must be 'local' or an address"),
        ({"scheduler": "local", "workers": 0}, "workers must be a whole number"),
        ({"scheduler": "local", "partition_rows": "many"}, "partition_rows must be a whole number"),
        ({"scheduler": "local", "task_buildings": True}, "task_buildings must be a whole number"),
        ({"scheduler": "local", "osm_bytes": -1}, "osm_bytes must be a whole number"),
    ],
)
def test_bad_build_table_is_a_manifest_error_naming_the_key(table: dict, message: str) -> None:
    with pytest.raises(ManifestError, match=message) as err:
        dask_settings(table, env={}, where="scenes/x/scene.toml: [build]")
    assert "scenes/x/scene.toml: [build]" in str(err.value)


def test_bad_environment_scheduler_names_the_variable() -> None:
    with pytest.raises(ManifestError, match="TWIN_SCHEDULER"):
        dask_settings({}, env={"TWIN_SCHEDULER": "nowhere"})
