"""The scene store on disk: immutable build folders and one published pointer per scene.

Layout under ``<data_dir>/scenes/<scene>/``::

    builds/<build>/      one complete build folder (tileset.json, variants/, blobs/, scene.json, ...)
    blobs/               one copy of each imported blob, hard-linked into the build folders (saves disk)
    public-blobs/        hard links to every blob ever published (old tilesets keep loading after a publish)
    published.json       {"build": "<build>", "published": <unix time>}, replaced by an atomic rename

A build folder is never changed once its build succeeded, so every file under it can be cached forever by
path; publishing only swaps the pointer. Readers see the old build or the new one, never a mix: the new
folder is complete (and its JSON precompressed) before the pointer names it, and a crash before the rename
leaves the old pointer in place.

With ``TWIN_STORE_URL`` (:attr:`SceneStore.objects`) the published scenes live on an object store under the
same keys (``<scene>/builds/<build>/...``, ``<scene>/public-blobs/...``, ``<scene>/published.json``). The
local folder stays the builder's work area and the home of drafts (their bytes never reach the bucket);
:meth:`SceneStore.publish` uploads the build in a reader-safe order (:func:`twin.storage.upload_folder`),
then its blobs to ``public-blobs/``, and only then puts the pointer object, so the object store keeps the
same promise: the old build or the new one, never a mix, and a failed upload leaves the old pointer.
"""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import brotli

from twin.errors import Conflict, NotFound, StoreError
from twin.storage import ObjectStorage, download_folder, open_url, upload_folder
from twin.store import write_atomic

#: Names of scenes, variants, designs and builds: they become path segments, so no dots or slashes.
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
NAME_PATTERN = NAME_RE.pattern

#: JSON files at or above this size get .gz and .br siblings at publish time.
PRECOMPRESS_MIN_BYTES = 512


def check_name(kind: str, name: str) -> str:
    """``name`` if it is a safe path segment, else :class:`NotFound` (unknown names are simply absent)."""
    if not NAME_RE.match(name):
        raise NotFound(f"{kind} {name!r} not found")
    return name


