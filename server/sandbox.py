"""Run a file reader in a fresh, short-lived child process with limits on memory, CPU time and wall time.

Native readers (ifcopenshell, DracoPy, lxml, pyosmium, trimesh's loaders) can crash, hang or allocate without
bound on hostile input, and no Python ``try`` catches a segfault. :func:`run` calls a function by import path
(``module:function``) in ``python -m server.sandbox``: the child sets ``RLIMIT_AS`` and ``RLIMIT_CPU`` on
itself before importing anything, reads its call as JSON on stdin and answers JSON on a pipe of its own
(stdout goes to stderr there, so a chatty library cannot corrupt the answer). The parent kills the child's
process group after the wall-clock limit. Death by a signal, a timeout or running out of memory becomes a
:class:`SandboxError` subclass naming the file; an error the function raises on purpose comes back as the
same :mod:`twin.errors` / :mod:`server.errors` class. Nothing the child sends is unpickled: a reader that a
hostile file takes over gets no way into the server.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import logging
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin.errors import TwinError

log = logging.getLogger(__name__)

_ROOT = Path(__file__).resolve().parent.parent
#: Modules whose TwinError subclasses a child may name in its answer.
_ERROR_MODULES = ("twin.errors", "server.errors")
#: A child that dies by a signal after using this share of its memory limit is reported as out of memory.
OOM_FRACTION = 0.9
#: Environment for the child: one thread per native library and few malloc arenas keep the address space
#: (what RLIMIT_AS counts) close to what the reader really uses.
_CHILD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}


class SandboxError(TwinError):
    """A file reader run in a child process crashed, ran too long or ran out of memory on an input."""


class ReaderCrashed(SandboxError):
    """The reader's process died by a signal (a segfault, an abort) while reading a file."""


class ReaderTimeout(SandboxError):
    """The reader took longer than its wall-clock or CPU-time limit."""


class ReaderOutOfMemory(SandboxError):
    """The reader needed more memory than its limit."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What one child may use: bytes of address space, seconds of CPU, seconds of wall time, children at once."""

    memory_bytes: int = 4 * 1024**3
    cpu_seconds: int = 120
    wall_seconds: float = 180.0
    concurrency: int = 2


@functools.cache
def _slots(n: int) -> threading.BoundedSemaphore:
    # Process-wide: however many requests arrive, at most ``n`` readers run (and use memory) at once.
    return threading.BoundedSemaphore(max(1, n))


