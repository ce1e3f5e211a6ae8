"""Run one reader call on one fuzzed input in a forked child and judge the outcome (issue 14).

A reader may only end in one of two ways on hostile input: it returns (bad features go into its report), or
it raises a :class:`twin.errors.TwinError` naming the problem. Everything else is a *finding*: another
exception (RecursionError, IndexError, struct.error, ...), a crash of native code (a signal), running out of
memory, or running longer than :data:`TIME_LIMIT`. The call runs in a forked child, so a segfault or a
runaway parse is stopped and reported instead of taking the test process with it; forking keeps the
already-imported readers, so one call costs milliseconds.

Every finding's input is written to :func:`findings_dir` (``$TWIN_FUZZ_FINDINGS``), ready to be committed under
tests/fixtures/fuzz/ as a regression test.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import select
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin.errors import TwinError

#: Seconds one reader call may take on one fuzzed input (the seeds take well under one).
TIME_LIMIT = float(os.environ.get("TWIN_FUZZ_TIME_LIMIT", "20"))
#: The recursion limit a reader runs under: CPython's default, as in the server and the CLI.
RECURSION_LIMIT = 1000
#: Bytes of address space one call may add to what the test process already maps.
MEMORY_LIMIT = 2 * 1024**3


@dataclass(frozen=True)
class Outcome:
    """How a call ended: ``ok``, ``error`` (a TwinError), ``exception``, ``crash``, ``timeout`` or ``oom``."""

    kind: str
    type: str = ""
    message: str = ""
    trace: str = ""

    @property
    def finding(self) -> bool:
        """True when the reader did not end in one of the two allowed ways."""
        return self.kind not in ("ok", "error")


def findings_dir() -> Path:
    """Where the inputs of findings are kept (``$TWIN_FUZZ_FINDINGS``, else a folder in the temp dir)."""
    folder = Path(os.environ.get("TWIN_FUZZ_FINDINGS") or Path(tempfile.gettempdir()) / "twin-fuzz-findings")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _address_space() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


def _child(call: Callable[[], Any], write_fd: int) -> None:
    """Run ``call`` and write its outcome as JSON (in the forked child; never returns)."""
    code = 0
    try:
        limit = _address_space() + MEMORY_LIMIT
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        # Hypothesis raises the recursion limit while a test runs; readers must hold at the default.
        sys.setrecursionlimit(RECURSION_LIMIT)
        try:
            call()
            answer = {"kind": "ok"}
        except TwinError as exc:
            answer = {"kind": "error", "type": type(exc).__name__, "message": str(exc)[:2000]}
        except MemoryError:
            answer = {"kind": "oom", "type": "MemoryError", "trace": traceback.format_exc()[-4000:]}
        except BaseException as exc:  # the finding: anything else that escapes the reader
            answer = {
                "kind": "exception",
                "type": type(exc).__name__,
                "message": str(exc)[:2000],
                "trace": traceback.format_exc()[-6000:],
            }
        with os.fdopen(write_fd, "w") as f:
            json.dump(answer, f)
    except BaseException:
        code = 3
    finally:
        os._exit(code)


def run_isolated(call: Callable[[], Any], time_limit: float = TIME_LIMIT) -> Outcome:
    """The outcome of ``call()`` run in a forked child with a memory and a wall-clock limit."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        os.close(read_fd)
        _child(call, write_fd)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + time_limit
    timed_out = False
    with os.fdopen(read_fd, "rb") as pipe:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([pipe], [], [], left)
            if not ready:
                continue
            chunk = os.read(pipe.fileno(), 65536)
            if not chunk:
                break
            chunks.append(chunk)
    if timed_out:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if timed_out:
        return Outcome("timeout", message=f"still running after {time_limit:g} s")
    if os.WIFSIGNALED(status):
        return Outcome("crash", type=signal.Signals(os.WTERMSIG(status)).name)
    try:
        doc = json.loads(b"".join(chunks))
    except ValueError:
        return Outcome("crash", message=f"no answer (exit status {os.WEXITSTATUS(status)})")
    return Outcome(doc["kind"], doc.get("type", ""), doc.get("message", ""), doc.get("trace", ""))


def check_reader(
    name: str,
    call: Callable[[Path], Any],
    data: bytes,
    suffix: str,
    *,
    allow: tuple[str, ...] = (),
    beside: Mapping[str, bytes] | None = None,
    named: bool = True,
) -> Outcome:
    """Write ``data`` to a file named ``*suffix``, run ``call(path)`` isolated, fail the test on a finding.

    allow : finding kinds this target tolerates (the upload path runs design readers in
        :mod:`server.sandbox`, which turns a crash, a timeout or running out of memory into a 422); their
        inputs are kept too, under ``<findings>/<name>/sandboxed/``
    beside : other files written next to it (an OBJ's MTL and texture)
    named : the error message of a TwinError must name the file, so a user can tell what was wrong with what
    """
    digest = hashlib.sha256(data).hexdigest()[:16]
    with tempfile.TemporaryDirectory(prefix="twin-fuzz-") as tmp:
        path = Path(tmp) / f"fuzz-{digest}{suffix}"
        path.write_bytes(data)
        for other, content in (beside or {}).items():
            (Path(tmp) / other).write_bytes(content)
        outcome = run_isolated(lambda: call(path))
    names = (path.name, path.stem, *(beside or {}))  # an error in the MTL may name the MTL
    if named and outcome.kind == "error" and not any(n in outcome.message for n in names):
        outcome = Outcome("unnamed", outcome.type, outcome.message)
    if outcome.finding:
        kept = findings_dir() / name / ("sandboxed" if outcome.kind in allow else "") / f"{digest}{suffix}"
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_bytes(data)
        for other, content in (beside or {}).items():
            kept.with_name(f"{digest}.{other}").write_bytes(content)
    if outcome.finding and outcome.kind not in allow:
        raise AssertionError(
            f"{name}: {outcome.kind} {outcome.type}: {outcome.message[:500]}\ninput kept at {kept}\n{outcome.trace}"
        )
    return outcome
