"""An in-process hub of rooms: clients join a room by id and receive what the others in it broadcast.

Each client has a bounded send queue. A broadcast only puts messages into the other clients' queues (never
waits on a socket), and a client whose queue is full is dropped from the room: one slow viewer never
stalls a visit. Messages that supersede each other (poses) go through :meth:`Hub.supersede` instead: each
client keeps only the latest value per key, and :meth:`Client.receive` hands them over together as one
:class:`Latest` once the queue is empty, so a busy client gets fewer, fresher poses instead of a backlog.
Whatever carries the messages (a WebSocket handler) reads :meth:`Client.receive` and closes the connection
once :attr:`Client.dropped` is set. The hub lives in one event loop of one process.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

#: Messages a client may have waiting before it counts as too slow and is dropped.
DEFAULT_QUEUE = 64

_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Latest:
    """Superseding values waiting for a client, key → latest value (e.g. person id → pose)."""

    values: dict[str, Any]


@dataclass(eq=False)
class Client:
    """One member of a room: its id, an optional tag (who it is), its send queue, and whether it was let go."""

    room: str
    id: int
    queue: asyncio.Queue[Any]
    tag: str = ""
    dropped: bool = False
    reason: str = ""
    latest: dict[str, Any] = field(default_factory=dict)
    interval: float = 0.0
    _hold: float = 0.0
    _closed: asyncio.Event = field(default_factory=asyncio.Event)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    async def receive(self) -> Any | None:
        """The next queued message, else the waiting :class:`Latest` values; None once dropped or gone.

        :class:`Latest` comes at most once per :attr:`interval` seconds: values arriving in between are
        gathered (and superseded) into the next one, so a receiver gets poses at a steady rate whatever the
        number of senders, while queued messages are never held back.
        """
        loop = asyncio.get_running_loop()
        while not self._closed.is_set():
            if not self.queue.empty():
                return self.queue.get_nowait()
            wait: float | None = None
            if self.latest:
                wait = self._hold - loop.time()
                if wait <= 0:
                    values, self.latest = self.latest, {}
                    self._hold = loop.time() + self.interval
                    return Latest(values)
            self._wake.clear()
            wake = asyncio.ensure_future(self._wake.wait())
            closed = asyncio.ensure_future(self._closed.wait())
            await asyncio.wait({wake, closed}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            wake.cancel()
            closed.cancel()
        return None

    def _put(self, message: Any) -> None:
        self.queue.put_nowait(message)
        self._wake.set()

    def _close(self, reason: str) -> None:
        self.reason = self.reason or reason
        self._closed.set()


class Hub:
    """Rooms keyed by id; :meth:`join`, :meth:`leave` and :meth:`broadcast` never block."""

    def __init__(self, queue_size: int = DEFAULT_QUEUE, interval: float = 0.0) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.queue_size = queue_size
        #: Least time between two :class:`Latest` deliveries to one client, seconds.
        self.interval = interval
        self.rooms: dict[str, set[Client]] = {}

    def join(self, room: str, tag: str = "") -> Client:
        """A new client in ``room`` (the room is made on first join), tagged ``tag``."""
        client = Client(room, next(_ids), asyncio.Queue(self.queue_size), tag, interval=self.interval)
        self.rooms.setdefault(room, set()).add(client)
        return client

    def leave(self, client: Client, reason: str = "left") -> None:
        """Take ``client`` out of its room (an empty room is forgotten); leaving twice is harmless."""
        members = self.rooms.get(client.room)
        if members is not None:
            members.discard(client)
            if not members:
                del self.rooms[client.room]
        client._close(reason)

    def members(self, room: str) -> list[Client]:
        """The clients in ``room``, by id."""
        return sorted(self.rooms.get(room, ()), key=lambda c: c.id)

    def broadcast(self, sender: Client | None, message: Any, room: str | None = None, skip: str = "") -> int:
        """Queue ``message`` for everyone in the sender's room (or ``room``) but the sender; returns how many.

        Clients tagged ``skip`` are left out too. A client whose queue is full is dropped from the room
        instead of being waited for.
        """
        target = room if room is not None else (sender.room if sender is not None else None)
        if target is None:
            raise ValueError("broadcast needs a sender or a room")
        sent = 0
        for client in self.members(target):
            if client is sender or (skip and client.tag == skip):
                continue
            try:
                client._put(message)
            except asyncio.QueueFull:
                client.dropped = True
                self.leave(client, f"dropped: more than {self.queue_size} messages waiting")
                continue
            sent += 1
        return sent

    def supersede(self, room: str, key: str, value: Any, skip: str = "") -> int:
        """Set ``key`` to ``value`` for everyone in ``room`` (but clients tagged ``skip``), replacing what
        they had not yet received under that key; never drops anyone. Returns how many."""
        sent = 0
        for client in self.rooms.get(room, ()):
            if skip and client.tag == skip:
                continue
            first = not client.latest
            client.latest[key] = value
            if first:  # a client already holding values is woken by its interval, not by every new value
                client._wake.set()
            sent += 1
        return sent
