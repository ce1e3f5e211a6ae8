"""The rules of participation: what a contribution must be, who may see it, the phase, floods, moderation.

:class:`Participation` is what the routes call: it checks a request against the published scene (its bounds
and variants) and the scene's settings, applies the rate limits, and stores through
:class:`server.participation.store.ParticipationStore`. Texts are kept as written (a viewer renders them as
text, never as HTML); only control characters are refused.
"""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from server import scenes
from server.errors import TooManyRequests, Unprocessable
from server.participation.models import AnalogueIn, AnswerIn, ContributionIn, ModerationIn, ReplyIn, SettingsIn
from server.participation.ratelimit import Buckets, Rate
from server.participation.store import ParticipationStore
from server.storage.connection import Connection
from server.store import SceneStore
from twin.errors import Conflict, NotFound

CATEGORIES = ("idea", "concern", "question", "praise")
#: Control characters other than tab and newline (and the line/paragraph separators) have no place in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
#: How far outside the scene's bounds (degrees, and as a share of its extent) a pin may still stand.
MARGIN_DEGREES = 0.0005
MARGIN_SHARE = 0.05


class InvalidContribution(Unprocessable):
    """A contribution breaks a rule: blank text, a place outside the scene, an unknown variant."""


class Flooded(TooManyRequests):
    """Too many contributions or votes from one device or at one scene in a short time."""


class PhaseClosed(Conflict):
    """The scene's participation phase does not accept contributions now."""


@dataclass(frozen=True)
class Limits:
    """Rates per device hash and per scene, for new contributions (and replies) and for votes."""

    device_posts: Rate = field(default_factory=lambda: Rate(per_minute=6, burst=5))
    scene_posts: Rate = field(default_factory=lambda: Rate(per_minute=300, burst=100))
    device_votes: Rate = field(default_factory=lambda: Rate(per_minute=60, burst=30))
    scene_votes: Rate = field(default_factory=lambda: Rate(per_minute=3000, burst=600))


def clean_text(text: str, what: str = "text", allow_empty: bool = False) -> str:
    """``text`` in NFC without surrounding blanks; :class:`InvalidContribution` if blank or with control chars."""
    out = unicodedata.normalize("NFC", text).strip()
    if _CONTROL.search(out):
        raise InvalidContribution(f"{what} contains control characters")
    if not out and not allow_empty:
        raise InvalidContribution(f"{what} is empty")
    return out


def inside(bounds: Any, lon: float, lat: float) -> bool:
    """True if (lon, lat) lies within ``[west, south, east, north]`` plus a small margin (or no bounds known)."""
    if not isinstance(bounds, list) or len(bounds) not in (4, 6):
        return True
    west, south, east, north = (float(b) for b in (bounds[:4] if len(bounds) == 4 else [*bounds[:2], *bounds[3:5]]))
    dx = max(MARGIN_DEGREES, (east - west) * MARGIN_SHARE)
    dy = max(MARGIN_DEGREES, (north - south) * MARGIN_SHARE)
    return west - dx <= lon <= east + dx and south - dy <= lat <= north + dy


def accepting(settings: dict[str, Any], now: float | None = None) -> bool:
    """True while the phase is open and ``now`` lies between its opening and closing dates."""
    now = time.time() if now is None else now
    opens, closes = settings.get("opens"), settings.get("closes")
    return bool(settings["open"]) and (opens is None or now >= opens) and (closes is None or now < closes)


