"""Token buckets in memory: at most ``rate`` events per second per key, in bursts of up to ``burst``.

Per process, so with several workers each allows its own share; that is enough to stop a flood from one
browser or at one scene, which is all it is for (nothing about a device is kept beyond its salted hash).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    """``burst`` events at once, refilled at ``per_minute`` events a minute."""

    per_minute: float
    burst: float


class Buckets:
    """One bucket per key (a device hash, a scene); the least recently used keys beyond ``max_keys`` go."""

    def __init__(self, rate: Rate, max_keys: int = 100_000) -> None:
        self.rate, self.max_keys = rate, max_keys
        self._levels: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """Spend one token of ``key``; returns 0 if allowed, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
        per_second = self.rate.per_minute / 60.0
        with self._lock:
            level, last = self._levels.pop(key, (self.rate.burst, now))
            level = min(self.rate.burst, level + (now - last) * per_second)
            wait = 0.0
            if level >= 1.0:
                level -= 1.0
            else:
                wait = (1.0 - level) / per_second if per_second > 0 else float("inf")
            self._levels[key] = (level, now)
            while len(self._levels) > self.max_keys:
                self._levels.popitem(last=False)
            return wait
