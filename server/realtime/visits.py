"""Guided visits as data: a visit's state, its people, join codes, and the transitions the server allows.

Nothing here does I/O: a backend (:mod:`server.realtime.backend`, :mod:`server.realtime.redis`) stores a
:class:`Visit` and runs these transitions on it, and :mod:`server.realtime.service` carries the messages.
Host authority lives here: every host-only change takes the id of who asked and is refused unless that
person is the visit's host.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from server.realtime.protocol import ProtocolError

#: Join-code letters: no 0/O, 1/I/L, 2/Z, 5/S, 8/B, so a code read out loud or off a screen is typed right.
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 7  # 25**7 ≈ 6.1e9 codes; with failed attempts rate-limited, guessing one is hopeless
ROLES = ("host", "guest", "spectator")
#: Avatar colours, given in join order (distinct under common colour-vision deficiencies first).
COLOURS = ("#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#999999")
HOST_LEAVES = ("handover", "end")


class VisitRefused(Exception):
    """A connection that may not join: ``code`` is the WebSocket close code, ``reason`` a short word."""

    def __init__(self, close_code: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.close_code = close_code
        self.reason = reason
        self.detail = detail


def new_code() -> str:
    """A fresh random join code."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """``text`` as a join code (case, spaces and dashes ignored), or None if it cannot be one."""
    code = text.upper().replace("-", "").replace(" ", "")
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def digest(secret: str) -> str:
    """The stored form of a host key or resume token."""
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def clean_name(name: str) -> str:
    """A display name: control characters dropped, whitespace collapsed, at most 32 characters."""
    text = " ".join("".join(c for c in name if ord(c) >= 32 and c not in "\u2028\u2029").split())
    return text[:32] or "Guest"


@dataclass
class Person:
    """Someone in a visit: id, display name, avatar colour, role, digest of their resume token, presence."""

    id: str
    name: str
    colour: str
    role: str
    resume: str
    online: bool = True
    since: float = field(default_factory=time.time)

    def public(self) -> dict[str, Any]:
        """What the others see."""
        return {"id": self.id, "name": self.name, "colour": self.colour, "role": self.role, "online": self.online}


@dataclass
class Visit:
    """One guided visit of a scene: who hosts, who is in, and the shared state the host steers."""

    code: str
    scene: str
    owner: str
    host_key: str
    on_host_leave: str = "handover"
    host: str = ""
    variant: str | None = None
    date: str | None = None
    mode: str = "tabletop"
    follow: bool = False
    pointer: list[float] | None = None
    rev: int = 0
    ended: bool = False
    next_id: int = 1
    created: float = field(default_factory=time.time)
    people: dict[str, Person] = field(default_factory=dict)

    def state(self) -> dict[str, Any]:
        """The shared state every participant mirrors (``rev`` counts changes)."""
        return {
            "scene": self.scene,
            "host": self.host,
            "variant": self.variant,
            "date": self.date,
            "mode": self.mode,
            "follow": self.follow,
            "pointer": self.pointer,
            "rev": self.rev,
        }

    def roster(self) -> list[dict[str, Any]]:
        """Everyone in the visit, in join order."""
        return [p.public() for p in self.people.values()]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for a shared store."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Visit:
        """The inverse of :meth:`to_dict`."""
        people = {pid: Person(**p) for pid, p in data.get("people", {}).items()}
        return cls(**{**data, "people": people})


def admit(visit: Visit, name: str, role: str, host_key: str | None, resume: str | None, limit: int) -> Person:
    """Let someone in and return who they are; the new resume token's digest is set by the caller.

    ``resume`` (a token from an earlier welcome) brings back the same person with the same role; a valid
    ``host_key`` makes the caller the host (the same person as before if the host had already joined).
    """
    if visit.ended:
        raise VisitRefused(4410, "ended", "this visit has ended")
    if resume is not None:
        wanted = digest(resume)
        for person in visit.people.values():
            if secrets.compare_digest(person.resume, wanted):
                person.online = True
                return person
        raise VisitRefused(4403, "bad_resume", "unknown resume token (the visit may have let you go)")
    if host_key is not None:
        if not secrets.compare_digest(digest(host_key), visit.host_key):
            raise VisitRefused(4403, "bad_host_key", "wrong host key")
        if visit.host in visit.people:
            person = visit.people[visit.host]
            person.online = True
            return person
        role = "host"
    elif role not in ("guest", "spectator"):
        raise VisitRefused(4400, "bad_role", "role must be guest or spectator (hosts join with the host key)")
    if len(visit.people) >= limit:
        raise VisitRefused(4429, "full", f"this visit is full ({limit} people)")
    pid = f"p{visit.next_id}"
    colour = COLOURS[(visit.next_id - 1) % len(COLOURS)]
    visit.next_id += 1
    person = Person(pid, clean_name(name), colour, role, "")
    visit.people[pid] = person
    if role == "host":
        visit.host = pid
        visit.rev += 1
    return person


def check_host(visit: Visit, pid: str) -> None:
    """Refuse (``forbidden``) anyone but the host."""
    if not pid or pid != visit.host:
        raise ProtocolError("forbidden", "only the host may do that")


def apply_state(visit: Visit, pid: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The host changes variant, date, mode or follow; returns the new state."""
    check_host(visit, pid)
    for key in ("variant", "date", "mode", "follow"):
        if key in changes:
            setattr(visit, key, changes[key])
    visit.rev += 1
    return visit.state()


def set_pointer(visit: Visit, pid: str, at: list[float] | None) -> list[float] | None:
    """The host points at ``at`` (None: stops pointing)."""
    check_host(visit, pid)
    visit.pointer = at
    return at


def hand_over(visit: Visit, pid: str, to: str) -> dict[str, Any]:
    """The host makes ``to`` (an online guest) the host and becomes a guest; returns the new state."""
    check_host(visit, pid)
    target = visit.people.get(to)
    if target is None or target.role != "guest" or not target.online:
        raise ProtocolError("invalid", f"{to!r} is not a guest who is here")
    visit.people[pid].role = "guest"
    target.role = "host"
    visit.host = to
    visit.rev += 1
    return visit.state()


def end(visit: Visit, pid: str) -> None:
    """The host ends the visit for everyone."""
    check_host(visit, pid)
    visit.ended = True


def set_online(visit: Visit, pid: str, online: bool) -> bool:
    """Mark ``pid`` here or away; False if they are no longer in the visit."""
    person = visit.people.get(pid)
    if person is None:
        return False
    person.online = online
    person.since = time.time()
    return True


def depart(visit: Visit, pid: str, only_if_away: bool = False) -> str | None:
    """``pid`` leaves; returns what happened: None (nothing), ``left``, ``host`` (handed over) or ``ended``.

    When the host leaves, the earliest guest still here becomes the host, unless the visit was opened to end
    with its host, or nobody is left to take over.
    """
    person = visit.people.get(pid)
    if person is None or (only_if_away and person.online):
        return None
    del visit.people[pid]
    if pid != visit.host:
        return "left"
    guests = [p for p in visit.people.values() if p.role == "guest" and p.online]
    if visit.on_host_leave == "end" or not guests:
        visit.host = ""
        visit.ended = True
        return "ended"
    guests[0].role = "host"
    visit.host = guests[0].id
    visit.rev += 1
    return "host"
