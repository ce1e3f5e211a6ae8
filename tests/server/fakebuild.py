"""A stand-in for twin.build.build_scene with the same signature, for the worker tests.

Its behaviour comes from ``fake.json`` beside the scene's manifest: ``{"steps": n, "delay": s, "fail": bool,
"segfault": bool}`` (``segfault``: die by SIGSEGV while "reading" the sources, as a crashing native reader would).
It writes a blob first, then sleeps through its steps (polling ``cancel``), then writes the whole folder.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from buildfolder import box_glb, make_build

from twin.errors import BuildError


def build_scene(
    scene: Any,
    out: Path,
    *,
    blob_dir: Path | None = None,
    jobs: int | None = None,
    progress: Callable[[str, float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    previous: Path | None = None,
) -> Any:
    """Pretend to build ``scene`` into ``out`` slowly."""
    conf_path = Path(scene.root) / "fake.json"
    conf = json.loads(conf_path.read_text()) if conf_path.exists() else {}
    steps, delay = int(conf.get("steps", 2)), float(conf.get("delay", 0.0))
    progress = progress or (lambda stage, f: None)
    out = Path(out)
    (out / "blobs").mkdir(parents=True, exist_ok=True)
    (out / "blobs" / "partial.glb").write_bytes(box_glb(3.0))
    if conf.get("segfault"):
        progress("read", 0.5)
        os.kill(os.getpid(), signal.SIGSEGV)
    for i in range(steps):
        progress("encode", i / steps)
        if cancel is not None and cancel():
            raise BuildError("build cancelled")
        time.sleep(delay / max(steps, 1))
    if conf.get("fail"):
        raise BuildError("the fake builder was told to fail")
    progress("write", 1.0)
    make_build(out, label=f"built-{len(scene.variants)}")
    return None
