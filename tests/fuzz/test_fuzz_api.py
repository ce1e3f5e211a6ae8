"""Fuzz the JSON bodies and parameters of every API operation that takes them (schemathesis), as a planner.

tests/server/test_schemathesis.py fuzzes every route with an admin token and anonymously, with random path
parameters (so most bodies stop at a 404 for an unknown scene). Here every operation with a body or query
parameters runs against the real scene ``demo`` (and a real contribution, variant and upload where the path
names one) with the *planner's* token, the citizens' device key, and anonymously: no input may give a 5xx,
and every 4xx answers problem+json.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import given

from .profiles import fuzz_settings
from .serverenv import Env

DEVICE = {"X-Device-Key": "fuzz-device-key-0123456789abcdef"}
#: A valid contribution inside the scene, so the routes that name one have a real one to work on.
PIN = {"category": "question", "text": "Why here?", "position": {"lon": 9.96, "lat": 53.57, "height": 60.0}}


def _has_input(operation: Any) -> bool:
    definition = operation.definition.raw
    return "requestBody" in definition or any(p.get("in") == "query" for p in definition.get("parameters", []))


def _problems(case: schemathesis.Case, response: Any) -> list[str]:
    where = f"{case.method} {case.formatted_path}"
    if response.status_code >= 500:
        return [f"{where} -> {response.status_code}: {response.text[:300]}"]
    ctype = response.headers.get("content-type", [""])
    ctype = ctype[0] if isinstance(ctype, list) else ctype
    if 400 <= response.status_code < 500 and response.status_code != 405 and "problem+json" not in ctype:
        return [f"{where} -> {response.status_code} without problem+json ({ctype})"]
    return []


def test_bodies_and_parameters(env: Env) -> None:
    created = env.client.post("/api/scenes/demo/participation/contributions", json=PIN, headers=DEVICE)
    known = {"scene": "demo", "variant": "fuzz", "design": "fuzz", "station": "fuzz-1"}
    if created.status_code == 201:
        known["cid"] = created.json()["id"]
    env.client.put("/api/planner/scenes/demo/variants/fuzz", json={"title": "Fuzz"}, headers=env.planner)
    schema = schemathesis.openapi.from_asgi("/openapi.json", env.client.app)
    operations = [op.ok() for op in schema.get_all_operations()]
    targets = [op for op in operations if _has_input(op)]
    assert len(targets) >= 15, [op.label for op in targets]
    failures: list[str] = []

    def fuzz_with(operation: schemathesis.APIOperation, headers: dict[str, str]) -> None:
        @fuzz_settings(0.3)
        @given(case=operation.as_strategy())
        def fuzz(case: schemathesis.Case) -> None:
            for name, value in known.items():
                if name in (case.path_parameters or {}):
                    case.path_parameters[name] = value
            response = case.call(headers={**(case.headers or {}), **headers})
            failures.extend(_problems(case, response))

        fuzz()

    for operation in targets:
        for headers in ({**env.planner, **DEVICE}, DEVICE, {}):
            fuzz_with(operation, headers)
    assert not failures, "\n".join(sorted(set(failures))[:20])
