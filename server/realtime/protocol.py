"""The guided-visit wire protocol: compact JSON messages with a version, validated and size-limited.

Every message is one JSON object in one WebSocket text frame, ``{"v": 1, "t": <type>, ...}``. Clients send:

- ``pose``: ``h`` (head), optionally ``l``/``r`` (controllers), each ``[x, y, z, qx, qy, qz, qw]`` in the
  scene's world frame (metres, three.js Y-up, before the XR table-top transform), ``s`` the sender's world
  scale (1 at 1:1, about 0.002 at table-top), optionally ``ts`` (the sender's clock, ms; echoed for
  latency measurements). Poses supersede each other: a receiver gets the latest of each person, never a backlog.
- host only: ``state`` (any of ``variant``, ``date``, ``mode`` = ``tabletop|street``, ``follow``), ``gather``
  (``at`` = [x, y, z], ``yaw``: bring everyone here), ``pointer`` (``at`` = [x, y, z] or null),
  ``handover`` (``to`` = a person's id), ``end``.
- anyone: ``leave``, ``ping``.

The server sends ``welcome`` (your id, resume token, the visit's state and people), ``joined``, ``left``,
``host``, ``state``, ``gather``, ``pointer``, ``poses`` (``p``: id → pose), ``error`` (``code``, ``detail``),
``end`` and ``pong``. Bad input gets an ``error`` and the connection and visit go on.
"""

from __future__ import annotations

import json
import math
from typing import Any

VERSION = 1
#: Largest accepted client message, bytes of UTF-8 text (a full pose is about 250).
MAX_MESSAGE = 2048
MODES = ("tabletop", "street")
HOST_ONLY = frozenset({"state", "gather", "pointer", "handover", "end"})
CLIENT_TYPES = HOST_ONLY | {"pose", "leave", "ping"}
#: The largest coordinate accepted (metres from the scene origin): a city, not the solar system.
MAX_COORD = 1.0e6
STATE_KEYS = ("variant", "date", "mode", "follow")


class ProtocolError(ValueError):
    """A client message that is not valid; ``code`` is a short machine-readable reason."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def encode(kind: str, **fields: Any) -> str:
    """One server message as compact JSON text."""
    return json.dumps({"v": VERSION, "t": kind, **fields}, separators=(",", ":"))


def error(code: str, detail: str) -> str:
    """An ``error`` message."""
    return encode("error", code=code, detail=detail)


def parse(text: str | bytes) -> dict[str, Any]:
    """Decode and validate one client message; raises :class:`ProtocolError`."""
    if isinstance(text, bytes):
        raise ProtocolError("binary", "messages are JSON text frames, not binary")
    if len(text) > MAX_MESSAGE or len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE:
        raise ProtocolError("too_large", f"messages are at most {MAX_MESSAGE} bytes")
    try:
        msg = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("malformed", f"not JSON: {exc}") from None
    if not isinstance(msg, dict):
        raise ProtocolError("malformed", "a message is a JSON object")
    if msg.get("v") != VERSION:
        raise ProtocolError("version", f"unsupported protocol version {msg.get('v')!r}; this server speaks {VERSION}")
    kind = msg.get("t")
    if kind not in CLIENT_TYPES:
        raise ProtocolError("unknown_type", f"unknown message type {kind!r}")
    check = _CHECKS.get(kind)
    return check(msg) if check else {"t": kind}


def _number(value: Any, what: str, limit: float = MAX_COORD) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProtocolError("invalid", f"{what} must be a finite number")
    if abs(value) > limit:
        raise ProtocolError("invalid", f"{what} is out of range (|x| <= {limit:g})")
    return float(value)


def _vector(value: Any, n: int, what: str) -> list[float]:
    if not isinstance(value, list) or len(value) != n:
        raise ProtocolError("invalid", f"{what} must be a list of {n} numbers")
    return [round(_number(x, what), 4) for x in value]


def _pose_part(value: Any, what: str) -> list[float]:
    vec = _vector(value, 7, what)
    if not 0.5 < math.sqrt(sum(q * q for q in vec[3:])) < 1.5:
        raise ProtocolError("invalid", f"{what}: the last four numbers must be a unit quaternion")
    return vec


def _pose(msg: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"t": "pose", "h": _pose_part(msg.get("h"), "h")}
    for hand in ("l", "r"):
        if msg.get(hand) is not None:
            out[hand] = _pose_part(msg[hand], hand)
    scale = _number(msg.get("s", 1.0), "s", 1.0e4)
    if scale <= 0:
        raise ProtocolError("invalid", "s (world scale) must be positive")
    out["s"] = scale
    if "ts" in msg:
        out["ts"] = _number(msg["ts"], "ts", 1.0e15)
    return out


def _text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ProtocolError("invalid", f"{what} must be a non-empty string of at most {limit} characters")
    if any(ord(c) < 32 for c in value):
        raise ProtocolError("invalid", f"{what} must not contain control characters")
    return value.strip()


def _state(msg: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"t": "state"}
    if "variant" in msg:
        out["variant"] = _text(msg["variant"], "variant", 64)
    if "date" in msg:
        out["date"] = _text(msg["date"], "date", 40)
    if "mode" in msg:
        if msg["mode"] not in MODES:
            raise ProtocolError("invalid", f"mode must be one of {', '.join(MODES)}")
        out["mode"] = msg["mode"]
    if "follow" in msg:
        if not isinstance(msg["follow"], bool):
            raise ProtocolError("invalid", "follow must be true or false")
        out["follow"] = msg["follow"]
    if len(out) == 1:
        raise ProtocolError("invalid", f"state needs at least one of {', '.join(STATE_KEYS)}")
    return out


def _gather(msg: dict[str, Any]) -> dict[str, Any]:
    return {"t": "gather", "at": _vector(msg.get("at"), 3, "at"), "yaw": _number(msg.get("yaw", 0.0), "yaw", 100.0)}


def _pointer(msg: dict[str, Any]) -> dict[str, Any]:
    at = msg.get("at")
    return {"t": "pointer", "at": None if at is None else _vector(at, 3, "at")}


def _handover(msg: dict[str, Any]) -> dict[str, Any]:
    return {"t": "handover", "to": _text(msg.get("to"), "to", 16)}


_CHECKS = {"pose": _pose, "state": _state, "gather": _gather, "pointer": _pointer, "handover": _handover}


def pose_fragment(pose: dict[str, Any]) -> str:
    """The JSON of one pose as it appears inside a ``poses`` message (without ``t``)."""
    return json.dumps({k: v for k, v in pose.items() if k != "t"}, separators=(",", ":"))


def poses_message(fragments: dict[str, str]) -> str:
    """A ``poses`` message from pre-encoded fragments (person id → :func:`pose_fragment`)."""
    body = ",".join(f'"{pid}":{frag}' for pid, frag in fragments.items())
    return f'{{"v":{VERSION},"t":"poses","p":{{{body}}}}}'
