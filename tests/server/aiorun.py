"""Run a coroutine to completion from a test, whatever event loop the test process already has running.

The browser tests' Playwright (sync API) keeps an event loop running in the main thread for the whole
session, and ``asyncio.run`` refuses to start inside one; a fresh thread has no loop, so it runs there.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)`` in a thread of its own; its result is returned and its exception re-raised here."""
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:  # re-raised in the test's thread below
            error.append(exc)

    thread = threading.Thread(target=target, name="aiorun")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]
