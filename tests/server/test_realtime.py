"""The in-process real-time hub: rooms, broadcast to the others, slow clients dropped instead of waited for."""

from __future__ import annotations

import asyncio

import aiorun
import pytest

from server.realtime.hub import Hub, Latest


def test_broadcast_reaches_the_others_in_the_room_only() -> None:
    async def main() -> None:
        hub = Hub()
        guide, a, b = hub.join("visit-1"), hub.join("visit-1"), hub.join("visit-1")
        elsewhere = hub.join("visit-2")
        assert hub.broadcast(guide, {"goto": [1, 2]}) == 2
        assert await a.receive() == {"goto": [1, 2]}
        assert await b.receive() == {"goto": [1, 2]}
        assert guide.queue.empty() and elsewhere.queue.empty()
        assert hub.broadcast(None, "hello", room="visit-2") == 1
        assert await elsewhere.receive() == "hello"

    aiorun.run(main())


def test_leave_ends_receive_and_forgets_empty_rooms() -> None:
    async def main() -> None:
        hub = Hub()
        a, b = hub.join("r"), hub.join("r")
        waiting = asyncio.create_task(b.receive())
        await asyncio.sleep(0)
        hub.leave(b)
        assert await asyncio.wait_for(waiting, 1) is None
        assert hub.members("r") == [a]
        hub.leave(a)
        hub.leave(a)  # twice is harmless
        assert "r" not in hub.rooms
        assert hub.broadcast(None, "nobody", room="r") == 0

    aiorun.run(main())


def test_a_slow_client_is_dropped_and_the_room_goes_on() -> None:
    async def main() -> None:
        hub = Hub(queue_size=3)
        guide, fast, slow = hub.join("r"), hub.join("r"), hub.join("r")
        got = []
        for i in range(10):
            hub.broadcast(guide, i)
            got.append(await fast.receive())  # the fast client keeps up
        assert got == list(range(10))
        assert slow.dropped and "3 messages" in slow.reason
        assert slow not in hub.members("r") and fast in hub.members("r")
        assert await slow.receive() is None
        # a broadcast to a room with a dropped client never blocked: this ran without awaiting anyone

    aiorun.run(main())


def test_queue_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Hub(queue_size=0)


def test_superseding_values_arrive_latest_only_and_at_most_once_per_interval() -> None:
    async def main() -> None:
        hub = Hub(interval=0.05)
        guide, viewer = hub.join("r", tag="guide"), hub.join("r", tag="viewer")
        for i in range(10):
            assert hub.supersede("r", "guide", i, skip="guide") == 1
        assert guide.latest == {}
        first = await viewer.receive()
        assert isinstance(first, Latest) and first.values == {"guide": 9}
        hub.supersede("r", "guide", 10, skip="guide")
        hub.broadcast(guide, "state")  # queued messages are not held back by the interval
        loop = asyncio.get_running_loop()
        start = loop.time()
        assert await viewer.receive() == "state"
        again = await viewer.receive()
        assert isinstance(again, Latest) and again.values == {"guide": 10}
        assert loop.time() - start >= 0.04

    aiorun.run(main())