def signal_name(number: int) -> str:
    """``SIGSEGV`` for 11, and so on."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def run(
    target: str, *args: Any, limits: Limits, label: str, reader: str = "file reader", preload: tuple[str, ...] = ()
) -> Any:
    """Call ``target`` (``module:function``) with JSON-able ``args`` in a sandboxed child; returns its result.

    ``label`` names the file in errors (the planner's file name, never a server path); ``reader`` names what
    read it ("IFC reader"). Raises :class:`ReaderCrashed`, :class:`ReaderTimeout`, :class:`ReaderOutOfMemory`,
    or the TwinError the function raised. ``preload`` names modules the child imports before it measures
    its own size (the reader's libraries), so a crash at the memory limit can be told from another crash.
    """
    call = json.dumps(
        {
            "target": target,
            "args": list(args),
            "preload": list(preload),
            "memory": limits.memory_bytes,
            "cpu": limits.cpu_seconds,
        }
    )
    with _slots(limits.concurrency), _answer_pipe() as (read_fd, write_fd), tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server.sandbox", str(write_fd)],
            stdin=subprocess.PIPE,
            stdout=err,
            stderr=err,
            pass_fds=(write_fd,),
            start_new_session=True,  # its own process group: a kill takes whatever it started too
            cwd=_ROOT,
            env={**os.environ, **_CHILD_ENV},
        )
        os.close(write_fd)
        raw, peak = _talk(proc, call.encode(), read_fd, limits.wall_seconds)
        if raw is None:
            _kill(proc)  # before the pipe closes: the reading thread ends on EOF, not on a reused fd
            raise ReaderTimeout(f"{label}: the {reader} took longer than {limits.wall_seconds:g} s on this file")
        err.seek(0)
        tail = err.read()[-2000:].decode("utf-8", "replace").strip()
    code = proc.returncode
    size, _, answer = raw.partition(b"\n")
    if code == -signal.SIGXCPU:
        raise ReaderTimeout(f"{label}: the {reader} took longer than {limits.cpu_seconds} s of CPU time on this file")
    if code < 0 and _near_limit(size, peak, limits.memory_bytes):
        # Native readers rarely fail cleanly at the memory limit: most crash when an allocation returns NULL.
        raise ReaderOutOfMemory(
            f"{label}: the {reader} needed more than {limits.memory_bytes // 2**20} MiB of memory on this file "
            f"(it crashed with {signal_name(-code)} at the limit)"
        )
    if code < 0:
        raise ReaderCrashed(f"{label}: the {reader} crashed ({signal_name(-code)}) on this file")
    try:
        doc = json.loads(answer)
    except ValueError:
        log.warning("sandboxed %s exited with %s without an answer: %s", target, code, tail)
        raise ReaderCrashed(f"{label}: the {reader} stopped without an answer (exit status {code})") from None
    if "result" in doc:
        return doc["result"]
    raise _error(doc.get("error") or {}, label, reader, limits)


@contextlib.contextmanager
def _answer_pipe() -> Iterator[tuple[int, int]]:
    read_fd, write_fd = os.pipe()
    try:
        yield read_fd, write_fd
    finally:
        os.close(read_fd)
        with contextlib.suppress(OSError):
            os.close(write_fd)  # already closed once the child has it


def _talk(proc: subprocess.Popen[bytes], call: bytes, read_fd: int, wall: float) -> tuple[bytes | None, int]:
    """Send the call, read the answer until EOF, wait for the exit; returns (answer, peak resident bytes).

    The answer is None when the wall clock ran out.
    """
    deadline = time.monotonic() + wall
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.write(call)
        proc.stdin.close()
    chunks: list[bytes] = []
    reader = threading.Thread(target=_read_all, args=(read_fd, chunks), daemon=True)
    reader.start()
    reader.join(max(0.0, deadline - time.monotonic()))
    if reader.is_alive():
        return None, 0
    # wait4 rather than Popen.wait: its resource usage tells a crash at the memory limit from another crash.
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return b"".join(chunks), usage.ru_maxrss * 1024
        if time.monotonic() > deadline:
            return None, 0
        time.sleep(0.005)


def _near_limit(size: bytes, peak_rss: int, limit: int) -> bool:
    """True if a child's address space at its peak was close to ``limit``.

    The parent sees only the peak resident size; the child's first line gives its address space and resident
    size once its libraries were loaded, and their difference (mapped but never touched) is added back.
    """
    try:
        start = json.loads(size)
        unresident = int(start["vm"]) - int(start["rss"])
    except (ValueError, KeyError, TypeError):
        unresident = 0
    return peak_rss + unresident >= OOM_FRACTION * limit


def _read_all(fd: int, chunks: list[bytes]) -> None:
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _error(err: dict[str, Any], label: str, reader: str, limits: Limits) -> TwinError:
    kind, message = str(err.get("type", "")), str(err.get("message", ""))
    if kind == "MemoryError":
        mib = limits.memory_bytes // 2**20
        return ReaderOutOfMemory(f"{label}: the {reader} needed more than {mib} MiB of memory on this file")
    module, _, name = kind.rpartition(".")
    if module in _ERROR_MODULES:
        cls = getattr(importlib.import_module(module), name, None)
        if isinstance(cls, type) and issubclass(cls, TwinError):
            return cls(message)
    return SandboxError(f"{label}: the {reader} failed: {message}")


# --- the child ---------------------------------------------------------------------------------------------


def _child(answer_fd: int) -> int:
    call = json.loads(sys.stdin.read())
    memory, cpu = int(call["memory"]), int(call["cpu"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # The soft limit raises SIGXCPU (default action: die), the hard one a second later SIGKILL.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash writes no core file
    out = os.fdopen(answer_fd, "w", encoding="utf-8")
    os.dup2(2, 1)  # anything printed goes to stderr, never into the answer
    try:
        module, _, func = str(call["target"]).partition(":")
        target = getattr(importlib.import_module(module), func)
        for name in call.get("preload", ()):
            importlib.import_module(name)
        out.write(json.dumps(_own_size()) + "\n")
        out.flush()
        result = target(*call["args"])
        answer: dict[str, Any] = {"result": result}
    except MemoryError:
        answer = {"error": {"type": "MemoryError", "message": "out of memory"}}
    except Exception as exc:
        cls = type(exc)
        answer = {"error": {"type": f"{cls.__module__}.{cls.__qualname__}", "message": str(exc)}}
    out.write(json.dumps(answer))
    out.close()
    return 0


def _own_size() -> dict[str, int]:
    # /proc/self/statm: sizes in pages, total program size first, resident second.
    try:
        vm, rss = (int(x) * resource.getpagesize() for x in Path("/proc/self/statm").read_text().split()[:2])
    except (OSError, ValueError):
        return {}
    return {"vm": vm, "rss": rss}


if __name__ == "__main__":
    sys.exit(_child(int(sys.argv[1])))
