"""Build jobs: one worker process per build, progress and log in the database, cancel by a flag.

The server inserts a ``queued`` row and starts ``python -m server.jobs <settings-json> <build>``. The worker
takes the scene's lock file (``fcntl.flock``; two builds of one scene run one after the other, and the lock
dies with its process), turns the manifest plus the planner's variants into a :class:`twin.scene.Scene`,
and calls the builder (``settings.builder``, ``twin.build:build_scene`` by default) writing into
``builds/<build>/``. The published pointer is never touched by a build: killing a worker at any moment
leaves the published version serving; :func:`reap` marks such builds failed and removes their folders.

Native readers can kill the process that runs them (a segfault in an IFC reader): before the builder runs,
every design of the build is checked in :mod:`server.sandbox`, so one bad design fails only its variant (the
build succeeds for the city and the other variants; its ``error`` and log, scene.json and report.json
``variants_failed`` name the variant, the design's file and why). The worker records which files it is
reading (the ``reading`` column), and the thread that waits for it turns a death by a signal into "the builder
crashed (SIGSEGV) while reading ...".
"""

from __future__ import annotations

import dataclasses
import fcntl
import importlib
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server import placements, sandbox
from server.settings import Settings
from server.storage import Database
from server.store import SceneStore
from server.uploads import check_sandboxed, reader_limits, sniff, upload_file
from twin.errors import Conflict, ManifestError, TwinError
from twin.store import write_json_atomic
from twin.variants import DesignFailed, design_file, failure, failure_message, variant_failure

log = logging.getLogger(__name__)

#: Builds whose worker this process watches (:func:`_watch`): their watcher records how they died, with the
#: signal and what they were reading, so :func:`reap` leaves them to it (it would say less, and could win the race
#: between the worker's end and the watcher's record).
_watched: set[str] = set()

#: Seconds between progress writes and cancel polls (the database is not a message bus).
PROGRESS_INTERVAL = 0.25
CANCEL_INTERVAL = 0.5


def start_build(settings: Settings, db: Database, scene: str) -> str:
    """Queue a build of ``scene`` and start its worker process; returns the build id."""
    reap(db, SceneStore(settings.data_dir))
    build = db.builds.create(scene)
    args = [sys.executable, "-m", "server.jobs", settings.model_dump_json(), build]
    proc = subprocess.Popen(
        args,
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parent.parent,
    )
    db.builds.update(build, pid=proc.pid)
    # Wait for the child in a thread so it never lingers as a zombie (which would look alive to reap()).
    _watched.add(build)
    threading.Thread(target=_watch, args=(proc, db, SceneStore(settings.data_dir), build), daemon=True).start()
    return build


def _watch(proc: subprocess.Popen[bytes], db: Database, store: SceneStore, build: str) -> None:
    """Wait for a build worker; one that died by a signal fails its build, naming what it was reading."""
    try:
        code = proc.wait()
        if code >= 0:
            return  # it recorded its own outcome (or reap() will, for an exit without one)
        row = db.builds.get(build)
        if row["state"] in ("queued", "running"):
            _fail_dead(db, store, row, crash_message(row, -code))
    except Exception:  # the watcher must never take the server down
        log.exception("recording the death of build worker %s failed", build)
    finally:
        _watched.discard(build)


def crash_message(row: dict[str, Any], signum: int) -> str:
    """What a planner reads when the worker of build ``row`` died by signal ``signum``."""
    where = f"while reading {row['reading']}" if row.get("reading") else f"during stage {row.get('stage') or 'start'}"
    return f"the builder crashed ({sandbox.signal_name(signum)}) {where}; the build worker stopped unexpectedly"


def _fail_dead(db: Database, store: SceneStore, row: dict[str, Any], error: str) -> None:
    # The partial folder goes first: once the build reads as failed, nothing of it is left.
    if store.published(row["scene"]) != row["id"]:
        shutil.rmtree(store.build_dir(row["scene"], row["id"]), ignore_errors=True)
    db.builds.append_log(row["id"], f"{error}; the published version is unchanged")
    db.builds.finish(row["id"], "failed", error)