def _replace_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a uniquely named temp file, fsync and rename: all or nothing.

    The temp name is unique per call (``tempfile.mkstemp``), so threads and processes writing the same file
    at once each rename a whole file of their own; the last rename wins.
    """
    write_atomic(path, data)


_THREAD_LOCKS: dict[Path, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


@contextmanager
def scene_lock(scene_dir: Path) -> Iterator[None]:
    """Hold the scene's write lock: a thread lock within this process and ``flock`` across processes.

    Publishing and precompression of one scene run one at a time, whichever worker process serves them.
    """
    scene_dir.mkdir(parents=True, exist_ok=True)
    with _THREAD_LOCKS_GUARD:
        lock = _THREAD_LOCKS.setdefault(scene_dir, threading.Lock())
    with lock, open(scene_dir / ".lock", "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def precompress(folder: Path) -> int:
    """Write ``.gz`` and ``.br`` next to every JSON file of a build folder that lacks them; returns a count.

    Done once at publish time so the tile server never compresses per request.
    """
    n = 0
    for path in sorted(folder.rglob("*")):
        if path.suffix not in (".json", ".geojson") or not path.is_file():
            continue
        data = path.read_bytes()
        if len(data) < PRECOMPRESS_MIN_BYTES:
            continue
        for suffix, pack in (
            (".gz", lambda b: gzip.compress(b, 9, mtime=0)),
            (".br", lambda b: brotli.compress(b, quality=9)),
        ):
            target = path.with_name(path.name + suffix)
            if not target.exists():
                _replace_atomic(target, pack(data))
                n += 1
    return n


class SceneStore:
    """Build folders and published pointers under ``<data_dir>/scenes``, or on ``objects`` once published."""

    def __init__(self, data_dir: Path, objects: ObjectStorage | None = None) -> None:
        self.root = Path(data_dir) / "scenes"
        self.root.mkdir(parents=True, exist_ok=True)
        #: The object store of published scenes (None: the directory is the store).
        self.objects = objects

    @classmethod
    def from_settings(cls, settings: Any) -> SceneStore:
        """The store ``settings`` name: ``data_dir``, plus the object store of ``store_url`` if set."""
        url = getattr(settings, "store_url", None)
        objects = ObjectStorage(url, getattr(settings, "s3_endpoint", None)) if url else None
        return cls(settings.data_dir, objects)

    def scene_dir(self, scene: str) -> Path:
        """``<data_dir>/scenes/<scene>``."""
        return self.root / check_name("scene", scene)

    def blob_dir(self, scene: str) -> Path:
        """One copy of each blob imported for ``scene`` (build folders hold hard links; never served)."""
        return self.scene_dir(scene) / "blobs"

    def build_dir(self, scene: str, build: str) -> Path:
        """The folder of one build (it may not exist yet)."""
        return self.scene_dir(scene) / "builds" / check_name("build", build)

    def pointer(self, scene: str) -> Path:
        """The published pointer file of ``scene``."""
        return self.scene_dir(scene) / "published.json"

    def published(self, scene: str) -> str | None:
        """The id of the published build of ``scene``, or None."""
        try:
            raw = (
                self.objects.get(f"{check_name('scene', scene)}/published.json")
                if self.objects is not None
                else self.pointer(scene).read_bytes()
            )
            data = json.loads(raw)
        except (FileNotFoundError, NotFound):
            return None
        except (OSError, ValueError) as exc:
            raise StoreError(f"published pointer of scene {scene!r} unreadable: {exc}") from exc
        build = data.get("build")
        return build if isinstance(build, str) and NAME_RE.match(build) else None

    def published_scenes(self) -> list[str]:
        """Ids of all scenes that have a published build, sorted."""
        if self.objects is not None:
            names = [s for s in self.objects.folders() if NAME_RE.match(s)]
            return [s for s in names if self.objects.size(f"{s}/published.json") is not None]
        return sorted(p.parent.name for p in self.root.glob("*/published.json") if NAME_RE.match(p.parent.name))

    def scene_info(self, scene: str, build: str) -> dict[str, Any]:
        """The ``scene.json`` of a build."""
        path = self.build_dir(scene, build) / "scene.json"
        try:
            if self.objects is not None and not path.is_file():
                info = json.loads(self.objects.get(f"{scene}/builds/{build}/scene.json"))
            else:
                info = json.loads(path.read_bytes())
        except FileNotFoundError as exc:
            raise NotFound(f"build {build!r} of scene {scene!r} has no scene.json") from exc
        except ValueError as exc:
            raise StoreError(f"{path}: not JSON: {exc}") from exc
        if not isinstance(info, dict):
            raise StoreError(f"{path}: not a JSON object")
        return info

    def is_complete(self, scene: str, build: str) -> bool:
        """True if the build folder holds a tileset.json and a scene.json (written last by the builder)."""
        d = self.build_dir(scene, build)
        if (d / "tileset.json").is_file() and (d / "scene.json").is_file():
            return True
        # On the object store scene.json is uploaded last: its presence means the whole build is there.
        return self.objects is not None and self.objects.size(f"{scene}/builds/{build}/scene.json") is not None

    def publish(self, scene: str, build: str) -> None:
        """Make ``build`` the published version of ``scene``: precompress, then swap the pointer."""
        if not self.is_complete(scene, build):
            raise Conflict(f"build {build!r} of scene {scene!r} is not complete and cannot be published")
        folder = self.build_dir(scene, build)
        with scene_lock(self.scene_dir(scene)):
            body = json.dumps({"build": build, "published": time.time()}).encode()
            if self.objects is not None:
                self._publish_objects(scene, build, folder, body)
                return
            precompress(folder)
            self._keep_public_blobs(scene, folder)
            _replace_atomic(self.pointer(scene), body)

    def _publish_objects(self, scene: str, build: str, folder: Path, pointer: bytes) -> None:
        """Upload the build (unless it is there already), then its blobs to public-blobs/, then the pointer."""
        assert self.objects is not None
        prefix = f"{scene}/builds/{build}"
        if folder.is_dir():
            precompress(folder)
            if self.objects.size(f"{prefix}/scene.json") is None:
                upload_folder(folder, self.objects, prefix)
        blobs = [k for k in self.objects.keys(f"{prefix}/blobs") if k.endswith(".glb")]
        public = set(self.objects.keys(f"{scene}/public-blobs"))
        for key in blobs:
            target = f"{scene}/public-blobs/{key.rpartition('/')[2]}"
            if target not in public:
                local = folder / "blobs" / key.rpartition("/")[2]
                self.objects.put(target, local.read_bytes() if local.is_file() else self.objects.get(key))
        self.objects.put(f"{scene}/published.json", pointer)

    def public_blob_dir(self, scene: str) -> Path:
        """Every blob that was ever part of a published build of ``scene`` (hard links).

        Content-addressed blobs never change, so a viewer still holding the previous tileset.json keeps
        loading its tiles after a publish; blobs of drafts never land here, so drafts stay invisible.
        """
        return self.scene_dir(scene) / "public-blobs"

    def _keep_public_blobs(self, scene: str, folder: Path) -> None:
        target = self.public_blob_dir(scene)
        target.mkdir(parents=True, exist_ok=True)
        for blob in (folder / "blobs").glob("*.glb"):
            dst = target / blob.name
            if dst.exists():
                continue
            try:
                os.link(blob, dst)
            except FileExistsError:
                pass
            except OSError:
                shutil.copy2(blob, dst)

    def unpublish(self, scene: str) -> None:
        """Take ``scene`` off the public API; its builds stay on disk."""
        try:
            with scene_lock(self.scene_dir(scene)):
                if self.objects is not None:
                    key = f"{scene}/published.json"
                    if self.objects.size(key) is None:
                        raise FileNotFoundError(key)
                    self.objects.delete([key])
                    self.pointer(scene).unlink(missing_ok=True)
                else:
                    self.pointer(scene).unlink()
        except FileNotFoundError as exc:
            raise NotFound(f"scene {scene!r} is not published") from exc

    def remove_build(self, scene: str, build: str) -> None:
        """Delete a build folder (never the published one)."""
        if self.published(scene) == build:
            raise Conflict(f"build {build!r} is published; unpublish or publish another build first")
        shutil.rmtree(self.build_dir(scene, build), ignore_errors=True)
        if self.objects is not None:
            # scene.json first: a half-deleted build is an incomplete one, never a broken published one.
            prefix = f"{check_name('scene', scene)}/builds/{build}"
            self.objects.delete([f"{prefix}/scene.json"])
            self.objects.delete(list(self.objects.keys(prefix)))

    def import_folder(self, scene: str, build: str, folder: Path | str) -> Path:
        """Copy a build folder made elsewhere (``twin build``, a path or an ``s3://`` URL) into the store.

        Blobs go to the scene's shared blob folder (hard links into the build folder where the file system
        allows, copies otherwise); the copy lands under a temp name and is renamed into place when complete.
        """
        if isinstance(folder, str) and "://" in folder:
            return self._import_url(scene, build, folder)
        folder = Path(folder)
        if not (folder / "tileset.json").is_file() or not (folder / "scene.json").is_file():
            raise NotFound(f"{folder} is not a build folder (needs tileset.json and scene.json)")
        target = self.build_dir(scene, build)
        if target.exists():
            raise Conflict(f"build {build!r} of scene {scene!r} exists")
        tmp = target.with_name(f".{build}.import")
        shutil.rmtree(tmp, ignore_errors=True)
        shared = self.blob_dir(scene)
        shared.mkdir(parents=True, exist_ok=True)

        def copy(src: str, dst: str) -> None:
            s = Path(src)
            if s.parent.name == "blobs":
                blob = shared / s.name
                if not blob.exists():
                    shutil.copy2(s, blob)
                try:
                    os.link(blob, dst)
                    return
                except OSError:
                    pass
            shutil.copy2(src, dst)

        shutil.copytree(folder, tmp, copy_function=copy)
        os.replace(tmp, target)
        return target

    def _import_url(self, scene: str, build: str, url: str) -> Path:
        """Download a build folder from an object store URL, then import it like a local one."""
        storage, prefix = open_url(url)
        tmp = self.scene_dir(scene) / f".{check_name('build', build)}.download"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            if download_folder(storage, prefix, tmp) == 0:
                raise NotFound(f"{url} holds no files")
            return self.import_folder(scene, build, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
