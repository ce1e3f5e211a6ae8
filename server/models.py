"""Request and response bodies of the HTTP API (pydantic), so /openapi.json describes every route."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.store import NAME_PATTERN

Name = Field(pattern=NAME_PATTERN)


class Problem(BaseModel):
    """An RFC 9457 problem document (``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str = ""


class Link(BaseModel):
    """A web link (OGC API style)."""

    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class VariantIn(BaseModel):
    """A variant's editable fields."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    removed: list[str] = Field(default_factory=list, max_length=100_000, description="building ids to hide")


class AnchorIn(BaseModel):
    """Where a design stands: lon/lat (or easting/northing in crs), elevation, heading, scale."""

    model_config = ConfigDict(extra="forbid")
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    easting: float | None = None
    northing: float | None = None
    crs: str | None = Field(default=None, max_length=100)
    elevation: float = Field(default=0.0, ge=-1000, le=10000)
    datum: Literal["ellipsoidal", "DHHN2016", "normal", "ground"] = "ground"
    heading: float = Field(default=0.0, ge=-360, le=360)
    scale: float = Field(default=1.0, gt=0, lt=1000)
    point: Literal["origin", "centre"] = Field(
        default="origin", description="what lands at the position: the design's origin or its footprint's centre"
    )


BuildingIds = Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=1000)]


class DesignIn(BaseModel):
    """A placement of an uploaded design into a variant, with the planner's choices of overlapped buildings."""

    model_config = ConfigDict(extra="forbid")
    upload: str = Field(pattern=NAME_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    anchor: AnchorIn
    keep: BuildingIds = Field(default_factory=list, description="buildings kept although the design removes them")
    remove: BuildingIds = Field(default_factory=list, description="overlapped buildings removed all the same")


class OverlapsIn(BaseModel):
    """A placement to try on the map: which buildings would it remove, which would stay while overlapping it."""

    model_config = ConfigDict(extra="forbid")
    upload: str = Field(pattern=NAME_PATTERN)
    anchor: AnchorIn
    keep: BuildingIds = Field(default_factory=list)
    remove: BuildingIds = Field(default_factory=list)


class DesignOut(BaseModel):
    """A design placed in a variant."""

    id: str
    upload: str
    title: str
    anchor: dict[str, Any]
    keep: list[str] = []
    remove: list[str] = []


class VariantOut(BaseModel):
    """A planner's variant."""

    scene: str
    id: str
    title: str
    removed: list[str]
    updated: float
    designs: list[DesignOut]


class UploadOut(BaseModel):
    """A stored, checked design file."""

    id: str
    scene: str
    filename: str
    format: str
    size: int
    sha256: str
    info: dict[str, Any]
    created: float


class BuildOut(BaseModel):
    """A build job: state, progress and (for one build) its log."""

    id: str
    scene: str
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    stage: str
    progress: float
    error: str
    created: float
    started: float | None = None
    finished: float | None = None
    published: bool = False
    preview: str | None = Field(default=None, description="tileset URL of this build (drafts too)")
    log: str | None = None


class PlannerScene(BaseModel):
    """A scene as a planner sees it."""

    id: str
    title: str
    published: str | None
    variants: list[VariantOut] = Field(default_factory=list)
    uploads: list[UploadOut] = Field(default_factory=list)
    builds: list[BuildOut] = Field(default_factory=list)


class TokenIn(BaseModel):
    """A token to create."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["planner", "admin", "moderator"]
    name: str = Field(min_length=1, max_length=200)
    scenes: list[str] = Field(default_factory=list, max_length=1000)


class TokenOut(BaseModel):
    """A token (the secret only once, at creation)."""

    id: int
    name: str
    role: str
    scenes: list[str]
    created: float
    revoked: float | None = None
    token: str | None = None


class SceneIn(BaseModel):
    """A scene to register: its title and manifest (default ``<scenes_dir>/<id>/scene.toml``)."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    manifest: str | None = Field(default=None, max_length=1000)


class SceneRow(BaseModel):
    """A registered scene."""

    id: str
    title: str
    manifest: str
    created: float
