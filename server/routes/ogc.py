"""OGC API – 3D GeoVolumes: landing page, conformance and collections linking to the 3D Tiles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from server import scenes
from server.deps import BaseUrlDep, CtxDep
from server.models import Problem
from server.participation.export import ogc_collection
from server.store import NAME_PATTERN

router = APIRouter(prefix="/ogc", tags=["ogc"], responses={404: {"model": Problem}})

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-geovolumes-1/1.0/conf/core",
]
TILES_3D = "application/json+3dtiles"


def collection(doc: dict[str, Any], base: str) -> dict[str, Any]:
    """A 3D GeoVolumes collection (3d-container) for one public scene document."""
    me = f"{base.rstrip('/')}/ogc/collections/{doc['id']}"
    bounds = doc.get("bounds")
    extent = (
        {"spatial": {"bbox": [bounds], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}
        if isinstance(bounds, list) and len(bounds) in (4, 6)
        else {}
    )
    content = [{"href": doc["tileset_url"], "rel": "original", "type": TILES_3D, "title": "3D Tiles 1.1"}]
    content += [
        {
            "href": v["tileset_url"],
            "rel": "alternate",
            "type": TILES_3D,
            "title": f"3D Tiles 1.1, variant {v.get('title', v['id'])}",
        }
        for v in doc["variants"]
    ]
    return {
        "id": doc["id"],
        "title": doc.get("title", doc["id"]),
        "description": "; ".join(str(a) for a in doc.get("attribution") or []),
        "collectionType": "3d-container",
        "extent": extent,
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "links": [
            {"href": me, "rel": "self", "type": "application/json"},
            *({**c, "rel": "data" if c["rel"] == "original" else c["rel"]} for c in content),
            {
                "href": doc["buildings_url"],
                "rel": "items",
                "type": "application/geo+json",
                "title": "building footprints (bbox query)",
            },
        ],
        "content": content,
    }


@router.get("", summary="Landing page")
def landing(base: BaseUrlDep) -> dict[str, Any]:
    """Links to the API definition, conformance and collections."""
    root = base.rstrip("/")
    return {
        "title": "Urban twin: 3D GeoVolumes",
        "description": "Published city scenes as 3D Tiles 1.1",
        "links": [
            {"href": f"{root}/ogc", "rel": "self", "type": "application/json"},
            {
                "href": f"{root}/openapi.json",
                "rel": "service-desc",
                "type": "application/vnd.oai.openapi+json;version=3.0",
            },
            {"href": f"{root}/ogc/conformance", "rel": "conformance", "type": "application/json"},
            {"href": f"{root}/ogc/collections", "rel": "data", "type": "application/json"},
        ],
    }


@router.get("/conformance", summary="Conformance classes")
def conformance() -> dict[str, list[str]]:
    """The conformance classes this API implements."""
    return {"conformsTo": CONFORMANCE}


@router.get("/collections", summary="Collections (published scenes and their contributions)")
def collections(ctx: CtxDep, base: BaseUrlDep) -> dict[str, Any]:
    """Per published scene a 3d-container collection and a feature collection of its contributions."""
    docs = scenes.public_scenes(ctx.store, base)
    return {
        "links": [{"href": f"{base.rstrip('/')}/ogc/collections", "rel": "self", "type": "application/json"}],
        "collections": [c for d in docs for c in (collection(d, base), ogc_collection(d, base))],
    }


@router.get("/collections/{scene}", summary="One collection")
def one_collection(scene: Annotated[str, Path(pattern=NAME_PATTERN)], ctx: CtxDep, base: BaseUrlDep) -> dict[str, Any]:
    """The collection of one published scene, linking to its 3D Tiles."""
    return collection(scenes.public_scene(ctx.store, scene, base), base)
