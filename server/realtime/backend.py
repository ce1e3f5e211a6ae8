"""Where visits live and how their messages travel: the interface, and the in-process backend (the default).

A backend stores :class:`~server.realtime.visits.Visit` objects, runs a transition on one atomically
(:meth:`Backend.update`), counts failed join attempts, and publishes messages to every server process that
has people in a visit. The in-process backend does all of that in this process's memory; with
``TWIN_REDIS_URL`` set, :class:`server.realtime.redis.RedisBackend` does it through Redis so that several
workers or machines share visits.

A published message is ``(kind, origin, payload)``: ``kind`` says how it is delivered (see
:mod:`server.realtime.service`), ``origin`` is the person it came from, ``payload`` the encoded text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from server.realtime.visits import Visit

T = TypeVar("T")
Deliver = Callable[[str, str, str, str], None]


class VisitGone(LookupError):
    """The visit is not (or no longer) in the store."""


class Backend(Protocol):
    """What :class:`~server.realtime.service.VisitService` needs from a store and a message bus."""

    async def create(self, visit: Visit) -> bool:
        """Store a new visit; False if its code is taken."""
        ...

    async def get(self, code: str) -> Visit | None:
        """The visit with ``code``, or None."""
        ...

    async def update(self, code: str, change: Callable[[Visit], T]) -> T:
        """Run ``change`` on the stored visit and store the result atomically; :class:`VisitGone` if missing.

        If ``change`` raises, nothing is stored. An ended visit is deleted.
        """
        ...

    async def failures(self, key: str) -> int:
        """Failed attempts counted under ``key`` in the current window."""
        ...

    async def fail(self, key: str, window: float) -> int:
        """Count one failed attempt under ``key`` (the count expires ``window`` seconds after the first)."""
        ...

    async def publish(self, code: str, kind: str, origin: str, payload: str) -> None:
        """Send a message to every process with people in visit ``code`` (this one included)."""
        ...

    async def start(self, deliver: Deliver) -> None:
        """Start delivering published messages to ``deliver(code, kind, origin, payload)``."""
        ...

    async def close(self) -> None:
        """Stop delivering and let go of connections."""
        ...


class LocalBackend:
    """Visits in this process's memory; publishing calls the deliver function directly."""

    def __init__(self) -> None:
        self.visits: dict[str, Visit] = {}
        self._failures: dict[str, tuple[int, float]] = {}
        self._deliver: Deliver | None = None

    async def create(self, visit: Visit) -> bool:
        if visit.code in self.visits:
            return False
        self.visits[visit.code] = visit
        return True

    async def get(self, code: str) -> Visit | None:
        return self.visits.get(code)

    async def update(self, code: str, change: Callable[[Visit], T]) -> T:
        visit = self.visits.get(code)
        if visit is None:
            raise VisitGone(code)
        # Work on a copy so that a change that raises half-way leaves nothing behind (as in Redis).
        copy = Visit.from_dict(visit.to_dict())
        result = change(copy)
        if copy.ended:
            self.visits.pop(code, None)
        else:
            self.visits[code] = copy
        return result

    async def failures(self, key: str) -> int:
        count, until = self._failures.get(key, (0, 0.0))
        return count if until > time.monotonic() else 0

    async def fail(self, key: str, window: float) -> int:
        now = time.monotonic()
        if len(self._failures) > 10_000:  # forget expired counters now and then
            self._failures = {k: v for k, v in self._failures.items() if v[1] > now}
        count, until = self._failures.get(key, (0, 0.0))
        if until <= now:
            count, until = 0, now + window
        self._failures[key] = (count + 1, until)
        return count + 1

    async def publish(self, code: str, kind: str, origin: str, payload: str) -> None:
        if self._deliver is not None:
            self._deliver(code, kind, origin, payload)

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def close(self) -> None:
        self._deliver = None