def public_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings without the salt, plus whether the phase accepts contributions now."""
    out = {k: settings[k] for k in ("scene", "premoderation", "open", "opens", "closes")}
    return {**out, "accepting": accepting(settings), "categories": list(CATEGORIES)}


def view(row: dict[str, Any], voted: set[str] | None = None) -> dict[str, Any]:
    """A stored row as the API shows it (a nested position, the viewer's time under its own name)."""
    out = {k: v for k, v in row.items() if k not in ("lon", "lat", "height", "sun_time", "scene", "moderated")}
    out["position"] = {"lon": row["lon"], "lat": row["lat"], "height": row["height"]}
    out["time"] = row.get("sun_time")
    out["voted"] = bool(voted and row["id"] in voted)
    return out


def _threaded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in their order, each contribution followed by its replies; replies whose contribution is not among
    the rows (filtered out) come last."""
    replies: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["parent"] is not None:
            replies.setdefault(row["parent"], []).append(row)
    out = []
    for row in rows:
        if row["parent"] is None:
            out += [row, *replies.pop(row["id"], [])]
    for rest in replies.values():
        out += rest
    return [view(r) for r in out]


def _name(name: str | None) -> str | None:
    return (clean_text(name, "name", allow_empty=True) or None) if name else None


def _epoch(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


class Participation:
    """Participation in every published scene of one server."""

    def __init__(self, db: Connection, store: SceneStore, limits: Limits | None = None) -> None:
        self.db = ParticipationStore(db)
        self.scenes = store
        self.limits = limits or Limits()
        self._buckets = {name: Buckets(getattr(self.limits, name)) for name in Limits.__dataclass_fields__}

    # reading -----------------------------------------------------------------------------------------
    def scene(self, scene: str) -> dict[str, Any]:
        """The published scene document; :class:`NotFound` for a scene that is not published."""
        return scenes.public_scene(self.scenes, scene, "")

    def device(self, scene: str, key: str) -> str:
        """The stored form of a browser's device key: sha256 over the scene's salt and the key."""
        salt = self.db.settings(scene)["salt"]
        return hashlib.sha256(f"{salt}:{key}".encode()).hexdigest()

    def settings(self, scene: str) -> dict[str, Any]:
        """The scene's public settings."""
        self.scene(scene)
        return public_settings(self.db.settings(scene))

    def visible(self, scene: str, device_key: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        """Visible top-level contributions (filters as :meth:`ParticipationStore.query`), marking the caller's votes."""
        self.scene(scene)
        voted = self.db.voted(scene, self.device(scene, device_key)) if device_key else set()
        return [view(r, voted) for r in self.db.query(scene, **filters)]

    def replies(self, scene: str, cid: str) -> list[dict[str, Any]]:
        """Visible replies to a visible contribution, oldest first."""
        self.public(scene, cid)
        return [view(r) for r in self.db.query(scene, parent=cid, order="oldest")]

    def summary(self, scene: str) -> list[dict[str, Any]]:
        """Per variant (None: the existing state): visible contributions by category and their support."""
        self.scene(scene)
        out: dict[str | None, dict[str, Any]] = {}
        for row in self.db.summary(scene):
            entry = out.setdefault(
                row["variant"], {"variant": row["variant"], "count": 0, "support": 0, "categories": {}}
            )
            entry["categories"][row["category"]] = row["count"]
            entry["count"] += row["count"]
            entry["support"] += row["support"] or 0
        return list(out.values())

    # writing -----------------------------------------------------------------------------------------
    def create(self, scene: str, body: ContributionIn, device_key: str) -> dict[str, Any]:
        """A citizen's contribution, visible at once or pending approval as the scene is set."""
        doc, settings = self.scene(scene), self.db.settings(scene)
        if not accepting(settings):
            raise PhaseClosed("participation in this scene is closed")
        values = self._checked(doc, body)
        device = self.device(scene, device_key)
        self._spend("posts", scene, device)
        status = "pending" if settings["premoderation"] else "visible"
        return view(self.db.add(scene, {**values, "device": device}, status))

    def create_analogue(self, scene: str, body: AnalogueIn, staff: str) -> dict[str, Any]:
        """A card keyed in by lab staff: visible at once, reviewed, marked analogue with workshop and card.

        Staff may key in cards after the phase has closed (they were written while it was open).
        """
        values = self._checked(self.scene(scene), body)
        values["workshop"] = clean_text(body.workshop, "workshop")
        values["card"] = clean_text(body.card, "card")
        device = self.device(scene, f"staff:{staff}")
        return view(self.db.add(scene, {**values, "device": device}, "visible", reviewed=True))

    def reply(self, scene: str, cid: str, body: ReplyIn, device_key: str) -> dict[str, Any]:
        """A reply to a visible top-level contribution; it stands where its contribution stands."""
        settings = self.db.settings(scene)
        parent = self.public(scene, cid)
        if not accepting(settings):
            raise PhaseClosed("participation in this scene is closed")
        device = self.device(scene, device_key)
        self._spend("posts", scene, device)
        values = {k: parent[k] for k in ("variant", "building", "design", "camera")}
        values.update(parent["position"], sun_time=parent["time"])
        values.update(
            parent=cid,
            category="reply",
            text=clean_text(body.text),
            name=_name(body.name),
            channel=body.channel,
            device=device,
        )
        status = "pending" if settings["premoderation"] else "visible"
        return view(self.db.add(scene, values, status))

    def vote(self, scene: str, cid: str, device_key: str, support: bool = True) -> dict[str, Any]:
        """Support (or withdraw support for) a visible contribution; one vote per device, repeats are no-ops."""
        self.public(scene, cid)
        if not accepting(self.db.settings(scene)):
            raise PhaseClosed("participation in this scene is closed")
        device = self.device(scene, device_key)
        self._spend("votes", scene, device)
        counted = self.db.vote(cid, device) if support else self.db.unvote(cid, device)
        return {"votes": self.db.get(scene, cid)["votes"], "counted": counted}

    # moderation --------------------------------------------------------------------------------------
    def queue(self, scene: str, status: str | None, unreviewed: bool, order: str = "oldest") -> list[dict[str, Any]]:
        """Contributions and replies for the moderation page (any status unless one is asked for), threaded."""
        self.scene(scene)
        statuses = (status,) if status else ("pending", "visible", "hidden")
        rows = self.db.query(scene, statuses=statuses, parent="*", unreviewed=unreviewed, order=order, limit=10_000)
        return _threaded(rows)

    def moderate(self, scene: str, cid: str, body: ModerationIn) -> dict[str, Any]:
        """Approve (visible) or hide with a reason."""
        self.scene(scene)
        if body.action == "approve":
            return view(self.db.moderate(scene, cid, {"status": "visible", "hidden_reason": None}))
        reason = clean_text(body.reason or "", "reason")
        return view(self.db.moderate(scene, cid, {"status": "hidden", "hidden_reason": reason}))

    def answer(self, scene: str, cid: str, body: AnswerIn) -> dict[str, Any]:
        """Set (or, with empty text, withdraw) the official answer."""
        self.scene(scene)
        text = clean_text(body.text, "answer", allow_empty=True)
        return view(self.db.moderate(scene, cid, {"answer": text or None}))

    def delete(self, scene: str, cid: str) -> None:
        """Delete a contribution with its replies and votes, for good."""
        self.scene(scene)
        self.db.delete(scene, cid)

    def update_settings(self, scene: str, body: SettingsIn) -> dict[str, Any]:
        """Change pre-moderation and the phase; a phase that closes before it opens is refused."""
        self.scene(scene)
        values = body.model_dump(exclude_unset=True)
        for key in ("opens", "closes"):
            if key in values:
                values[key] = _epoch(values[key])
        current = {**self.db.settings(scene), **values}
        if current["opens"] is not None and current["closes"] is not None and current["closes"] <= current["opens"]:
            raise InvalidContribution("the phase must close after it opens")
        if values.get("premoderation") is None:
            values.pop("premoderation", None)
        if values.get("open") is None:
            values.pop("open", None)
        return public_settings(self.db.update_settings(scene, values))

    def everything(self, scene: str) -> list[dict[str, Any]]:
        """Every contribution and reply of a scene, any status, oldest first and threaded (for the export)."""
        self.scene(scene)
        statuses = ("pending", "visible", "hidden")
        return _threaded(self.db.query(scene, statuses=statuses, parent="*", order="oldest", limit=1_000_000))

    # helpers -----------------------------------------------------------------------------------------
    def public(self, scene: str, cid: str) -> dict[str, Any]:
        """One visible top-level contribution; :class:`NotFound` for any other (no hint that it exists)."""
        self.scene(scene)
        row = self.db.get(scene, cid)
        if row["status"] != "visible" or row["parent"] is not None:
            raise NotFound(f"contribution {cid!r} not found")
        return view(row)

    def _checked(self, doc: dict[str, Any], body: ContributionIn) -> dict[str, Any]:
        """The stored values of a contribution, after checking it against the published scene."""
        pos = body.position
        if not inside(doc.get("bounds"), pos.lon, pos.lat):
            raise InvalidContribution(f"the position ({pos.lon:.6f}, {pos.lat:.6f}) is outside the scene")
        variants = {v["id"] for v in doc.get("variants") or []}
        if body.variant is not None and body.variant not in variants:
            raise InvalidContribution(f"unknown variant {body.variant!r}")
        return {
            "category": body.category,
            "text": clean_text(body.text),
            "name": _name(body.name),
            "variant": body.variant,
            "building": clean_text(body.building, "building") if body.building else None,
            "design": body.design,
            "lon": pos.lon,
            "lat": pos.lat,
            "height": pos.height,
            "camera": body.camera.model_dump() if body.camera else None,
            "sun_time": body.time.isoformat() if body.time else None,
            "channel": body.channel,
        }

    def _spend(self, kind: str, scene: str, device: str) -> None:
        """Take one token from the device's and the scene's bucket of ``kind``, or raise :class:`Flooded`."""
        wait = self._buckets[f"device_{kind}"].take(f"{scene}:{device}")
        if wait == 0:
            wait = self._buckets[f"scene_{kind}"].take(scene)
        if wait > 0:
            raise Flooded(f"too many {kind} in a short time; try again in {max(1, round(wait))} s")