def cancel_build(db: Database, scene: str, build: str) -> dict[str, Any]:
    """Ask a live build to stop; :class:`Conflict` if it has already finished."""
    row = db.builds.get(build, scene)
    if row["state"] not in ("queued", "running"):
        raise Conflict(f"build {build!r} is {row['state']}, nothing to cancel")
    db.builds.request_cancel(build)
    return db.builds.get(build)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap(db: Database, store: SceneStore, grace: float = 10.0) -> int:
    """Mark live builds whose worker is gone as failed and delete their partial folders; returns a count.

    A queued row without a pid older than ``grace`` seconds is a worker that never started.
    """
    n = 0
    for row in db.builds.live():
        if row["id"] in _watched or _alive(row["pid"]):
            continue
        if row["pid"] is None and time.time() - row["created"] < grace:
            continue
        _fail_dead(db, store, row, "the build worker stopped unexpectedly")
        n += 1
    return n


def scene_for_build(db: Database, data_dir: Path, scene_id: str) -> tuple[Any, list[dict[str, Any]]]:
    """The manifest's :class:`twin.scene.Scene` with the planner's variants from the database added.

    A database variant replaces a manifest variant of the same id; the others are kept. A variant with a
    placement that no longer reads (an anchor stored before today's checks, an upload gone) is left out and
    comes back as a failure record (:func:`twin.variants.failure`): it fails alone, not the build.
    """
    from twin.scene import VariantSpec, load_scene

    scene = load_scene(Path(db.scenes.get(scene_id)["manifest"]))
    mine, failed, rows = [], [], db.scenes.variants(scene_id)
    for v in rows:
        specs = []
        try:
            for d in v["designs"]:
                file = None
                try:
                    up = db.uploads.get(d["upload"])
                    file = up["filename"]
                    specs.append(placements.design_spec(upload_file(data_dir, up), d, file))
                except (TwinError, ValueError, KeyError, TypeError) as exc:
                    raise _Placement(d, file, exc) from exc
        except _Placement as bad:
            failed.append(failure(v["id"], v["title"], bad.reason, bad.design["id"], bad.design["title"], bad.file))
        else:
            removed = tuple(str(b) for b in v.get("removed") or ())
            mine.append(VariantSpec(id=v["id"], title=v["title"], designs=tuple(specs), removed=removed))
    ids = {v["id"] for v in rows}  # a failed one replaces its manifest variant all the same
    variants = tuple(v for v in scene.variants if v.id not in ids) + tuple(mine)
    return dataclasses.replace(scene, variants=variants), failed


class _Placement(Exception):
    """A stored placement that cannot become a DesignSpec (its variant fails)."""

    def __init__(self, design: dict[str, Any], file: str | None, exc: Exception) -> None:
        self.design, self.file = design, file
        self.reason = f"the placement cannot be read: {exc}"
        super().__init__(self.reason)


def check_designs(settings: Settings, db: Database, build: str, scene: Any) -> tuple[Any, list[dict[str, Any]]]:
    """Import every design of ``scene``'s variants in the sandbox; returns the scene without the failing variants.

    Uploads were checked when they arrived, but limits change, files go bad and manifest designs never were
    checked: a design that fails (or crashes) a reader fails its own variant with its name, never the worker
    somewhere inside the builder, and never the city. The failures come back as
    :func:`twin.variants.variant_failure` records.
    """
    limits = reader_limits(settings)
    kept, failed = [], []
    for variant in scene.variants:
        try:
            for spec in variant.designs:
                path = Path(spec.file)
                label = design_file(spec)
                db.builds.update(build, stage="check designs", reading=label)
                try:
                    check_sandboxed(path, sniff(path), settings.max_inflated_bytes, label, limits)
                except OSError as exc:  # the stored file went missing or unreadable
                    raise DesignFailed.unreadable(spec, exc) from exc
                except TwinError as exc:
                    raise DesignFailed(spec, str(exc)) from exc
        except DesignFailed as exc:
            failed.append(variant_failure(variant, exc))
        else:
            kept.append(variant)
    db.builds.update(build, reading="")
    return dataclasses.replace(scene, variants=tuple(kept)), failed


