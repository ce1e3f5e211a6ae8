"""Property-based fuzzing of every route in /openapi.json (schemathesis): no input may give a 5xx.

Runs as one test with a small number of examples per operation, with an admin token so planner and admin
routes are exercised beyond 401 (and once without a token), so it stays well under a minute.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).parent))
from conftest import Env

EXAMPLES = 20


def test_no_server_errors(env: Env) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", env.client.app)
    failures: list[str] = []
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 20

    def fuzz_with(operation: schemathesis.APIOperation, headers: dict[str, str]) -> None:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(headers={**(case.headers or {}), **headers})
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")
            elif response.status_code >= 400 and response.status_code != 405:
                ctype = response.headers.get("content-type", [""])
                ctype = ctype[0] if isinstance(ctype, list) else ctype
                if "problem+json" not in ctype:
                    failures.append(
                        f"{case.method} {case.formatted_path} -> {response.status_code} without problem+json ({ctype})"
                    )

        fuzz()

    for operation in operations:
        for headers in (env.admin, {}):
            fuzz_with(operation, headers)
    assert not failures, "\n".join(sorted(set(failures))[:20])


@pytest.mark.parametrize(
    "path", ["/api/scenes/%00", "/api/scenes/demo/buildings?bbox=" + "9," * 5000, "/api/planner/scenes/" + "a" * 5000]
)
def test_hostile_paths(env: Env, path: str) -> None:
    r = env.client.get(path, headers=env.admin)
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"] == "application/problem+json"
