"""Visits shared through Redis (``TWIN_REDIS_URL``): several workers or machines serve the same visits.

Each visit is one JSON value under ``twin:visit:<code>`` (expiring 12 hours after its last change), changed
with WATCH/MULTI so two processes never lose each other's changes. Messages go out with PUBLISH on
``twin:visits:<code>`` as ``kind|origin|payload``; every process listens to ``twin:visits:*`` and hands
each message to the people it holds in that visit. Failed join attempts are counted with INCR + EXPIRE,
so the limit holds across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import WatchError

from server.realtime.backend import Deliver, VisitGone
from server.realtime.visits import Visit

log = logging.getLogger(__name__)
T = TypeVar("T")
PREFIX = "twin:visit:"
CHANNEL = "twin:visits:"
TTL = 12 * 3600


class RedisBackend:
    """The :class:`~server.realtime.backend.Backend` over one Redis server."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.redis: Any = aioredis.from_url(url, decode_responses=True)
        self._reader: asyncio.Task[None] | None = None

    async def create(self, visit: Visit) -> bool:
        return bool(await self.redis.set(PREFIX + visit.code, json.dumps(visit.to_dict()), nx=True, ex=TTL))

    async def get(self, code: str) -> Visit | None:
        raw = await self.redis.get(PREFIX + code)
        return None if raw is None else Visit.from_dict(json.loads(raw))

    async def update(self, code: str, change: Callable[[Visit], T]) -> T:
        key = PREFIX + code
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    raw = await pipe.get(key)
                    if raw is None:
                        raise VisitGone(code)
                    visit = Visit.from_dict(json.loads(raw))
                    result = change(visit)
                    pipe.multi()
                    if visit.ended:
                        pipe.delete(key)
                    else:
                        pipe.set(key, json.dumps(visit.to_dict()), ex=TTL)
                    await pipe.execute()
                    return result
                except WatchError:
                    continue  # someone else changed the visit in between: run the change again on theirs

    async def failures(self, key: str) -> int:
        return int(await self.redis.get("twin:fail:" + key) or 0)

    async def fail(self, key: str, window: float) -> int:
        name = "twin:fail:" + key
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, max(1, round(window)), nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def publish(self, code: str, kind: str, origin: str, payload: str) -> None:
        await self.redis.publish(CHANNEL + code, f"{kind}|{origin}|{payload}")

    async def start(self, deliver: Deliver) -> None:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.psubscribe(CHANNEL + "*")
        self._reader = asyncio.create_task(self._read(pubsub, deliver))

    async def _read(self, pubsub: Any, deliver: Deliver) -> None:
        try:
            while True:
                try:
                    message = await pubsub.get_message(timeout=1.0)
                except RedisConnectionError as exc:  # redis-py reconnects and subscribes again on the next call
                    log.warning("lost the Redis subscription (%s); retrying", exc)
                    await asyncio.sleep(0.5)
                    continue
                if message is None or message.get("type") != "pmessage":
                    continue
                code = str(message["channel"])[len(CHANNEL) :]
                kind, origin, payload = str(message["data"]).split("|", 2)
                try:
                    deliver(code, kind, origin, payload)
                except Exception:  # one bad delivery must not stop every visit of this process
                    log.exception("delivering a visit message failed")
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None
        with contextlib.suppress(Exception):
            await self.redis.aclose()