def variant_summary(scene: Any, out: Path) -> list[str]:
    """One log line per variant the build wrote, in the planner's names: designs and files, what changed."""
    path = out / "scene.json"
    if not path.exists():
        return []
    files = {(v.id, d.id): design_file(d) for v in scene.variants for d in v.designs}
    lines = []
    for v in json.loads(path.read_text()).get("variants") or []:
        designs = ", ".join(
            f"{d.get('title')!r} ({files.get((v.get('id'), d.get('id')), '?')})" for d in v.get("designs") or []
        )
        lines.append(
            f"variant {v.get('title')!r}: {designs or 'no designs'}; removes {len(v.get('removed') or [])} "
            f"building(s), {len(v.get('partial') or [])} overlapping stay; {v.get('tiles_changed', 0)} tile(s) changed"
        )
    return lines


def record_failed_variants(db: Database, build: str, out: Path, failed: list[dict[str, Any]]) -> str:
    """Add ``failed`` variants to the build's scene.json and report.json, log them; returns the build's note.

    The builder records the variants that failed inside it (``variants_failed`` in report.json); the ones the
    sandbox check held back are added here, so both files list every failed variant once.
    """
    docs = {}
    for name in ("scene.json", "report.json"):
        path = out / name
        docs[name] = json.loads(path.read_text()) if path.exists() else None
    built = (docs["report.json"] or {}).get("variants_failed") or (docs["scene.json"] or {}).get("variants_failed")
    everything = list(failed) + [f for f in built or [] if f.get("id") not in {g["id"] for g in failed}]
    if not everything:
        return ""
    for name, doc in docs.items():
        if doc is not None:
            doc["variants_failed"] = everything
            write_json_atomic(out / name, doc)
    for f in failed:  # the builder logged its own
        db.builds.append_log(build, f"{time.strftime('%H:%M:%S')} WARNING {failure_message(f)}")
    return "; ".join(failure_message(f) for f in everything)


def _reading(scene: Any, stage: str) -> str:
    """The files the builder reads in ``stage`` (what a crash report names)."""
    if stage == "read":
        return ", ".join(Path(s.path).name for s in scene.sources)
    if stage == "variants":
        return ", ".join(design_file(d) for v in scene.variants for d in v.designs)
    return ""


def load_builder(spec: str) -> Callable[..., Any]:
    """The build function named by ``module:function`` or ``path/to/file.py:function``."""
    module, _, func = spec.rpartition(":")
    if module.endswith(".py"):
        loaded = importlib.util.spec_from_file_location(Path(module).stem, module)
        if loaded is None or loaded.loader is None:
            raise ManifestError(f"builder {spec!r}: cannot load {module}")
        mod = importlib.util.module_from_spec(loaded)
        loaded.loader.exec_module(mod)
    else:
        mod = importlib.import_module(module)
    builder: Callable[..., Any] = getattr(mod, func)
    return builder


def _try_lock(lock: Any) -> bool:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _older_live(db: Database, row: dict[str, Any]) -> bool:
    """True while an older queued or running build of the same scene has a live worker."""
    return any(
        b["scene"] == row["scene"] and (b["created"], b["id"]) < (row["created"], row["id"]) and _alive(b["pid"])
        for b in db.builds.live()
    )


class _DbLog(logging.Handler):
    """Appends the builder's log records to the build's log column."""

    def __init__(self, db: Database, build: str) -> None:
        super().__init__(logging.INFO)
        self.db, self.build = db, build
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.db.builds.append_log(self.build, self.format(record))
        except Exception:  # logging must never stop a build
            self.handleError(record)


