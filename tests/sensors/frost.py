"""A tiny SensorThings server for tests: recorded Hamburg pages served the way FROST pages them.

``/v1.1/Things`` with ``$top`` (at most 100, like FROST's maxTop), ``$skip``, ``$count``, ``$filter`` (``eq``
on ``name``, ``@iot.id``, ``properties/<key>`` and ``Datastreams/properties/<key>``, joined by ``and``) and
``$expand`` (``Datastreams``, ``Datastreams/Observations`` or ``Datastreams($expand=Observations)``,
``Locations``), with an absolute ``@iot.nextLink``; ``/v1.1/Datastreams(<id>)/Observations`` paged the same
way. Misbehaving endpoints for the guards: ``/loop/Things`` (a nextLink to itself), ``/redirect`` (to another
host name), ``/slow/Things`` (answers after ``slow`` seconds), ``/huge/Things`` (ignores maxTop).
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

MAX_TOP = 100
_EQ = re.compile(r"^\(*\s*([\w@./]+)\s+eq\s+('(?:[^']|'')*'|-?\d+)\s*\)*$")


def _value(entity: dict[str, Any], path: str) -> list[Any]:
    """Every value at ``path`` (``Datastreams/properties/x`` looks into each datastream)."""
    parts = path.split("/")
    nodes: list[Any] = [entity]
    for part in parts:
        nxt: list[Any] = []
        for node in nodes:
            value = node.get(part) if isinstance(node, dict) else None
            nxt.extend(value if isinstance(value, list) else [value])
        nodes = nxt
    return nodes


def _matches(entity: dict[str, Any], expr: str) -> bool:
    for clause in re.split(r"\s+and\s+", expr.strip()):
        m = _EQ.match(clause.strip())
        if not m:
            raise ValueError(f"unsupported $filter clause {clause!r}")
        path, literal = m.groups()
        want: Any = literal[1:-1].replace("''", "'") if literal.startswith("'") else int(literal)
        if want not in _value(entity, path):
            return False
    return True


def _shape(thing: dict[str, Any], expand: str) -> dict[str, Any]:
    out = {k: v for k, v in thing.items() if k not in ("Datastreams", "Locations")}
    if "Locations" in expand and "Locations" in thing:
        out["Locations"] = thing["Locations"]
    if "Datastreams" in expand:
        with_obs = "Observations" in expand
        out["Datastreams"] = [
            {k: v for k, v in ds.items() if with_obs or not k.startswith("Observations")} for ds in thing["Datastreams"]
        ]
    return out


def _page(request: Request, items: list[Any], base: str) -> dict[str, Any]:
    q = request.query_params
    top = min(int(q.get("$top", MAX_TOP)), MAX_TOP if not base.startswith("/huge") else 10**6)
    skip = int(q.get("$skip", 0))
    doc: dict[str, Any] = {}
    if q.get("$count") == "true":
        doc["@iot.count"] = len(items)
    doc["value"] = items[skip : skip + top]
    if skip + top < len(items):
        params = {**dict(q), "$skip": str(skip + top), "$top": str(top)}
        doc["@iot.nextLink"] = f"{request.base_url}{base.lstrip('/')}?{urlencode(params)}"
    return doc


def create_frost(pages: list[Path], slow: float = 2.0) -> FastAPI:
    """The app over the Things of recorded pages (merged by @iot.id, datastreams joined)."""
    things: dict[Any, dict[str, Any]] = {}
    for path in pages:
        for t in json.loads(path.read_text(encoding="utf-8"))["value"]:
            mine = things.setdefault(t["@iot.id"], {**copy.deepcopy(t), "Datastreams": []})
            mine["Datastreams"].extend(copy.deepcopy(t.get("Datastreams", [])))
    streams = {ds["@iot.id"]: ds for t in things.values() for ds in t["Datastreams"]}
    app = FastAPI()
    app.state.requests = []

    @app.middleware("http")
    async def log(request: Request, call_next: Any) -> Any:
        app.state.requests.append(str(request.url))
        return await call_next(request)

    def things_page(request: Request, base: str) -> JSONResponse:
        q = request.query_params
        try:
            chosen = [t for t in things.values() if not q.get("$filter") or _matches(t, q["$filter"])]
        except ValueError as exc:
            return JSONResponse({"code": 400, "type": "error", "message": str(exc)}, status_code=400)
        shaped = [_shape(t, q.get("$expand", "")) for t in chosen]
        return JSONResponse(_page(request, shaped, base))

    @app.get("/v1.1/Things")
    def get_things(request: Request) -> JSONResponse:
        return things_page(request, "/v1.1/Things")

    @app.get("/huge/Things")
    def get_huge(request: Request) -> JSONResponse:
        return things_page(request, "/huge/Things")

    @app.get("/v1.1/Datastreams({ds_id})/Observations")
    def get_observations(ds_id: int, request: Request) -> JSONResponse:
        stream = streams.get(ds_id)
        if stream is None:
            return JSONResponse({"code": 404, "message": "Nothing found."}, status_code=404)
        return JSONResponse(_page(request, stream.get("Observations", []), f"/v1.1/Datastreams({ds_id})/Observations"))

    @app.get("/loop/Things")
    def get_loop(request: Request) -> JSONResponse:
        doc = _page(request, [_shape(t, "Datastreams/Observations") for t in things.values()][:5], "/loop/Things")
        doc["@iot.nextLink"] = f"{request.base_url}loop/Things?$top=5"
        return JSONResponse(doc)

    @app.get("/redirect")
    def get_redirect(request: Request) -> RedirectResponse:
        port = request.url.port
        return RedirectResponse(f"http://localhost:{port}/v1.1/Things", status_code=302)

    @app.get("/slow/Things")
    async def get_slow(request: Request) -> JSONResponse:
        await asyncio.sleep(slow)
        return JSONResponse({"value": []})

    return app


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` on a free loopback port in a thread; yields its base URL (``http://127.0.0.1:<port>``)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
