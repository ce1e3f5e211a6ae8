"""Run a command and measure its wall time and peak memory (sum of PSS over the process tree)."""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from dataclasses import dataclass

import psutil


@dataclass
class Measured:
    """Wall seconds, peak memory in MiB (proportional set size over the whole tree), exit code, output."""

    seconds: float
    peak_mib: float
    returncode: int
    output: str


def _tree_pss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        # PSS counts shared (copy-on-write) pages once across forked workers, unlike RSS.
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_full_info().pss
    return total


def run(cmd: list[str], env: dict[str, str] | None = None, interval: float = 0.25) -> Measured:
    """Run ``cmd`` to completion, sampling the memory of its process tree every ``interval`` seconds."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    ps = psutil.Process(proc.pid)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            try:
                peak = max(peak, _tree_pss(ps))
            except psutil.NoSuchProcess:
                return
            stop.wait(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    stop.set()
    thread.join()
    return Measured(time.perf_counter() - started, peak / 2**20, proc.returncode, out)
