"""The guided-visit service: admits connections, checks and carries their messages, and ends or hands over.

One :class:`VisitService` per app. A WebSocket handler calls :meth:`VisitService.connect` (which returns the
session and its ``welcome``), feeds every text frame to :meth:`VisitService.receive`, sends whatever
:meth:`Session.next` returns, and calls :meth:`VisitService.disconnect` at the end.

Messages go out through the backend as ``(kind, origin, payload)`` and come back to every process in
:meth:`VisitService.deliver`, which hands them to this process's hub. Kinds:

- ``q``: queued for everyone in the visit but ``origin``; ``a``: queued for everyone;
- ``p``: a pose of ``origin`` that supersedes its previous one (:meth:`server.realtime.hub.Hub.supersede`);
- ``e``: the visit ended: the message goes to everyone, then their connections close;
- ``k``: ``origin`` connected again elsewhere (payload: the new connection's id): close the old one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from server.realtime import protocol as P
from server.realtime import visits as V
from server.realtime.backend import Backend, LocalBackend, VisitGone
from server.realtime.hub import Client, Hub, Latest

log = logging.getLogger(__name__)

#: Messages a connection may send per second on average, and in one burst (poses come at 10–20 Hz).
RATE = 40.0
BURST = 80.0
#: A connection that keeps flooding or sending nonsense past these counts is closed (the visit goes on).
MAX_OVER_RATE = 400
MAX_INVALID = 50
#: Least time between two ``poses`` messages to one person: 40 a second at most, however many people send.
POSE_INTERVAL = 1 / 40
#: Failed join attempts (unknown code, wrong host key or resume token) per address and window.
FAIL_LIMIT = 20
FAIL_WINDOW = 60.0


class _End:
    """Queued after the last message of an ended visit: the connection closes once it is sent."""


END = _End()


@dataclass(eq=False)
class Session:
    """One connection of one person to one visit."""

    code: str
    person: str
    role: str
    client: Client
    conn: str = field(default_factory=lambda: secrets.token_hex(8))
    close_code: int = 1000
    tokens: float = BURST
    stamp: float = field(default_factory=time.monotonic)
    over_rate: int = 0
    invalid: int = 0
    notified: float = 0.0
    left: bool = False

    async def next(self) -> str | None:
        """The next text to send, or None when the connection should close (with :attr:`close_code`)."""
        item = await self.client.receive()
        if item is None:
            if self.client.dropped:
                self.close_code = 4408
            return None
        if item is END:
            return None
        if isinstance(item, Latest):
            return P.poses_message(item.values)
        return str(item)

    def _allow(self) -> bool:
        """Token bucket: True while the connection keeps to :data:`RATE`."""
        now = time.monotonic()
        self.tokens = min(BURST, self.tokens + (now - self.stamp) * RATE)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class VisitService:
    """Visits of one app over one backend (in-process, or Redis when ``redis_url`` is given)."""

    def __init__(
        self,
        redis_url: str | None = None,
        grace: float = 20.0,
        max_people: int = 50,
        queue_size: int = 256,
        backend: Backend | None = None,
    ) -> None:
        self.redis_url = redis_url
        self.grace = grace
        self.max_people = max_people
        self.hub = Hub(queue_size, POSE_INTERVAL)
        self._backend = backend
        self._started = False
        self._lock: asyncio.Lock | None = None
        self._sessions: dict[int, Session] = {}
        self._poses: dict[str, dict[str, str]] = {}
        self._timers: set[asyncio.Task[None]] = set()

    async def backend(self) -> Backend:
        """The backend, started on first use (inside the server's event loop)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._backend is None:
                if self.redis_url:
                    from server.realtime.redis import RedisBackend

                    self._backend = RedisBackend(self.redis_url)
                else:
                    self._backend = LocalBackend()
            if not self._started:
                await self._backend.start(self.deliver)
                self._started = True
        return self._backend

    async def close(self) -> None:
        """Stop timers and the backend."""
        for task in list(self._timers):
            task.cancel()
        if self._backend is not None:
            await self._backend.close()
        self._started = False

    # -- opening and looking up ---------------------------------------------------------------------------

    async def open(
        self,
        scene: str,
        owner: str,
        variant: str | None = None,
        date: str | None = None,
        mode: str = "tabletop",
        on_host_leave: str = "handover",
    ) -> tuple[V.Visit, str]:
        """A new visit and its host key (a secret shown once)."""
        backend = await self.backend()
        key = secrets.token_urlsafe(24)
        for _ in range(20):
            visit = V.Visit(V.new_code(), scene, owner, V.digest(key), on_host_leave, variant=variant, date=date)
            visit.mode = mode
            if await backend.create(visit):
                return visit, key
        raise RuntimeError("no free join code after 20 tries")  # pragma: no cover - 6e9 codes

    async def lookup(self, text: str, address: str) -> V.Visit:
        """The visit with join code ``text``; :class:`VisitRefused` (404, 429) otherwise, counting failures."""
        backend = await self.backend()
        if await backend.failures(address) >= FAIL_LIMIT:
            raise V.VisitRefused(4429, "too_many_attempts", "too many failed attempts; wait a minute")
        code = V.normalise_code(text)
        visit = await backend.get(code) if code else None
        if visit is None:
            await backend.fail(address, FAIL_WINDOW)
            raise V.VisitRefused(4404, "unknown_code", "no visit with this code (it may have ended)")
        return visit

    # -- connections --------------------------------------------------------------------------------------

    async def connect(
        self,
        text: str,
        address: str,
        name: str = "",
        role: str = "guest",
        host_key: str | None = None,
        resume: str | None = None,
    ) -> tuple[Session, str]:
        """Admit a connection to the visit with code ``text``; returns the session and its welcome message."""
        visit = await self.lookup(text, address)
        backend = await self.backend()
        # Join the hub first so nothing published from here on is missed; the welcome is sent before it.
        client = self.hub.join(visit.code)
        token = secrets.token_urlsafe(18)

        def admit(v: V.Visit) -> tuple[V.Person, V.Visit]:
            person = V.admit(v, name, role, host_key, resume, self.max_people)
            person.resume = V.digest(token)
            return person, v

        try:
            person, visit = await backend.update(visit.code, admit)
        except V.VisitRefused as exc:
            self.hub.leave(client)
            if exc.reason in ("bad_host_key", "bad_resume"):
                await backend.fail(address, FAIL_WINDOW)
            raise
        except VisitGone:
            self.hub.leave(client)
            raise V.VisitRefused(4404, "unknown_code", "no visit with this code (it may have ended)") from None
        client.tag = person.id
        session = Session(visit.code, person.id, person.role, client)
        self._sessions[client.id] = session
        here = {p.id for p in visit.people.values()}
        poses = {pid: json.loads(f) for pid, f in self._poses.get(visit.code, {}).items() if pid in here}
        welcome = P.encode(
            "welcome",
            you=person.id,
            role=person.role,
            name=person.name,
            colour=person.colour,
            resume=token,
            state=visit.state(),
            people=visit.roster(),
            poses=poses,
        )
        await backend.publish(visit.code, "k", person.id, session.conn)
        await backend.publish(visit.code, "q", person.id, P.encode("joined", person=person.public()))
        return session, welcome

    async def disconnect(self, session: Session) -> None:
        """The connection is gone: the person is away, and let go if not back within the grace period."""
        self.hub.leave(session.client)
        self._sessions.pop(session.client.id, None)
        if session.code not in self.hub.rooms:
            self._poses.pop(session.code, None)
        if session.left or session.close_code == 4409:
            return
        backend = await self.backend()
        try:
            here = await backend.update(session.code, lambda v: V.set_online(v, session.person, False))
        except VisitGone:
            return
        if here:
            await backend.publish(session.code, "q", session.person, P.encode("away", id=session.person))
            task = asyncio.create_task(self._expire(session.code, session.person))
            self._timers.add(task)
            task.add_done_callback(self._timers.discard)

    async def _expire(self, code: str, pid: str) -> None:
        await asyncio.sleep(self.grace)
        with contextlib.suppress(VisitGone):
            await self._depart(code, pid, only_if_away=True)

    async def _depart(self, code: str, pid: str, only_if_away: bool = False) -> None:
        backend = await self.backend()

        def go(v: V.Visit) -> tuple[str | None, dict[str, Any]]:
            return V.depart(v, pid, only_if_away), v.state()

        outcome, state = await backend.update(code, go)
        if outcome is None:
            return
        await backend.publish(code, "q", pid, P.encode("left", id=pid))
        if outcome == "host":
            await backend.publish(code, "a", pid, P.encode("host", id=state["host"], state=state))
        elif outcome == "ended":
            await backend.publish(code, "e", pid, P.encode("end", reason="the host left"))

    # -- messages -----------------------------------------------------------------------------------------

    async def receive(self, session: Session, text: str | bytes) -> None:
        """Check and act on one message from ``session``; bad ones get an ``error`` back."""
        if not session._allow():
            session.over_rate += 1
            if session.over_rate > MAX_OVER_RATE:
                self._close(session, 4429, P.error("flood", "too many messages; closing this connection"))
            elif time.monotonic() - session.notified > 1.0:
                session.notified = time.monotonic()
                self._reply(session, P.error("rate_limited", f"at most {RATE:g} messages a second; dropped"))
            return
        try:
            msg = P.parse(text)
            await self._act(session, msg)
        except P.ProtocolError as exc:
            session.invalid += 1
            if session.invalid > MAX_INVALID:
                self._close(session, 4400, P.error("invalid", "too many invalid messages; closing"))
            else:
                self._reply(session, P.error(exc.code, exc.detail))
        except VisitGone:
            self._close(session, 1000, P.encode("end", reason="the visit has ended"))

    async def _act(self, session: Session, msg: dict[str, Any]) -> None:
        backend = await self.backend()
        kind, code, pid = msg["t"], session.code, session.person
        if kind == "pose":
            if session.role == "spectator":
                raise P.ProtocolError("forbidden", "spectators have no avatar to move")
            await backend.publish(code, "p", pid, P.pose_fragment(msg))
        elif kind == "ping":
            self._reply(session, P.encode("pong", at=time.time()))
        elif kind == "leave":
            session.left = True
            await self._depart(code, pid)
            self._close(session, 1000, None)
        elif kind == "gather":
            visit = await backend.get(code)
            if visit is None:
                raise VisitGone(code)
            V.check_host(visit, pid)
            await backend.publish(code, "q", pid, P.encode("gather", at=msg["at"], yaw=msg["yaw"], by=pid))
        elif kind == "pointer":
            at = await backend.update(code, lambda v: V.set_pointer(v, pid, msg["at"]))
            await backend.publish(code, "q", pid, P.encode("pointer", at=at, by=pid))
        elif kind == "state":
            state = await backend.update(code, lambda v: V.apply_state(v, pid, msg))
            await backend.publish(code, "a", pid, P.encode("state", state=state))
        elif kind == "handover":
            state = await backend.update(code, lambda v: V.hand_over(v, pid, msg["to"]))
            await backend.publish(code, "a", pid, P.encode("host", id=state["host"], state=state))
        elif kind == "end":
            await backend.update(code, lambda v: V.end(v, pid))
            await backend.publish(code, "e", pid, P.encode("end", reason="the host ended the visit"))

    def _reply(self, session: Session, text: str) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            session.client._put(text)

    def _close(self, session: Session, close_code: int, last: str | None) -> None:
        session.close_code = close_code
        if last is not None:
            self._reply(session, last)
        try:
            session.client._put(END)
        except asyncio.QueueFull:
            self.hub.leave(session.client, "closed")

    # -- delivery from the backend ------------------------------------------------------------------------

    def deliver(self, code: str, kind: str, origin: str, payload: str) -> None:
        """Hand a published message to this process's people in visit ``code``."""
        if code not in self.hub.rooms:
            return
        if kind == "p":
            self._poses.setdefault(code, {})[origin] = payload
            self.hub.supersede(code, origin, payload, skip=origin)
        elif kind == "q":
            self.hub.broadcast(None, payload, room=code, skip=origin)
        elif kind == "a":
            self.hub.broadcast(None, payload, room=code)
        elif kind == "e":
            self.hub.broadcast(None, payload, room=code)
            for client in self.hub.members(code):
                session = self._sessions.get(client.id)
                if session is not None:
                    session.left = True
                    self._close(session, 1000, None)
        elif kind == "k":
            for client in self.hub.members(code):
                session = self._sessions.get(client.id)
                if client.tag == origin and session is not None and session.conn != payload:
                    session.close_code = 4409
                    self.hub.leave(client, "replaced by a newer connection")