class _Poll:
    """Throttled progress writes and cancel polls of one build."""

    def __init__(self, db: Database, build: str, scene: Any) -> None:
        self.db, self.build, self.scene = db, build, scene
        self.stage = ""
        self.last_progress = self.last_cancel = 0.0
        self.cancelled = False

    def progress(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        fields: dict[str, Any] = {}
        if stage != self.stage:
            self.db.builds.append_log(self.build, f"{time.strftime('%H:%M:%S')} stage {stage}")
            fields["reading"] = _reading(self.scene, stage)
        elif now - self.last_progress < PROGRESS_INTERVAL:
            return
        self.last_progress, self.stage = now, stage
        self.db.builds.update(self.build, stage=stage, progress=max(0.0, min(1.0, float(fraction))), **fields)

    def cancel(self) -> bool:
        now = time.monotonic()
        if not self.cancelled and now - self.last_cancel >= CANCEL_INTERVAL:
            self.last_cancel = now
            self.cancelled = self.db.builds.cancel_requested(self.build)
        return self.cancelled


def run_build(settings: Settings, build: str) -> str:
    """The worker's body: wait for the scene lock, build, record the outcome; returns the final state."""
    db = Database(settings.database)
    store = SceneStore(settings.data_dir)
    row = db.builds.get(build)
    scene = row["scene"]
    store.scene_dir(scene).mkdir(parents=True, exist_ok=True)
    lock = open(store.scene_dir(scene) / "build.lock", "a+")  # noqa: SIM115 - held until the process exits
    waited = False
    while True:
        # First come, first served: wait for older live builds of this scene, then for the lock itself.
        if not _older_live(db, row) and _try_lock(lock):
            break
        if db.builds.cancel_requested(build):
            db.builds.finish(build, "cancelled", "cancelled while waiting")
            return "cancelled"
        if not waited:
            db.builds.append_log(build, "waiting for another build of this scene to finish")
            waited = True
        time.sleep(0.2)
    db.builds.update(build, state="running", started=time.time(), pid=os.getpid(), stage="prepare")
    out = store.build_dir(scene, build)
    handler = _DbLog(db, build)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    try:
        builder = load_builder(settings.builder)
        spec, unplaced = scene_for_build(db, settings.data_dir, scene)
        spec, failed = check_designs(settings, db, build, spec)
        failed = unplaced + failed
        poll = _Poll(db, build, spec)
        progress, cancel = poll.progress, poll.cancel
        published = store.published(scene)
        result = builder(
            spec,
            out,
            # Blobs stay in the build folder (blob_dir=None): URIs in tileset.json are relative to the blob
            # folder, and only out/blobs keeps them inside the public /tiles/<scene>/ tree.
            blob_dir=None,
            jobs=settings.build_jobs,
            progress=progress,
            cancel=cancel,
            previous=store.build_dir(scene, published) if published else None,
        )
        if cancel() or db.builds.cancel_requested(build):
            raise _Cancelled
        if not store.is_complete(scene, build):
            raise ManifestError("the builder finished without writing tileset.json and scene.json")
        summary = getattr(getattr(result, "report", None), "summary", None)
        if callable(summary):
            db.builds.append_log(build, summary())
        for line in variant_summary(spec, out):
            db.builds.append_log(build, line)
        # A variant whose design failed is left out; the build succeeds and its status says which and why.
        note = record_failed_variants(db, build, out, failed)
        db.builds.update(build, stage="done", progress=1.0)
        db.builds.finish(build, "succeeded", note)
        return "succeeded"
    except _Cancelled:
        state, error = "cancelled", "cancelled by a planner"
    except TwinError as exc:
        state, error = ("cancelled", str(exc)) if db.builds.cancel_requested(build) else ("failed", str(exc))
    except Exception as exc:  # a bug in the builder: keep the traceback for the planner and for us
        db.builds.append_log(build, traceback.format_exc())
        state, error = "failed", f"{type(exc).__name__}: {exc}"
    finally:
        logging.getLogger().removeHandler(handler)
    shutil.rmtree(out, ignore_errors=True)
    db.builds.append_log(build, f"{state}: {error}")
    db.builds.finish(build, state, error)
    return state


class _Cancelled(Exception):
    pass


def main(argv: list[str]) -> int:
    """Entry point of the worker process: ``python -m server.jobs <settings-json> <build>``."""
    settings = Settings(**json.loads(argv[0]))
    state = run_build(settings, argv[1])
    return 0 if state == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
