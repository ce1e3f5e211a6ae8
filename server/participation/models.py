"""Request and response bodies of the participation API (pydantic), so /openapi.json describes them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from server.store import NAME_PATTERN

#: What a contribution is: the four categories of the participation platforms we follow.
Category = Literal["idea", "concern", "question", "praise"]
#: Longest contribution, reply or answer text, in characters.
MAX_TEXT = 2000
#: The device key a browser generates and keeps (localStorage); sent as the ``X-Device-Key`` header.
DEVICE_KEY_PATTERN = r"^[A-Za-z0-9_-]{16,128}$"


class Position(BaseModel):
    """A 3D point: degrees (WGS 84) and metres above the ellipsoid."""

    model_config = ConfigDict(extra="forbid")
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    height: float = Field(default=0.0, ge=-500, le=9000)


class Camera(BaseModel):
    """Where the citizen stood and looked when pinning: position, heading and pitch (degrees), field of view."""

    model_config = ConfigDict(extra="forbid")
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    height: float = Field(ge=-500, le=100_000)
    heading: float = Field(default=0.0, ge=-360, le=360, description="degrees clockwise from north")
    pitch: float = Field(default=0.0, ge=-90, le=90, description="degrees above the horizon")
    fov: float | None = Field(default=None, gt=0, lt=180, description="vertical field of view, degrees")
    mode: str | None = Field(default=None, max_length=20, pattern=r"^[a-z]+$", description="orbit, walk, street...")


class ContributionIn(BaseModel):
    """What a citizen sends: category, text, optional name, the picked place and what they saw there."""

    model_config = ConfigDict(extra="forbid")
    category: Category
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    name: str | None = Field(default=None, max_length=80)
    position: Position
    variant: str | None = Field(default=None, pattern=NAME_PATTERN, description="null: the existing state")
    building: str | None = Field(default=None, min_length=1, max_length=200, description="id of the building hit")
    design: str | None = Field(default=None, pattern=NAME_PATTERN, description="id of the design hit")
    camera: Camera | None = None
    time: datetime | None = Field(default=None, description="the viewer's date and time of day (sun position)")
    channel: Literal["web", "vr"] = "web"


class AnalogueIn(ContributionIn):
    """A paper card or workshop table entry keyed in by lab staff, with where it came from."""

    workshop: str = Field(min_length=1, max_length=200, description="the workshop or event")
    card: str = Field(min_length=1, max_length=50, description="the card's number")
    channel: Literal["analogue"] = "analogue"  # type: ignore[assignment]


class ReplyIn(BaseModel):
    """A reply to a visible contribution."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    name: str | None = Field(default=None, max_length=80)
    channel: Literal["web", "vr"] = "web"


class ModerationIn(BaseModel):
    """Approve, or hide with a reason that the author can be shown."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["approve", "hide"]
    reason: str | None = Field(default=None, max_length=500)


class AnswerIn(BaseModel):
    """An official answer from the city (empty text withdraws it)."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=MAX_TEXT)


class SettingsIn(BaseModel):
    """Participation settings of a scene; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")
    premoderation: bool | None = Field(default=None, description="nothing is public before approval")
    open: bool | None = Field(default=None, description="the phase accepts contributions")
    opens: datetime | None = Field(default=None, description="the phase starts (none: already)")
    closes: datetime | None = Field(default=None, description="the phase ends (none: open-ended)")


class SettingsOut(BaseModel):
    """A scene's participation settings as the public sees them."""

    scene: str
    premoderation: bool
    open: bool
    opens: float | None
    closes: float | None
    accepting: bool = Field(description="open now: open, and within opens..closes")
    categories: list[str]


class PositionOut(BaseModel):
    """A stored 3D point."""

    lon: float
    lat: float
    height: float


class ContributionOut(BaseModel):
    """A contribution (or a reply) as stored, without anything about the device."""

    id: str
    parent: str | None
    category: str
    text: str
    name: str | None
    variant: str | None
    building: str | None
    design: str | None
    position: PositionOut
    camera: dict[str, float | str | None] | None
    time: str | None
    channel: str
    workshop: str | None
    card: str | None
    status: Literal["pending", "visible", "hidden"]
    reviewed: bool
    hidden_reason: str | None
    answer: str | None
    answered: float | None
    created: float
    votes: int
    replies: int
    voted: bool = False


class VoteOut(BaseModel):
    """The support a contribution has, and whether this call added to it."""

    votes: int
    counted: bool
