"""Tile routes as documentation: requests to ``/tiles`` and ``/preview`` never reach FastAPI.

:class:`server.app.TwinApp` hands them to :class:`server.tiles.TileServer` before routing (see that module
for why). These declarations put the paths into /openapi.json; their bodies only run if the fast path is
bypassed, and then they answer 404 like the tile server does for an unknown file.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from server.models import Problem
from server.store import NAME_PATTERN
from twin.errors import NotFound

router = APIRouter(tags=["tiles"])

_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "the file (application/json, model/gltf-binary, application/octet-stream for .subtree)",
        "content": {"application/json": {}, "model/gltf-binary": {}, "application/octet-stream": {}},
    },
    206: {"description": "a byte range of the file"},
    304: {"description": "not modified (If-None-Match)"},
    404: {"model": Problem, "description": "no such scene or file"},
    405: {"model": Problem},
    416: {"model": Problem, "description": "range outside the file"},
}
SceneId = Annotated[str, Path(pattern=NAME_PATTERN)]
FilePath = Annotated[str, Path(description="path inside the build folder, e.g. tileset.json, blobs/<hash>.glb")]


@router.get(
    "/tiles/{scene}/{path:path}", summary="A file of the published build", responses=_RESPONSES, response_class=Response
)
def published_tile(scene: SceneId, path: FilePath) -> Response:
    """tileset.json, variants/<v>/tileset.json, blobs/<hash>.glb of the scene's published build.

    ETag/If-None-Match, Range, HEAD, CORS; JSON precompressed (br, gzip); blobs cached immutably.
    """
    raise NotFound("no such tile file")


@router.get(
    "/preview/{scene}/{build}/{path:path}",
    summary="A file of any complete build (preview)",
    responses=_RESPONSES,
    response_class=Response,
)
def preview_tile(scene: SceneId, build: Annotated[str, Path(pattern=NAME_PATTERN)], path: FilePath) -> Response:
    """Like ``/tiles`` for a draft build; build ids are unguessable and shown to its planners only."""
    raise NotFound("no such tile file")
